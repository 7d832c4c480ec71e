#include "preserve/timestamp/time_stamp.h"

#include <openssl/ess.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>

#include "preserve/util/openssl_ptr.h"

namespace preserve::timestamp {

namespace {

using EssSigningCertPtr = std::unique_ptr<ESS_SIGNING_CERT, OpenSslFree<ESS_SIGNING_CERT_free>>;
using EssSigningCertV2Ptr = std::unique_ptr<ESS_SIGNING_CERT_V2, OpenSslFree<ESS_SIGNING_CERT_V2_free>>;
using ExtendedKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, OpenSslFree<EXTENDED_KEY_USAGE_free>>;
struct OpenSslBufferFree {
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};
using OpenSslBufferPtr = std::unique_ptr<unsigned char, OpenSslBufferFree>;

constexpr int kNonceBits = 64;

Status OutOfMemory(const std::string& what) { return Status::Internal(OpenSslFailure(what)); }

std::string ObjectText(const ASN1_OBJECT* obj) {
  int length = OBJ_obj2txt(nullptr, 0, obj, 1);
  if (length <= 0) return "";
  std::string text(static_cast<std::size_t>(length) + 1, '\0');
  OBJ_obj2txt(text.data(), length + 1, obj, 1);
  text.resize(static_cast<std::size_t>(length));
  return text;
}

Bytes StringBytes(const ASN1_STRING* s) {
  const unsigned char* data = ASN1_STRING_get0_data(s);
  return Bytes(data, data + ASN1_STRING_length(s));
}

// The integer's magnitude, big-endian, without leading zero bytes.
Result<Bytes> IntegerBytes(const ASN1_INTEGER* integer) {
  BignumPtr bn(ASN1_INTEGER_to_BN(integer, nullptr));
  if (!bn) return OutOfMemory("ASN1_INTEGER_to_BN");
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

Result<std::string> IntegerHex(const ASN1_INTEGER* integer) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes magnitude, IntegerBytes(integer));
  std::string sign = ASN1_STRING_type(integer) == V_ASN1_NEG_INTEGER ? "-" : "";
  return sign + (magnitude.empty() ? "00" : ToHex(magnitude));
}

Result<TimePoint> ToTimePoint(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return Status::Corruption(OpenSslFailure("unreadable time"));
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

std::string KeyTypeName(int pkey_id) {
  switch (pkey_id) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return "RSA";
    case EVP_PKEY_EC:
      return "ECDSA";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    default: {
      const char* name = OBJ_nid2sn(pkey_id);
      return name != nullptr ? name : "unknown";
    }
  }
}

Result<X509Ptr> CertificateFromDer(ByteView der, const std::string& what) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Status::InvalidArgument(OpenSslFailure(what + " is not a DER certificate"));
  return cert;
}

// A token taken apart. The raw pointers point into `pkcs7`.
struct ParsedToken {
  Pkcs7Ptr pkcs7;
  TsTstInfoPtr tst_info;
  PKCS7_SIGNER_INFO* signer_info = nullptr;
  X509* signer = nullptr;  // nullptr when the token does not carry its signer's certificate
  TokenInfo info;
};

// The SignedData's certificates; nullptr when it has none.
STACK_OF(X509) * TokenCertificates(const PKCS7* pkcs7) { return pkcs7->d.sign->cert; }

void DescribeSignerKey(X509* signer, TokenInfo& info) {
  info.tsa_certificate = ToDer(i2d_X509, signer);
  if (EVP_PKEY* key = X509_get0_pubkey(signer)) {
    info.signature_algorithm = KeyTypeName(EVP_PKEY_get_base_id(key));
    info.signature_key_bits = EVP_PKEY_get_bits(key);
  }
  ERR_clear_error();  // an unsupported key type is reported as no type, not as an error
}

// Without the signer's certificate only the key type, not its size, is known:
// from the SignerInfo's signature algorithm.
void DescribeSignerAlgorithm(PKCS7_SIGNER_INFO* signer_info, TokenInfo& info) {
  X509_ALGOR* signature_alg = nullptr;
  PKCS7_SIGNER_INFO_get0_algs(signer_info, nullptr, nullptr, &signature_alg);
  int nid = OBJ_obj2nid(signature_alg->algorithm);
  // A combined OID (ecdsa-with-SHA256) names its key type; a bare one (rsaEncryption) is the key type.
  int digest_nid = NID_undef;
  int pkey_nid = NID_undef;
  if (OBJ_find_sigid_algs(nid, &digest_nid, &pkey_nid) != 1) pkey_nid = nid;
  info.signature_algorithm = KeyTypeName(pkey_nid);
}

Result<ParsedToken> Parse(ByteView der) {
  if (der.empty()) return Status::InvalidArgument("time-stamp token is empty");
  const unsigned char* p = der.data();
  Pkcs7Ptr pkcs7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!pkcs7) return Status::Corruption(OpenSslFailure("time-stamp token is not a DER CMS ContentInfo"));
  if (p != der.data() + der.size())
    return Status::Corruption("time-stamp token has " + std::to_string(der.data() + der.size() - p) +
                              " bytes after its end");
  if (!PKCS7_type_is_signed(pkcs7.get())) return Status::Corruption("time-stamp token is not a CMS SignedData");
  TsTstInfoPtr tst_info(PKCS7_to_TS_TST_INFO(pkcs7.get()));
  if (!tst_info) return Status::Corruption(OpenSslFailure("time-stamp token does not hold a TSTInfo"));
  STACK_OF(PKCS7_SIGNER_INFO)* signer_infos = PKCS7_get_signer_info(pkcs7.get());
  if (sk_PKCS7_SIGNER_INFO_num(signer_infos) != 1)
    return Status::Corruption("time-stamp token must have exactly one SignerInfo, it has " +
                              std::to_string(sk_PKCS7_SIGNER_INFO_num(signer_infos)));

  ParsedToken token;
  token.signer_info = sk_PKCS7_SIGNER_INFO_value(signer_infos, 0);
  TokenInfo& info = token.info;
  TS_MSG_IMPRINT* msg_imprint = TS_TST_INFO_get_msg_imprint(tst_info.get());
  X509_ALGOR* imprint_alg = TS_MSG_IMPRINT_get_algo(msg_imprint);
  std::string imprint_oid = ObjectText(imprint_alg->algorithm);
  auto alg = HashAlgorithmFromOid(imprint_oid);
  if (!alg.ok()) return Status::Corruption("time-stamp token imprint uses an unknown hash algorithm " + imprint_oid);
  if (imprint_alg->parameter != nullptr && ASN1_TYPE_get(imprint_alg->parameter) != V_ASN1_NULL)
    return Status::Corruption("time-stamp token imprint algorithm has unexpected parameters");
  info.imprint_algorithm = *alg;
  info.imprint = StringBytes(TS_MSG_IMPRINT_get_msg(msg_imprint));
  PRESERVE_ASSIGN_OR_RETURN(info.gen_time, ToTimePoint(TS_TST_INFO_get_time(tst_info.get())));
  info.policy_oid = ObjectText(TS_TST_INFO_get_policy_id(tst_info.get()));
  PRESERVE_ASSIGN_OR_RETURN(info.serial_hex, IntegerHex(TS_TST_INFO_get_serial(tst_info.get())));
  if (const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst_info.get())) {
    PRESERVE_ASSIGN_OR_RETURN(info.nonce, IntegerBytes(nonce));
  }

  STACK_OF(X509)* certs = TokenCertificates(pkcs7.get());
  for (int i = 0; i < sk_X509_num(certs); ++i) info.certificates.push_back(ToDer(i2d_X509, sk_X509_value(certs, i)));
  PKCS7_ISSUER_AND_SERIAL* signer_id = token.signer_info->issuer_and_serial;
  token.signer = X509_find_by_issuer_and_serial(certs, signer_id->issuer, signer_id->serial);
  X509_ALGOR* digest_alg = nullptr;
  PKCS7_SIGNER_INFO_get0_algs(token.signer_info, nullptr, &digest_alg, nullptr);
  std::string digest_oid = ObjectText(digest_alg->algorithm);
  auto digest = HashAlgorithmFromOid(digest_oid);
  info.signature_digest = digest.ok() ? std::string(HashAlgorithmName(*digest)) : digest_oid;

  if (token.signer != nullptr) {
    DescribeSignerKey(token.signer, info);
  } else {
    DescribeSignerAlgorithm(token.signer_info, info);
  }
  token.pkcs7 = std::move(pkcs7);
  token.tst_info = std::move(tst_info);
  return token;
}

// Certificates from DER, as an OpenSSL stack.
Result<X509StackPtr> CertificateStack(const std::vector<Bytes>& ders, const std::string& what) {
  X509StackPtr stack(sk_X509_new_null());
  if (!stack) return OutOfMemory("sk_X509_new_null");
  for (std::size_t i = 0; i < ders.size(); ++i) {
    PRESERVE_ASSIGN_OR_RETURN(X509Ptr cert, CertificateFromDer(ders[i], what + " " + std::to_string(i + 1)));
    if (sk_X509_push(stack.get(), cert.get()) <= 0) return OutOfMemory("sk_X509_push");
    cert.release();  // the stack owns it now
  }
  return stack;
}

Status AddCertificates(STACK_OF(X509) * to, STACK_OF(X509) * from) {
  if (from != nullptr && X509_add_certs(to, from, X509_ADD_FLAG_UP_REF) != 1) return OutOfMemory("X509_add_certs");
  return Status::Ok();
}

std::string SubjectOf(X509* cert) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) return "?";
  return ToString(BioContents(out.get()));
}

// A signed attribute decoded; an empty pointer when the SignerInfo lacks it.
template <typename Ptr, typename T>
Result<Ptr> DecodeAttribute(const PKCS7_SIGNER_INFO* si, int nid, T* (*d2i)(T**, const unsigned char**, long)) {
  ASN1_TYPE* attribute = PKCS7_get_signed_attribute(si, nid);
  if (attribute == nullptr) return Ptr();
  if (ASN1_TYPE_get(attribute) != V_ASN1_SEQUENCE)
    return Status::Corruption(std::string("time-stamp token's ") + OBJ_nid2ln(nid) + " attribute is not a SEQUENCE");
  const unsigned char* p = attribute->value.sequence->data;
  Ptr decoded(d2i(nullptr, &p, attribute->value.sequence->length));
  if (!decoded)
    return Status::Corruption(OpenSslFailure(std::string("time-stamp token's ") + OBJ_nid2ln(nid) + " attribute"));
  return decoded;
}

// RFC 2634 / RFC 5816: the signed attribute naming the signer's certificate
// by hash must name this certificate, so it cannot be swapped for another one
// with the same key.
Status CheckSigningCertificateBinding(const ParsedToken& token, X509* signer, STACK_OF(X509) * others) {
  PRESERVE_ASSIGN_OR_RETURN(
      EssSigningCertPtr signing_cert,
      DecodeAttribute<EssSigningCertPtr>(token.signer_info, NID_id_smime_aa_signingCertificate, d2i_ESS_SIGNING_CERT));
  PRESERVE_ASSIGN_OR_RETURN(EssSigningCertV2Ptr signing_cert_v2,
                            DecodeAttribute<EssSigningCertV2Ptr>(
                                token.signer_info, NID_id_smime_aa_signingCertificateV2, d2i_ESS_SIGNING_CERT_V2));
  if (!signing_cert && !signing_cert_v2)
    return Status::Corruption("time-stamp token has no ESSCertID/ESSCertIDv2 signing-certificate attribute");
  // The signer comes first: OpenSSL requires the first ESSCertID to match it.
  X509StackPtr chain(sk_X509_new_null());
  if (!chain || X509_add_cert(chain.get(), signer, X509_ADD_FLAG_UP_REF) != 1) return OutOfMemory("X509_add_cert");
  PRESERVE_RETURN_IF_ERROR(AddCertificates(chain.get(), others));
  if (OSSL_ESS_check_signing_certs(signing_cert.get(), signing_cert_v2.get(), chain.get(), 1) <= 0)
    return Status::Corruption(
        OpenSslFailure("time-stamp token's ESSCertID/ESSCertIDv2 does not match the TSA certificate"));
  return Status::Ok();
}

Status CheckSignature(const ParsedToken& token, X509* signer) {
  BioPtr content(PKCS7_dataInit(token.pkcs7.get(), nullptr));
  if (!content) return Status::Corruption(OpenSslFailure("time-stamp token content unreadable"));
  std::array<char, 4096> buffer;
  // Reading the content through the BIO chain is what computes its digest.
  while (BIO_read(content.get(), buffer.data(), static_cast<int>(buffer.size())) > 0) {
  }
  if (PKCS7_signatureVerify(content.get(), token.pkcs7.get(), token.signer_info, signer) != 1)
    return Status::Corruption(OpenSslFailure("time-stamp token signature does not verify"));
  return Status::Ok();
}

// RFC 3161 2.3: the TSA certificate has exactly one, critical, extended key
// usage: id-kp-timeStamping.
Status CheckTimeStampingUsage(X509* signer) {
  int critical = -1;
  ExtendedKeyUsagePtr usage(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(signer, NID_ext_key_usage, &critical, nullptr)));
  ERR_clear_error();
  std::string subject = SubjectOf(signer);
  if (critical == -1) return Status::FailedPrecondition("TSA certificate " + subject + " has no extendedKeyUsage");
  if (!usage) return Status::FailedPrecondition("TSA certificate " + subject + " has a malformed extendedKeyUsage");
  if (critical == 0)
    return Status::FailedPrecondition("TSA certificate " + subject + ": extendedKeyUsage is not marked critical");
  if (sk_ASN1_OBJECT_num(usage.get()) != 1 || OBJ_obj2nid(sk_ASN1_OBJECT_value(usage.get(), 0)) != NID_time_stamp)
    return Status::FailedPrecondition("TSA certificate " + subject +
                                      ": extendedKeyUsage must be id-kp-timeStamping only");
  return Status::Ok();
}

Result<X509StorePtr> TrustStore(const std::vector<Bytes>& anchors, TimePoint at) {
  if (anchors.empty()) return Status::FailedPrecondition("no trust anchor given for the TSA certificate");
  X509StorePtr store(X509_STORE_new());
  if (!store) return OutOfMemory("X509_STORE_new");
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    PRESERVE_ASSIGN_OR_RETURN(X509Ptr anchor, CertificateFromDer(anchors[i], "trust anchor " + std::to_string(i + 1)));
    if (X509_STORE_add_cert(store.get(), anchor.get()) != 1) return OutOfMemory("X509_STORE_add_cert");
  }
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at.time_since_epoch().count()));
  // A configured anchor is trusted as given, self-signed or not (RFC 5280 6.1.1).
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  return store;
}

Status CheckPath(X509_STORE* store, X509* signer, STACK_OF(X509) * untrusted, TimePoint at) {
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, signer, untrusted) != 1) return OutOfMemory("X509_STORE_CTX_init");
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_TIMESTAMP_SIGN);
  if (X509_verify_cert(ctx.get()) == 1) return Status::Ok();
  ERR_clear_error();
  int error = X509_STORE_CTX_get_error(ctx.get());
  X509* failed = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string where = failed != nullptr && failed != signer ? " (at " + SubjectOf(failed) + ")" : "";
  return Status::FailedPrecondition("TSA certificate not valid at " + FormatUtcTime(at) + ": " +
                                    X509_verify_cert_error_string(error) + where);
}

// OpenSSL's own RFC 3161 verification, over everything checked above.
Status VerifyWithOpenSsl(const ParsedToken& token, ByteView imprint, X509StorePtr store, X509StackPtr untrusted) {
  TsVerifyCtxPtr ctx(TS_VERIFY_CTX_new());
  OpenSslBufferPtr expected(static_cast<unsigned char*>(OPENSSL_memdup(imprint.data(), imprint.size())));
  if (!ctx || !expected) return OutOfMemory("TS_VERIFY_CTX_new");
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_SIGNER);
  // OpenSSL 3.0: the set calls take ownership; TS_VERIFY_CTX_free frees them.
  TS_VERIFY_CTX_set_imprint(ctx.get(), expected.release(), static_cast<long>(imprint.size()));
  TS_VERIFY_CTX_set_store(ctx.get(), store.release());
  TS_VERIFY_CTX_set_certs(ctx.get(), untrusted.release());
  if (TS_RESP_verify_token(ctx.get(), token.pkcs7.get()) != 1)
    return Status::Corruption(OpenSslFailure("time-stamp token fails OpenSSL's RFC 3161 verification"));
  return Status::Ok();
}

Result<Asn1IntegerPtr> RandomNonce() {
  BignumPtr bn(BN_new());
  if (!bn || BN_rand(bn.get(), kNonceBits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1)
    return Status::Internal(OpenSslFailure("cannot draw a random nonce"));
  Asn1IntegerPtr nonce(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!nonce) return OutOfMemory("BN_to_ASN1_INTEGER");
  return nonce;
}

Result<Bytes> BuildRequest(HashAlgorithm alg, ByteView imprint, const ASN1_INTEGER* nonce, const ASN1_OBJECT* policy) {
  TsReqPtr request(TS_REQ_new());
  TsMsgImprintPtr msg_imprint(TS_MSG_IMPRINT_new());
  X509AlgorPtr algorithm(X509_ALGOR_new());
  Asn1ObjectPtr algorithm_oid(OBJ_txt2obj(std::string(HashAlgorithmOid(alg)).c_str(), 1));
  if (!request || !msg_imprint || !algorithm || !algorithm_oid) return OutOfMemory("cannot allocate a TimeStampReq");
  // SHA-2 and SHA-3 AlgorithmIdentifiers are written with absent parameters (RFC 5754).
  if (X509_ALGOR_set0(algorithm.get(), algorithm_oid.get(), V_ASN1_UNDEF, nullptr) != 1)
    return OutOfMemory("X509_ALGOR_set0");
  algorithm_oid.release();  // the AlgorithmIdentifier owns it now
  if (TS_MSG_IMPRINT_set_algo(msg_imprint.get(), algorithm.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(msg_imprint.get(), const_cast<unsigned char*>(imprint.data()),
                             static_cast<int>(imprint.size())) != 1 ||
      TS_REQ_set_version(request.get(), 1) != 1 || TS_REQ_set_msg_imprint(request.get(), msg_imprint.get()) != 1 ||
      TS_REQ_set_nonce(request.get(), nonce) != 1 || TS_REQ_set_cert_req(request.get(), 1) != 1 ||
      (policy != nullptr && TS_REQ_set_policy_id(request.get(), policy) != 1))
    return OutOfMemory("cannot fill in the TimeStampReq");
  Bytes der = ToDer(i2d_TS_REQ, request.get());
  if (der.empty()) return Status::Internal(OpenSslFailure("i2d_TS_REQ"));
  return der;
}

constexpr std::array<std::pair<int, const char*>, 8> kFailureInfoNames = {{
    {TS_INFO_BAD_ALG, "badAlg"},
    {TS_INFO_BAD_REQUEST, "badRequest"},
    {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
    {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
    {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
    {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
    {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
    {TS_INFO_SYSTEM_FAILURE, "systemFailure"},
}};

std::string StatusName(long status) {
  static constexpr std::array<const char*, 6> kNames = {"granted", "grantedWithMods",   "rejection",
                                                        "waiting", "revocationWarning", "revocationNotification"};
  if (status >= 0 && status < static_cast<long>(kNames.size())) return kNames[static_cast<std::size_t>(status)];
  return "unknown status " + std::to_string(status);
}

// Only "granted" is accepted: grantedWithMods means the TSA changed the
// request in ways the client cannot vouch for.
Status CheckGranted(const TS_STATUS_INFO* status_info) {
  long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status_info));
  if (status == TS_STATUS_GRANTED) return Status::Ok();
  std::string message = "TSA answered " + StatusName(status);
  bool transient = status == TS_STATUS_WAITING;
  std::string failures;
  if (const ASN1_BIT_STRING* failure_info = TS_STATUS_INFO_get0_failure_info(status_info)) {
    for (const auto& [bit, name] : kFailureInfoNames) {
      if (ASN1_BIT_STRING_get_bit(failure_info, bit) != 1) continue;
      failures += (failures.empty() ? "" : ", ") + std::string(name);
      transient = transient || bit == TS_INFO_TIME_NOT_AVAILABLE || bit == TS_INFO_SYSTEM_FAILURE;
    }
  }
  if (!failures.empty()) message += " (" + failures + ")";
  const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(status_info);
  for (int i = 0; i < sk_ASN1_UTF8STRING_num(text); ++i)
    message += (i == 0 ? ": " : "; ") + ToString(StringBytes(sk_ASN1_UTF8STRING_value(text, i)));
  return transient ? Status::Unavailable(message) : Status::FailedPrecondition(message);
}

}  // namespace

Result<TokenInfo> ParseToken(ByteView token_der) {
  PRESERVE_ASSIGN_OR_RETURN(ParsedToken token, Parse(token_der));
  return std::move(token.info);
}

Result<Bytes> RequestTimeStamp(TsaTransport& transport, HashAlgorithm alg, ByteView imprint,
                               const RequestOptions& options) {
  if (imprint.size() != HashAlgorithmSize(alg))
    return Status::InvalidArgument("a " + std::string(HashAlgorithmName(alg)) + " imprint has " +
                                   std::to_string(HashAlgorithmSize(alg)) + " bytes, not " +
                                   std::to_string(imprint.size()));
  Asn1ObjectPtr policy;
  if (!options.policy_oid.empty()) {
    policy.reset(OBJ_txt2obj(options.policy_oid.c_str(), 1));
    if (!policy) return Status::InvalidArgument(OpenSslFailure("'" + options.policy_oid + "' is not an OID"));
  }
  PRESERVE_ASSIGN_OR_RETURN(Asn1IntegerPtr nonce, RandomNonce());
  PRESERVE_ASSIGN_OR_RETURN(Bytes request, BuildRequest(alg, imprint, nonce.get(), policy.get()));

  auto exchanged = transport.Exchange(request);
  if (!exchanged.ok()) return exchanged.status().WithContext("time-stamp request");
  const Bytes& response_der = exchanged.value();
  const unsigned char* p = response_der.data();
  TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
  if (!response) return Status::Corruption(OpenSslFailure("TSA answer is not a DER TimeStampResp"));
  if (p != response_der.data() + response_der.size())
    return Status::Corruption("TSA answer has bytes after its TimeStampResp");
  PRESERVE_RETURN_IF_ERROR(CheckGranted(TS_RESP_get_status_info(response.get())));
  PKCS7* token = TS_RESP_get_token(response.get());
  if (token == nullptr) return Status::Corruption("TSA granted the request but sent no token");

  Bytes token_der = ToDer(i2d_PKCS7, token);
  PRESERVE_ASSIGN_OR_RETURN(ParsedToken parsed, Parse(token_der));
  const TokenInfo& info = parsed.info;
  if (TS_TST_INFO_get_version(parsed.tst_info.get()) != 1)
    return Status::Corruption("TSA token has TSTInfo version " +
                              std::to_string(TS_TST_INFO_get_version(parsed.tst_info.get())));
  if (info.imprint_algorithm != alg)
    return Status::Corruption("TSA token imprint uses " + std::string(HashAlgorithmName(info.imprint_algorithm)) +
                              ", the request " + std::string(HashAlgorithmName(alg)));
  if (!std::equal(info.imprint.begin(), info.imprint.end(), imprint.begin(), imprint.end()))
    return Status::Corruption("TSA token imprint is not the one requested");
  const ASN1_INTEGER* token_nonce = TS_TST_INFO_get_nonce(parsed.tst_info.get());
  if (token_nonce == nullptr || ASN1_INTEGER_cmp(token_nonce, nonce.get()) != 0)
    return Status::Corruption("TSA token nonce is not the one requested (a replayed or misrouted answer)");
  if (!options.policy_oid.empty() && info.policy_oid != options.policy_oid)
    return Status::Corruption("TSA token policy " + info.policy_oid + " is not the requested " + options.policy_oid);
  return token_der;
}

Result<TokenInfo> VerifyToken(ByteView token_der, HashAlgorithm alg, ByteView imprint,
                              const TokenVerifyOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(ParsedToken token, Parse(token_der));
  TokenInfo& info = token.info;
  if (TS_TST_INFO_get_version(token.tst_info.get()) != 1)
    return Status::Corruption("time-stamp token has TSTInfo version " +
                              std::to_string(TS_TST_INFO_get_version(token.tst_info.get())));
  if (info.imprint_algorithm != alg)
    return Status::Corruption("time-stamp token imprint uses " +
                              std::string(HashAlgorithmName(info.imprint_algorithm)) + ", expected " +
                              std::string(HashAlgorithmName(alg)));
  if (!std::equal(info.imprint.begin(), info.imprint.end(), imprint.begin(), imprint.end()))
    return Status::Corruption("time-stamp token imprint " + ToHex(info.imprint) + " does not match the data (" +
                              ToHex(imprint) + ")");

  PRESERVE_ASSIGN_OR_RETURN(X509StackPtr untrusted, CertificateStack(options.intermediates, "intermediate"));
  X509* signer = token.signer;
  if (signer == nullptr) {
    // The token may leave its certificate out (certReq false); the caller may have it.
    PKCS7_ISSUER_AND_SERIAL* signer_id = token.signer_info->issuer_and_serial;
    signer = X509_find_by_issuer_and_serial(untrusted.get(), signer_id->issuer, signer_id->serial);
    if (signer == nullptr)
      return Status::FailedPrecondition("time-stamp token does not carry its TSA certificate, and none given matches");
    DescribeSignerKey(signer, info);
  }
  PRESERVE_RETURN_IF_ERROR(AddCertificates(untrusted.get(), TokenCertificates(token.pkcs7.get())));

  PRESERVE_RETURN_IF_ERROR(CheckSigningCertificateBinding(token, signer, untrusted.get()));
  PRESERVE_RETURN_IF_ERROR(CheckSignature(token, signer));
  PRESERVE_RETURN_IF_ERROR(CheckTimeStampingUsage(signer));
  TimePoint at = options.validation_time.value_or(info.gen_time);
  PRESERVE_ASSIGN_OR_RETURN(X509StorePtr store, TrustStore(options.trust_anchors, at));
  PRESERVE_RETURN_IF_ERROR(CheckPath(store.get(), signer, untrusted.get(), at));
  PRESERVE_RETURN_IF_ERROR(VerifyWithOpenSsl(token, imprint, std::move(store), std::move(untrusted)));
  return std::move(info);
}

}  // namespace preserve::timestamp
