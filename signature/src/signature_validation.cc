#include "preserve/signature/signature_validation.h"

#include <openssl/ess.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <string>
#include <utility>

#include "preserve/policy/algorithm_catalogue.h"
#include "preserve/timestamp/time_stamp.h"
#include "preserve/util/certificates.h"
#include "preserve/util/der.h"
#include "preserve/util/digest.h"
#include "preserve/util/openssl_ptr.h"
#include "prepared_trust.h"
#include "revocation.h"
#include "validation_time.h"

namespace preserve::signature {

namespace {

using internal::Asn1TimeToTimePoint;
using internal::SubjectText;
using EssSigningCertPtr = std::unique_ptr<ESS_SIGNING_CERT, OpenSslFree<ESS_SIGNING_CERT_free>>;
using EssSigningCertV2Ptr = std::unique_ptr<ESS_SIGNING_CERT_V2, OpenSslFree<ESS_SIGNING_CERT_V2_free>>;

constexpr std::string_view kClaimedTimeSource = "signing-time attribute (claimed)";
constexpr std::string_view kValidationTimeSource = "validation time (none in signature)";
// A claimed signing time this far past the signature time-stamp is worth a word.
constexpr std::chrono::minutes kClockSkew{5};

void Fail(SignatureReport& report, SubIndication s, std::string reason) {
  report.verdict = VerdictFor(s);
  report.sub_indication = s;
  report.reason = std::move(reason);
}

// The object's OpenSSL name ("pkcs7-data"), or its dotted OID when OpenSSL has none.
std::string ObjectText(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 0);
  return n > 0 ? std::string(buf, std::min(static_cast<std::size_t>(n), sizeof buf - 1)) : std::string("?");
}

std::string NameEntry(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return "";
  ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || ASN1_STRING_print_ex(out.get(), value, ASN1_STRFLGS_UTF8_CONVERT) < 0) {
    ERR_clear_error();
    return "";
  }
  return ToString(BioContents(out.get()));
}

std::string FormatAsn1Time(const ASN1_TIME* t) {
  std::optional<TimePoint> tp = Asn1TimeToTimePoint(t);
  return tp ? FormatUtcTime(*tp) : std::string("an unreadable date");
}

std::string DigestName(const X509_ALGOR* alg) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  switch (OBJ_obj2nid(obj)) {
    case NID_md5: return "MD5";
    case NID_sha1: return "SHA-1";
    case NID_sha224: return "SHA-224";
    case NID_sha256: return "SHA-256";
    case NID_sha384: return "SHA-384";
    case NID_sha512: return "SHA-512";
    case NID_sha3_256: return "SHA3-256";
    case NID_sha3_384: return "SHA3-384";
    case NID_sha3_512: return "SHA3-512";
    case NID_sm3: return "SM3";
    default: return ObjectText(obj);
  }
}

// The key algorithm behind a SignerInfo's signatureAlgorithm, which may name
// the key alone (rsaEncryption) or digest and key together (ecdsa-with-SHA256).
std::string SignatureAlgorithmName(const X509_ALGOR* alg) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  int nid = OBJ_obj2nid(obj);
  int key_nid = NID_undef;
  if (OBJ_find_sigid_algs(nid, nullptr, &key_nid) == 1 && key_nid != NID_undef) nid = key_nid;
  switch (nid) {
    case NID_rsaEncryption: return "RSA";
    case NID_rsassaPss: return "RSASSA-PSS";
    case NID_X9_62_id_ecPublicKey: return "ECDSA";
    case NID_dsa: return "DSA";
    case NID_ED25519: return "Ed25519";
    case NID_ED448: return "Ed448";
    default: return ObjectText(obj);
  }
}

// A DER ContentInfo of SignedData split in two: the same without its
// certificates field, and the certificates' DER, in order.
struct SplitSignedData {
  Bytes without_certificates;
  std::vector<ByteView> certificates;
};

// Signatures up to this size are split (copied whole, less the certificates);
// a larger one is enveloping content, whose copy would cost more than parsing.
constexpr std::size_t kMaxSplitBytes = 1u << 20;

// nullopt unless `der` is exactly a ContentInfo of SignedData, in definite
// lengths, whose certificates field holds plain certificates only.
std::optional<SplitSignedData> SplitCertificates(ByteView der) {
  if (der.size() > kMaxSplitBytes) return std::nullopt;
  // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
  der::Reader whole(der);
  std::optional<ByteView> info = whole.Read(der::kSequence);
  if (!info || !whole.empty()) return std::nullopt;
  der::Reader info_fields(*info);
  ByteView type;
  if (!info_fields.Read(der::kOid, &type)) return std::nullopt;
  std::optional<ByteView> wrapper = info_fields.Read(der::kContext0);
  if (!wrapper || !info_fields.empty()) return std::nullopt;
  der::Reader wrapped(*wrapper);
  std::optional<ByteView> signed_data = wrapped.Read(der::kSequence);
  if (!signed_data || !wrapped.empty()) return std::nullopt;

  // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
  //   certificates [0] IMPLICIT CertificateSet OPTIONAL, crls [1] ..., signerInfos }
  SplitSignedData out;
  Bytes fields;
  int index = 0;
  for (der::Reader in(*signed_data); !in.empty(); ++index) {
    std::optional<der::Element> field = in.Next();
    if (!field) return std::nullopt;
    if (!der::IsContext(field->tag, 0)) {
      fields.insert(fields.end(), field->whole.begin(), field->whole.end());
      continue;
    }
    if (index != 3 || field->tag != der::kContext0 || !out.certificates.empty()) return std::nullopt;
    for (der::Reader certs(field->content); !certs.empty();) {
      ByteView cert;
      // Anything but a Certificate (the other CertificateChoices) is left to OpenSSL.
      if (!certs.Read(der::kSequence, &cert)) return std::nullopt;
      out.certificates.push_back(cert);
    }
  }
  if (out.certificates.empty()) return std::nullopt;  // nothing to reuse
  Bytes signed_data_der;
  der::AppendTlv(signed_data_der, der::kSequence, fields);
  Bytes content(type.begin(), type.end());
  der::AppendTlv(content, der::kContext0, signed_data_der);
  der::AppendTlv(out.without_certificates, der::kSequence, content);
  return out;
}

// d2i_CMS_ContentInfo, but each certificate the SignedData carries is taken
// from `cache` when parsed before (and kept there when not): the same
// structure, for less than half the work when the certificates are known.
// Null when OpenSSL's own parse is needed (for its verdict on odd input).
CmsContentInfoPtr ParseCmsReusingCertificates(ByteView der, internal::CertificateCache& cache) {
  std::optional<SplitSignedData> split = SplitCertificates(der);
  if (!split) return nullptr;
  const unsigned char* p = split->without_certificates.data();
  CmsContentInfoPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(split->without_certificates.size())));
  if (!cms || p != split->without_certificates.data() + split->without_certificates.size()) {
    ERR_clear_error();
    return nullptr;
  }
  for (ByteView cert_der : split->certificates) {
    X509Ptr cert = cache.Find(cert_der);
    if (!cert) {
      const unsigned char* c = cert_der.data();
      cert.reset(d2i_X509(nullptr, &c, static_cast<long>(cert_der.size())));
      if (!cert || c != cert_der.data() + cert_der.size()) {
        ERR_clear_error();
        return nullptr;
      }
      cache.Add(cert_der, cert.get());
    }
    // Fails on a duplicate, which OpenSSL's own parse keeps.
    if (CMS_add1_cert(cms.get(), cert.get()) != 1) {
      ERR_clear_error();
      return nullptr;
    }
  }
  return cms;
}

// `trust`: prepared trust material whose certificate cache may serve; null for none.
Result<CmsContentInfoPtr> ParseCms(ByteView signature, const PreparedTrust* trust) {
  std::size_t start = 0;
  while (start < signature.size() && std::isspace(signature[start]) != 0) ++start;
  constexpr std::string_view kPemBegin = "-----BEGIN";
  if (signature.size() - start >= kPemBegin.size() &&
      ToString(signature.subspan(start, kPemBegin.size())) == kPemBegin) {
    BioPtr bio = MemoryBio(signature);
    CmsContentInfoPtr cms(PEM_read_bio_CMS(bio.get(), nullptr, nullptr, nullptr));
    if (!cms) return Status::InvalidArgument(OpenSslFailure("PEM input is not a CMS structure"));
    return cms;
  }

  if (trust != nullptr) {
    CmsContentInfoPtr cms = ParseCmsReusingCertificates(signature, trust->certificates);
    if (cms) return cms;
  }
  const unsigned char* p = signature.data();
  CmsContentInfoPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(signature.size())));
  if (cms) return cms;
  ERR_clear_error();

  // Say "truncated" when the outer SEQUENCE announces more bytes than there are,
  // the usual result of a cut-off upload, rather than a generic parse error.
  p = signature.data();
  long announced = 0;
  int tag = 0;
  int cls = 0;
  int ret = ASN1_get_object(&p, &announced, &tag, &cls, static_cast<long>(signature.size()));
  ERR_clear_error();
  if (ret != 0x80 && (ret & 0x80) != 0 && tag == V_ASN1_SEQUENCE && cls == V_ASN1_UNIVERSAL) {
    auto present = static_cast<long>(signature.data() + signature.size() - p);
    return Status::InvalidArgument("truncated CMS signature: its DER announces " + std::to_string(announced) +
                                   " bytes of content but only " + std::to_string(present) + " are present");
  }
  return Status::InvalidArgument("not a CMS signature: the input is neither PEM nor a DER-encoded CMS ContentInfo");
}

Result<X509StackPtr> ParseCertificates(const std::vector<Bytes>& ders, const std::string& what) {
  X509StackPtr out(sk_X509_new_null());
  if (!out) return Status::Internal(OpenSslFailure("sk_X509_new_null"));
  for (std::size_t i = 0; i < ders.size(); ++i) {
    const unsigned char* p = ders[i].data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(ders[i].size())));
    if (!cert) {
      return Status::InvalidArgument(
          OpenSslFailure(what + " #" + std::to_string(i + 1) + " is not a DER certificate"));
    }
    if (sk_X509_push(out.get(), cert.get()) == 0) return Status::Internal(OpenSslFailure("sk_X509_push"));
    cert.release();  // the stack owns it now
  }
  return out;
}

// The certificates of `candidates` that issued `crl`: their subject is its
// issuer and their key verifies its signature.
Result<X509StackPtr> CrlSigners(X509_CRL* crl, std::initializer_list<STACK_OF(X509)*> candidates) {
  X509StackPtr out(sk_X509_new_null());
  if (!out) return Status::Internal(OpenSslFailure("sk_X509_new_null"));
  for (STACK_OF(X509)* certs : candidates) {
    for (int i = 0; i < sk_X509_num(certs); ++i) {
      X509* cert = sk_X509_value(certs, i);
      EVP_PKEY* key = X509_get0_pubkey(cert);
      if (X509_NAME_cmp(X509_get_subject_name(cert), X509_CRL_get_issuer(crl)) != 0 || key == nullptr ||
          X509_CRL_verify(crl, key) != 1)
        continue;
      if (X509_add_cert(out.get(), cert, X509_ADD_FLAG_UP_REF) != 1)
        return Status::Internal(OpenSslFailure("X509_add_cert"));
    }
  }
  ERR_clear_error();  // a key that does not verify the CRL is the usual case
  return out;
}

// The trust material of `options` parsed: what PrepareTrust keeps, and what
// ValidateCms makes for itself when the options were not prepared.
Result<std::shared_ptr<const PreparedTrust>> ParseTrust(const CmsValidationOptions& options) {
  auto trust = std::make_shared<PreparedTrust>();
  PRESERVE_ASSIGN_OR_RETURN(X509StackPtr anchors, ParseCertificates(options.trust_anchors, "trust anchor"));
  PRESERVE_ASSIGN_OR_RETURN(trust->intermediates,
                            ParseCertificates(options.intermediates, "intermediate certificate"));
  trust->anchor_count = options.trust_anchors.size();
  // What OpenSSL would otherwise compute on first use (extension flags, the
  // hash X509_cmp compares), computed before any thread shares them.
  for (STACK_OF(X509)* certs : {anchors.get(), trust->intermediates.get()})
    for (int i = 0; i < sk_X509_num(certs); ++i) X509_check_purpose(sk_X509_value(certs, i), -1, 0);
  ERR_clear_error();  // a certificate with a bad extension is judged when a path uses it
  trust->anchors.reset(X509_STORE_new());
  if (!trust->anchors) return Status::Internal(OpenSslFailure("X509_STORE_new"));
  for (int i = 0; i < sk_X509_num(anchors.get()); ++i) {
    if (X509_STORE_add_cert(trust->anchors.get(), sk_X509_value(anchors.get(), i)) != 1)
      return Status::Internal(OpenSslFailure("adding a trust anchor"));
  }

  const std::vector<Bytes>& crls = options.revocation.crls;
  for (std::size_t i = 0; i < crls.size(); ++i) {
    const unsigned char* p = crls[i].data();
    internal::LocalCrl local;
    local.crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(crls[i].size())));
    if (!local.crl)
      return Status::InvalidArgument(OpenSslFailure("local CRL #" + std::to_string(i + 1) + " is not a DER CRL"));
    local.der = ToDer(i2d_X509_CRL, local.crl.get());
    // A lookup sorts the entries on first use; sorted now, before the CRL is shared.
    sk_X509_REVOKED_sort(X509_CRL_get_REVOKED(local.crl.get()));
    PRESERVE_ASSIGN_OR_RETURN(local.verified_by,
                              CrlSigners(local.crl.get(), {anchors.get(), trust->intermediates.get()}));
    trust->crls.push_back(std::move(local));
  }
  const std::vector<Bytes>& responses = options.revocation.ocsp_responses;
  for (std::size_t i = 0; i < responses.size(); ++i) {
    const unsigned char* p = responses[i].data();
    internal::LocalOcspResponse local;
    local.response.reset(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(responses[i].size())));
    if (!local.response)
      return Status::InvalidArgument(OpenSslFailure("local OCSP response #" + std::to_string(i + 1) +
                                                    " is not a DER OCSPResponse"));
    local.der = responses[i];
    trust->ocsp.push_back(std::move(local));
  }
  return std::shared_ptr<const PreparedTrust>(std::move(trust));
}

// What every signer of one SignedData is checked against.
struct ValidationContext {
  STACK_OF(X509)* pool = nullptr;        // the signature's certificates, then the caller's intermediates
  STACK_OF(X509)* carried = nullptr;     // the signature's own certificates
  BIO* content = nullptr;                // the content read through CMS digest BIOs; null when missing
  const Bytes* caller_digest = nullptr;  // instead: the content's digest in every signer's algorithm
  TimePoint validation_time;             // "now", read once for every signer
  const CmsValidationOptions* options = nullptr;
  const std::vector<Bytes>* tsa_anchors = nullptr;  // for signature time-stamps
  STACK_OF(X509_CRL)* carried_crls = nullptr;       // the signature's CRLs; may be null
  const PreparedTrust* trust = nullptr;             // options' trust material, parsed
};

// The signingTime attribute, or nullopt when there is none. A present but
// unreadable one is a format failure: a claimed time must not be guessed.
Result<std::optional<TimePoint>> ClaimedSigningTime(CMS_SignerInfo* si) {
  int index = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (index < 0) return std::optional<TimePoint>();
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, index), 0);
  if (value == nullptr || (value->type != V_ASN1_UTCTIME && value->type != V_ASN1_GENERALIZEDTIME))
    return Status::InvalidArgument("the signing-time attribute holds no UTCTime or GeneralizedTime");
  std::optional<TimePoint> t = Asn1TimeToTimePoint(value->value.utctime);
  if (!t) return Status::InvalidArgument("the signing-time attribute holds an invalid time");
  return t;
}

// The CAdES signing-certificate(-v2) attribute binds the signature to one
// certificate, so a different certificate with the same issuer and serial
// number (a substitution) cannot pass. Empty when it holds (or is absent).
std::string SigningCertificateMismatch(CMS_SignerInfo* si, X509* signer, STACK_OF(X509)* pool) {
  EssSigningCertPtr v1;
  EssSigningCertV2Ptr v2;
  if (CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificate, -1) >= 0) {
    auto* der = static_cast<ASN1_STRING*>(CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_id_smime_aa_signingCertificate), -3, V_ASN1_SEQUENCE));
    const unsigned char* p = der != nullptr ? ASN1_STRING_get0_data(der) : nullptr;
    if (p != nullptr) v1.reset(d2i_ESS_SIGNING_CERT(nullptr, &p, ASN1_STRING_length(der)));
    if (!v1) {
      ERR_clear_error();
      return "its signing-certificate attribute cannot be read";
    }
  }
  if (CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) >= 0) {
    auto* der = static_cast<ASN1_STRING*>(CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3, V_ASN1_SEQUENCE));
    const unsigned char* p = der != nullptr ? ASN1_STRING_get0_data(der) : nullptr;
    if (p != nullptr) v2.reset(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, ASN1_STRING_length(der)));
    if (!v2) {
      ERR_clear_error();
      return "its signing-certificate-v2 attribute cannot be read";
    }
  }
  if (!v1 && !v2) return "";

  // OpenSSL wants the signer first and finds any further referenced certificates after it.
  X509StackPtr chain(sk_X509_new_null());
  if (!chain || X509_add_cert(chain.get(), signer, X509_ADD_FLAG_UP_REF) != 1 ||
      X509_add_certs(chain.get(), pool, X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP) != 1) {
    return OpenSslFailure("cannot build the certificate list for the signing-certificate check");
  }
  if (OSSL_ESS_check_signing_certs(v1.get(), v2.get(), chain.get(), 0) == 1) return "";
  ERR_clear_error();
  return "its signing-certificate attribute does not name the certificate of " + SubjectText(signer);
}

std::vector<Bytes> DerList(STACK_OF(X509)* certs) {
  std::vector<Bytes> out;
  for (int i = 0; i < sk_X509_num(certs); ++i) out.push_back(ToDer(i2d_X509, sk_X509_value(certs, i)));
  return out;
}

// The certificates the signature carried, its signer first: the validation
// material to keep when no path was established.
std::vector<Bytes> CarriedCertificates(X509* signer, STACK_OF(X509)* carried) {
  std::vector<Bytes> out;
  if (signer != nullptr) out.push_back(ToDer(i2d_X509, signer));
  for (int i = 0; i < sk_X509_num(carried); ++i) {
    X509* cert = sk_X509_value(carried, i);
    if (signer == nullptr || X509_cmp(cert, signer) != 0) out.push_back(ToDer(i2d_X509, cert));
  }
  return out;
}

// Path validation at `when` (the shell model EN 319 102-1 uses with a signing
// time). On success fills report.certificates with the path and returns it,
// signer first; otherwise fails the report and returns null.
X509StackPtr ValidatePath(X509* signer, TimePoint when, const ValidationContext& ctx, SignatureReport& report) {
  X509StoreCtxPtr store_ctx(X509_STORE_CTX_new());
  if (!store_ctx || X509_STORE_CTX_init(store_ctx.get(), ctx.trust->anchors.get(), signer, ctx.pool) != 1 ||
      !internal::UseVerifiedSignatures(store_ctx.get(), ctx.trust->signatures)) {
    Fail(report, SubIndication::kChainConstraintsFailure, OpenSslFailure("cannot set up path validation"));
    return nullptr;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store_ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(when.time_since_epoch().count()));
  // Locally configured anchors may be subordinate CAs (a ministry's issuing CA
  // rather than the national root): trust them as given.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  // Key usage is checked below for signing; extended key usages vary among
  // government CAs and say nothing about document signatures.
  X509_STORE_CTX_set_purpose(store_ctx.get(), X509_PURPOSE_ANY);

  const std::string at = FormatUtcTime(when);
  if (X509_verify_cert(store_ctx.get()) != 1) {
    ERR_clear_error();
    int error = X509_STORE_CTX_get_error(store_ctx.get());
    X509* current = X509_STORE_CTX_get_current_cert(store_ctx.get());
    if (current == nullptr) current = signer;
    const std::string subject = SubjectText(current);
    const std::string why = X509_verify_cert_error_string(error);
    switch (error) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        Fail(report, SubIndication::kExpired,
             "The certificate " + subject + " expired on " + FormatAsn1Time(X509_get0_notAfter(current)) +
                 ", before the signing time " + at + ".");
        return nullptr;
      case X509_V_ERR_CERT_NOT_YET_VALID:
        Fail(report, SubIndication::kNotYetValid,
             "The certificate " + subject + " became valid only on " +
                 FormatAsn1Time(X509_get0_notBefore(current)) + ", after the signing time " + at + ".");
        return nullptr;
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_CERT_UNTRUSTED:
        Fail(report, SubIndication::kNoCertificateChainFound,
             "No certificate path leads from " + SubjectText(signer) + " to a configured trust anchor at " + at +
                 " (" + why + " at " + subject + ").");
        return nullptr;
      default:
        Fail(report, SubIndication::kChainConstraintsFailure,
             "The certificate path of " + SubjectText(signer) + " is not valid at " + at + ": " + why + " at " +
                 subject + ".");
        return nullptr;
    }
  }

  // RFC 5280: without a keyUsage extension the key may be used for anything.
  if ((X509_get_extension_flags(signer) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(signer) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
    Fail(report, SubIndication::kChainConstraintsFailure,
         "The certificate " + SubjectText(signer) +
             " does not allow signing: its key usage has neither digitalSignature nor nonRepudiation.");
    return nullptr;
  }
  X509StackPtr chain(X509_STORE_CTX_get1_chain(store_ctx.get()));
  if (!chain) {
    Fail(report, SubIndication::kChainConstraintsFailure, OpenSslFailure("cannot read the validated path"));
    return nullptr;
  }
  report.certificates = DerList(chain.get());
  return chain;
}

void AddOnce(std::vector<Bytes>& to, const Bytes& der) {
  if (!der.empty() && std::find(to.begin(), to.end(), der) == to.end()) to.push_back(der);
}

struct SignatureTimeStamp {
  TimePoint gen_time;
  std::string tsa;  // the TSA certificate's subject
  std::vector<Bytes> certificates;  // the TSA's, then the others the token carries
};

Result<timestamp::TokenInfo> VerifySignatureTimeStamp(ByteView token, ByteView signature_value,
                                                      const ValidationContext& ctx) {
  // The imprint is taken with whatever hash the TSA was asked for.
  PRESERVE_ASSIGN_OR_RETURN(timestamp::TokenInfo parsed, timestamp::ParseToken(token));
  timestamp::TokenVerifyOptions verify;
  verify.trust_anchors = *ctx.tsa_anchors;
  verify.intermediates = ctx.options->intermediates;
  return timestamp::VerifyToken(token, parsed.imprint_algorithm, Digest(parsed.imprint_algorithm, signature_value),
                                verify);
}

// CAdES-T (EN 319 122-1 5.3): each id-aa-signatureTimeStampToken covers the
// SignerInfo's signature value. Returns the earliest one that verifies; the
// others are left aside with a warning (EN 319 102-1 5.5).
std::optional<SignatureTimeStamp> VerifySignatureTimeStamps(CMS_SignerInfo* si, const ValidationContext& ctx,
                                                            SignatureReport& report) {
  std::optional<SignatureTimeStamp> best;
  ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si);
  ByteView signature_value(ASN1_STRING_get0_data(value), static_cast<std::size_t>(ASN1_STRING_length(value)));
  int seen = 0;
  for (int index = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1); index >= 0;
       index = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, index)) {
    X509_ATTRIBUTE* attribute = CMS_unsigned_get_attr(si, index);
    for (int v = 0; v < X509_ATTRIBUTE_count(attribute); ++v) {
      const std::string which = "Signature time-stamp #" + std::to_string(++seen);
      ASN1_TYPE* token = X509_ATTRIBUTE_get0_type(attribute, v);
      if (token == nullptr || token->type != V_ASN1_SEQUENCE) {
        report.warnings.push_back(which + " is not a time-stamp token; it was left aside.");
        continue;
      }
      ByteView der(token->value.sequence->data, static_cast<std::size_t>(token->value.sequence->length));
      auto verified = VerifySignatureTimeStamp(der, signature_value, ctx);
      if (!verified.ok()) {
        report.warnings.push_back(which + " does not verify, so it proves no signing time: " +
                                  verified.status().message() + ".");
        continue;
      }
      if (best && best->gen_time <= verified->gen_time) continue;
      SignatureTimeStamp stamp{verified->gen_time, CertificateSubject(verified->tsa_certificate), {}};
      AddOnce(stamp.certificates, verified->tsa_certificate);
      for (const Bytes& cert : verified->certificates) AddOnce(stamp.certificates, cert);
      best = std::move(stamp);
    }
  }
  ERR_clear_error();
  return best;
}

std::optional<HashAlgorithm> CatalogueHash(int md_nid) {
  switch (md_nid) {
    case NID_sha1: return HashAlgorithm::kSha1;
    case NID_sha256: return HashAlgorithm::kSha256;
    case NID_sha384: return HashAlgorithm::kSha384;
    case NID_sha512: return HashAlgorithm::kSha512;
    case NID_sha3_256: return HashAlgorithm::kSha3_256;
    case NID_sha3_384: return HashAlgorithm::kSha3_384;
    case NID_sha3_512: return HashAlgorithm::kSha3_512;
    default: return std::nullopt;
  }
}

// Key NIDs as OBJ_find_sigid_algs and X509_get_signature_info give them.
std::optional<policy::SignatureKeyType> CatalogueKeyType(int key_nid) {
  switch (key_nid) {
    case NID_rsaEncryption: return policy::SignatureKeyType::kRsa;
    case NID_rsassaPss: return policy::SignatureKeyType::kRsaPss;
    case NID_X9_62_id_ecPublicKey: return policy::SignatureKeyType::kEcdsa;
    case NID_ED25519: return policy::SignatureKeyType::kEd25519;
    default: return std::nullopt;
  }
}

std::string EndText(std::optional<TimePoint> end) {
  if (end && *end == TimePoint()) return "which the algorithm catalogue does not approve";
  return "which the algorithm catalogue allows only until " + (end ? FormatUtcTime(*end) : std::string("?"));
}

// Empty when a signature made with this digest (NID_undef: none apart, as in
// Ed25519) and key was still allowed at `when`; else what ended.
std::string EndedAlgorithm(const policy::AlgorithmCatalogue& catalogue, int md_nid, int key_nid, int key_bits,
                           TimePoint when) {
  if (md_nid != NID_undef) {
    std::optional<HashAlgorithm> hash = CatalogueHash(md_nid);
    if (!hash) return std::string("the digest ") + OBJ_nid2sn(md_nid) + ", which the algorithm catalogue does not date";
    if (!catalogue.HashUsableForNewEvidence(*hash, when))
      return std::string(HashAlgorithmName(*hash)) + ", " + EndText(catalogue.HashEnd(*hash));
  }
  std::optional<policy::SignatureKeyType> key = CatalogueKeyType(key_nid);
  if (!key) return std::string("a ") + OBJ_nid2sn(key_nid) + " key, which the algorithm catalogue does not date";
  if (!catalogue.SignatureUsableForNewEvidence(*key, key_bits, when))
    return std::string(policy::SignatureKeyTypeName(*key)) + "-" + std::to_string(key_bits) + ", " +
           EndText(catalogue.SignatureEnd(*key, key_bits));
  return "";
}

int KeyNid(const X509_ALGOR* signature_alg) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, signature_alg);
  int nid = OBJ_obj2nid(obj);
  int key_nid = NID_undef;
  if (OBJ_find_sigid_algs(nid, nullptr, &key_nid) == 1 && key_nid != NID_undef) return key_nid;
  return nid;
}

int KeyBits(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  ERR_clear_error();
  return key != nullptr ? EVP_PKEY_get_bits(key) : 0;
}

// EN 319 102-1 5.2.8 with the catalogue as its cryptographic constraints: the
// signature and every certificate signature of the path below the anchor,
// each at the signing time.
void CheckAlgorithms(const policy::AlgorithmCatalogue& catalogue, CMS_SignerInfo* si, X509* signer,
                     STACK_OF(X509) * path, TimePoint when, SignatureReport& report) {
  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* signature_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, &signature_alg);
  const ASN1_OBJECT* digest_obj = nullptr;
  X509_ALGOR_get0(&digest_obj, nullptr, nullptr, digest_alg);
  const std::string at = FormatUtcTime(when);
  std::string ended = EndedAlgorithm(catalogue, OBJ_obj2nid(digest_obj), KeyNid(signature_alg), KeyBits(signer), when);
  if (!ended.empty()) {
    Fail(report, SubIndication::kCryptoConstraintsFailure,
         "The signature of " + report.signer_subject + " uses " + ended + "; it was made at " + at + " (" +
             catalogue.name() + ").");
    return;
  }
  for (int i = 0; i + 1 < sk_X509_num(path); ++i) {
    X509* cert = sk_X509_value(path, i);
    int md_nid = NID_undef;
    int key_nid = NID_undef;
    if (X509_get_signature_info(cert, &md_nid, &key_nid, nullptr, nullptr) != 1) {
      ERR_clear_error();
      key_nid = X509_get_signature_nid(cert);
    }
    ended = EndedAlgorithm(catalogue, md_nid, key_nid, KeyBits(sk_X509_value(path, i + 1)), when);
    if (!ended.empty()) {
      Fail(report, SubIndication::kCryptoConstraintsFailure,
           "The certificate " + SubjectText(cert) + " is signed with " + ended + "; the signing time is " + at +
               " (" + catalogue.name() + ").");
      return;
    }
  }
}

// CMS_SignerInfo_verify_content's check of a signer with signed attributes,
// against a digest of the content the caller computed: 1 when the
// messageDigest attribute holds it, 0 when it holds another, -1 (with
// OpenSSL's error queued, as CMS_SignerInfo_verify_content queues it) when
// the attribute is missing or of another length.
int VerifyMessageDigest(CMS_SignerInfo* si, const Bytes& digest) {
  const auto* attribute = static_cast<const ASN1_OCTET_STRING*>(
      CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
  if (attribute == nullptr) {
    ERR_raise(ERR_LIB_CMS, CMS_R_ERROR_READING_MESSAGEDIGEST_ATTRIBUTE);
    return -1;
  }
  if (static_cast<std::size_t>(ASN1_STRING_length(attribute)) != digest.size()) {
    ERR_raise(ERR_LIB_CMS, CMS_R_MESSAGEDIGEST_ATTRIBUTE_WRONG_LENGTH);
    return -1;
  }
  return std::equal(digest.begin(), digest.end(), ASN1_STRING_get0_data(attribute)) ? 1 : 0;
}

// The content digest, then the signature value, of a signer whose
// certificate and content are at hand. False, with the report failed, when
// either does not verify.
bool VerifySignatureValue(CMS_SignerInfo* si, const ValidationContext& ctx, SignatureReport& report) {
  // Content digest first, then the signature value, as EN 319 102-1 5.2.7
  // orders them, so a changed document reads as HASH_FAILURE, not a broken signature.
  const bool has_signed_attributes = CMS_signed_get_attr_count(si) > 0;
  int content_ok = ctx.caller_digest != nullptr ? VerifyMessageDigest(si, *ctx.caller_digest)
                                                : CMS_SignerInfo_verify_content(si, ctx.content);
  if (content_ok != 1) {
    std::string openssl = OpenSslErrors();
    if (content_ok < 0) {
      Fail(report, SubIndication::kFormatFailure,
           "The signature of " + report.signer_subject + " cannot be checked: " + openssl + ".");
    } else if (has_signed_attributes) {
      Fail(report, SubIndication::kHashFailure, "The content does not match the digest signed by " +
                                                    report.signer_subject + ": it was changed after signing.");
    } else {
      // Without signed attributes the signature covers the content directly, so a
      // changed document and a damaged signature value cannot be told apart.
      Fail(report, SubIndication::kSigCryptoFailure,
           "The signature value of " + report.signer_subject +
               " does not verify over the content: the content or the signature was changed.");
    }
    return false;
  }
  if (has_signed_attributes) {
    int signature_ok = CMS_SignerInfo_verify(si);
    if (signature_ok != 1) {
      ERR_clear_error();
      Fail(report, SubIndication::kSigCryptoFailure,
           "The signature value of " + report.signer_subject +
               " does not verify with its certificate's public key: the signature was damaged or forged.");
      return false;
    }
  }
  return true;
}

// The revocation status of every certificate of `path` below its anchor,
// with the material that settled it added to the report. False, with the
// report failed, when a revocation (or its unknown status) counts.
bool CheckPathRevocation(STACK_OF(X509)* path, const ValidationContext& ctx, std::optional<TimePoint> claimed_time,
                         const std::optional<SignatureTimeStamp>& stamp, SignatureReport& report) {
  internal::RevocationInput input;
  input.path = path;
  input.carried_crls = ctx.carried_crls;
  input.local = ctx.trust;
  input.options = &ctx.options->revocation;
  input.now = ctx.validation_time;
  input.claimed = claimed_time;
  if (stamp) input.proven = stamp->gen_time;
  internal::RevocationOutcome revocation = internal::CheckRevocation(input);
  report.revocation = std::move(revocation.summary);
  for (std::string& warning : revocation.warnings) report.warnings.push_back(std::move(warning));
  for (const Bytes& cert : revocation.certificates) AddOnce(report.certificates, cert);
  report.crls = std::move(revocation.crls);
  report.ocsp_responses = std::move(revocation.ocsp_responses);
  if (revocation.sub_indication == SubIndication::kNone) return true;
  Fail(report, revocation.sub_indication, std::move(revocation.reason));
  return false;
}

SignatureReport ValidateSigner(CMS_SignerInfo* si, const ValidationContext& ctx) {
  SignatureReport report;
  EVP_PKEY* key = nullptr;
  X509* signer = nullptr;
  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* signature_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, &key, &signer, &digest_alg, &signature_alg);
  report.digest_algorithm = DigestName(digest_alg);
  report.signature_algorithm = SignatureAlgorithmName(signature_alg);
  report.certificates = CarriedCertificates(signer, ctx.carried);

  auto claimed = ClaimedSigningTime(si);
  if (claimed.ok() && claimed->has_value()) {
    report.signing_time = **claimed;
    report.signing_time_source = kClaimedTimeSource;
  } else if (claimed.ok()) {
    report.signing_time = ctx.validation_time;
    report.signing_time_source = kValidationTimeSource;
  }

  if (signer == nullptr) {
    Fail(report, SubIndication::kNoSigningCertificateFound,
         "The signer's certificate is neither in the signature nor among the given certificates.");
    return report;
  }
  report.signer_subject = SubjectText(signer);
  report.signer_common_name = NameEntry(signer, NID_commonName);
  report.signer_organization = NameEntry(signer, NID_organizationName);

  if (!claimed.ok()) {
    Fail(report, SubIndication::kFormatFailure, "The signature of " + report.signer_subject + " is malformed: " +
                                                    claimed.status().message() + ".");
    return report;
  }
  if (ctx.content == nullptr && ctx.caller_digest == nullptr) {
    Fail(report, SubIndication::kSignedDataNotFound,
         "The signature of " + report.signer_subject + " is detached and its signed content was not given.");
    return report;
  }

  if (!VerifySignatureValue(si, ctx, report)) return report;

  std::string mismatch = SigningCertificateMismatch(si, signer, ctx.pool);
  if (!mismatch.empty()) {
    Fail(report, SubIndication::kNoSigningCertificateFound,
         "The signature cannot be bound to its certificate: " + mismatch + ".");
    return report;
  }

  const std::optional<TimePoint> claimed_time = *claimed;
  std::optional<SignatureTimeStamp> stamp = VerifySignatureTimeStamps(si, ctx, report);
  if (stamp) {
    if (claimed_time && *claimed_time > stamp->gen_time + kClockSkew)
      report.warnings.push_back("The signature claims to be made at " + FormatUtcTime(*claimed_time) +
                                ", after its signature time-stamp (" + FormatUtcTime(stamp->gen_time) + ").");
    report.signing_time = stamp->gen_time;
    report.signing_time_claimed = false;
    report.signing_time_source = "signature time-stamp (TSA: " + stamp->tsa + ")";
  }

  X509StackPtr path = ValidatePath(signer, *report.signing_time, ctx, report);
  if (stamp) {
    for (const Bytes& cert : stamp->certificates) AddOnce(report.certificates, cert);
  }
  if (!path) return report;
  if (ctx.options->catalogue != nullptr) {
    CheckAlgorithms(*ctx.options->catalogue, si, signer, path.get(), *report.signing_time, report);
    if (report.sub_indication != SubIndication::kNone) return report;
  }

  if (!CheckPathRevocation(path.get(), ctx, claimed_time, stamp, report)) return report;
  report.verdict = Verdict::kValid;
  return report;
}

}  // namespace

Verdict VerdictFor(SubIndication s) {
  switch (s) {
    case SubIndication::kNone:
      return Verdict::kValid;
    case SubIndication::kFormatFailure:
    case SubIndication::kHashFailure:
    case SubIndication::kSigCryptoFailure:
    case SubIndication::kExpired:
    case SubIndication::kNotYetValid:
    case SubIndication::kRevoked:
      return Verdict::kInvalid;
    case SubIndication::kNoCertificateChainFound:
    case SubIndication::kChainConstraintsFailure:
    case SubIndication::kSignedDataNotFound:
    case SubIndication::kNoSigningCertificateFound:
    case SubIndication::kRevokedNoPoe:
    case SubIndication::kRevokedCaNoPoe:
    case SubIndication::kTryLater:
    case SubIndication::kCryptoConstraintsFailure:
    case SubIndication::kCertificateChainGeneralFailure:
      return Verdict::kIndeterminate;
  }
  return Verdict::kIndeterminate;
}

std::string_view SubIndicationName(SubIndication s) {
  switch (s) {
    case SubIndication::kNone: return "";
    case SubIndication::kFormatFailure: return "FORMAT_FAILURE";
    case SubIndication::kHashFailure: return "HASH_FAILURE";
    case SubIndication::kSigCryptoFailure: return "SIG_CRYPTO_FAILURE";
    case SubIndication::kNoCertificateChainFound: return "NO_CERTIFICATE_CHAIN_FOUND";
    case SubIndication::kExpired: return "EXPIRED";
    case SubIndication::kNotYetValid: return "NOT_YET_VALID";
    case SubIndication::kChainConstraintsFailure: return "CHAIN_CONSTRAINTS_FAILURE";
    case SubIndication::kSignedDataNotFound: return "SIGNED_DATA_NOT_FOUND";
    case SubIndication::kNoSigningCertificateFound: return "NO_SIGNING_CERTIFICATE_FOUND";
    case SubIndication::kRevoked: return "REVOKED";
    case SubIndication::kRevokedNoPoe: return "REVOKED_NO_POE";
    case SubIndication::kRevokedCaNoPoe: return "REVOKED_CA_NO_POE";
    case SubIndication::kTryLater: return "TRY_LATER";
    case SubIndication::kCryptoConstraintsFailure: return "CRYPTO_CONSTRAINTS_FAILURE";
    case SubIndication::kCertificateChainGeneralFailure: return "CERTIFICATE_CHAIN_GENERAL_FAILURE";
  }
  return "";
}

namespace {

// The signed content read through the CMS digest BIOs the SignerInfos are
// checked against: `detached_content` pushed in, or an enveloping signature's
// own content read out (and kept in `encapsulated_content`). Null when a
// detached signature's content was not given.
Result<BioPtr> HashSignedContent(CMS_ContentInfo* cms, bool detached, const ContentSource* detached_content,
                                 std::optional<Bytes>& encapsulated_content) {
  BioPtr content_chain;
  if (detached_content != nullptr) {
    // The chain's digest BIOs, which the SignerInfos are checked against, hash
    // what is written through them as well as what is read: the content is
    // pushed through a chain ending in a null sink, one piece at a time.
    BioPtr sink(BIO_new(BIO_s_null()));
    if (!sink) return Status::Internal(OpenSslFailure("BIO_new"));
    content_chain.reset(CMS_dataInit(cms, sink.get()));
    if (!content_chain) return Status::InvalidArgument(OpenSslFailure("cannot read the signed content"));
    sink.release();  // now the bottom of content_chain, freed with it
    PRESERVE_RETURN_IF_ERROR((*detached_content)([&content_chain](ByteView piece) -> Status {
      // BIO_write takes an int: pieces of any size go in slices it can take.
      constexpr std::size_t kSlice = 1u << 30;
      for (std::size_t at = 0; at < piece.size(); at += kSlice) {
        const int n = static_cast<int>(std::min(kSlice, piece.size() - at));
        if (BIO_write(content_chain.get(), piece.data() + at, n) != n)
          return Status::Internal(OpenSslFailure("hashing the signed content"));
      }
      return Status::Ok();
    }));
  } else if (!detached) {
    content_chain.reset(CMS_dataInit(cms, nullptr));
    if (!content_chain) return Status::InvalidArgument(OpenSslFailure("cannot read the signed content"));
    // Reading through the chain feeds the digest BIOs the SignerInfos are checked against.
    char buf[16384];
    int n = 0;
    do {
      n = BIO_read(content_chain.get(), buf, sizeof buf);
    } while (n > 0);
    if (n < 0) return Status::Internal(OpenSslFailure("reading the signed content"));
    ASN1_OCTET_STRING** inner = CMS_get0_content(cms);
    if (inner != nullptr && *inner != nullptr) {
      const unsigned char* data = ASN1_STRING_get0_data(*inner);
      encapsulated_content = Bytes(data, data + ASN1_STRING_length(*inner));
    }
  }
  return content_chain;
}

// Whether a digest of the content in `algorithm` settles the content digest
// of every signer: each uses that algorithm and has signed attributes.
bool DigestCoversEverySigner(STACK_OF(CMS_SignerInfo) * signer_infos, HashAlgorithm algorithm) {
  for (int i = 0; i < sk_CMS_SignerInfo_num(signer_infos); ++i) {
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signer_infos, i);
    X509_ALGOR* digest_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
    const ASN1_OBJECT* digest_obj = nullptr;
    X509_ALGOR_get0(&digest_obj, nullptr, nullptr, digest_alg);
    if (CMS_signed_get_attr_count(si) <= 0 || CatalogueHash(OBJ_obj2nid(digest_obj)) != algorithm) return false;
  }
  return true;
}

// ValidateCms and its kin: `detached_content` null for none; `caller_digest`
// null unless the caller computes one while pushing the content.
Result<CmsValidation> ValidateSignedData(ByteView signature, const ContentSource* detached_content,
                                         const CallerContentDigest* caller_digest,
                                         const CmsValidationOptions& options, TimePoint validation_time) {
  PRESERVE_ASSIGN_OR_RETURN(CmsContentInfoPtr cms, ParseCms(signature, options.prepared.get()));
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return Status::InvalidArgument("not a signature: the CMS structure is of type " +
                                   ObjectText(CMS_get0_type(cms.get())) + ", not SignedData");
  }
  STACK_OF(CMS_SignerInfo)* signer_infos = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(signer_infos) <= 0)
    return Status::InvalidArgument("not a signature: the CMS SignedData has no SignerInfo");
  const bool detached = CMS_is_detached(cms.get()) == 1;
  if (!detached && detached_content != nullptr) {
    return Status::InvalidArgument(
        "the CMS signature is enveloping (it carries its own content); no separate content may be given");
  }

  std::shared_ptr<const PreparedTrust> trust = options.prepared;
  if (!trust) {
    PRESERVE_ASSIGN_OR_RETURN(trust, ParseTrust(options));
  } else if (trust->anchor_count != options.trust_anchors.size() ||
             static_cast<std::size_t>(sk_X509_num(trust->intermediates.get())) != options.intermediates.size() ||
             trust->crls.size() != options.revocation.crls.size() ||
             trust->ocsp.size() != options.revocation.ocsp_responses.size()) {
    return Status::InvalidArgument(
        "the options' trust material was changed after PrepareTrust: prepare it again (or reset options.prepared)");
  }
  X509CrlStackPtr carried_crls(CMS_get1_crls(cms.get()));
  ERR_clear_error();  // a SignedData without CRLs is the usual case
  X509StackPtr carried(CMS_get1_certs(cms.get()));
  if (!carried) {
    ERR_clear_error();  // a SignedData without certificates is legal
    carried.reset(sk_X509_new_null());
    if (!carried) return Status::Internal(OpenSslFailure("sk_X509_new_null"));
  }
  // The signature's own certificates come first so that its chain is preferred.
  X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted || X509_add_certs(untrusted.get(), carried.get(), X509_ADD_FLAG_UP_REF) != 1 ||
      X509_add_certs(untrusted.get(), trust->intermediates.get(), X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP) != 1) {
    return Status::Internal(OpenSslFailure("building the certificate pool"));
  }
  // Matches each SignerInfo's sid against the pool and then the signature's certificates.
  CMS_set1_signers_certs(cms.get(), untrusted.get(), 0);
  ERR_clear_error();

  CmsValidation result;
  ValidationContext ctx;
  BioPtr content_chain;
  Bytes digest;
  if (detached_content != nullptr && caller_digest != nullptr &&
      DigestCoversEverySigner(signer_infos, caller_digest->algorithm)) {
    // The caller hashes the content as it is pushed: nothing to hash here.
    PRESERVE_RETURN_IF_ERROR((*detached_content)([](ByteView) { return Status::Ok(); }));
    PRESERVE_ASSIGN_OR_RETURN(digest, caller_digest->value());
    ctx.caller_digest = &digest;
  } else {
    PRESERVE_ASSIGN_OR_RETURN(content_chain,
                              HashSignedContent(cms.get(), detached, detached_content, result.encapsulated_content));
  }
  ctx.pool = untrusted.get();
  ctx.carried = carried.get();
  ctx.content = content_chain.get();
  ctx.validation_time = validation_time;
  ctx.options = &options;
  ctx.tsa_anchors = options.timestamp_trust_anchors.empty() ? &options.trust_anchors : &options.timestamp_trust_anchors;
  ctx.carried_crls = carried_crls.get();
  ctx.trust = trust.get();
  result.verdict = Verdict::kValid;
  for (int i = 0; i < sk_CMS_SignerInfo_num(signer_infos); ++i) {
    SignatureReport report = ValidateSigner(sk_CMS_SignerInfo_value(signer_infos, i), ctx);
    result.verdict = Worse(result.verdict, report.verdict);
    result.signers.push_back(std::move(report));
  }
  ERR_clear_error();
  return result;
}

}  // namespace

Status PrepareTrust(CmsValidationOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(options.prepared, ParseTrust(options));
  return Status::Ok();
}

Result<CmsValidation> ValidateCms(ByteView signature, std::optional<ByteView> detached_content,
                                  const CmsValidationOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(TimePoint at, internal::ValidationTime(options));
  return internal::ValidateCmsAt(signature, detached_content, options, at);
}

Result<CmsValidation> ValidateCmsDetached(ByteView signature, const ContentSource& content,
                                          const CmsValidationOptions& options,
                                          const CallerContentDigest* caller_digest) {
  PRESERVE_ASSIGN_OR_RETURN(TimePoint at, internal::ValidationTime(options));
  return ValidateSignedData(signature, &content, caller_digest, options, at);
}

namespace internal {

Result<TimePoint> ValidationTime(const CmsValidationOptions& options) {
  if (options.validation_time) return *options.validation_time;
  if (options.clock == nullptr) return Status::InvalidArgument("CMS validation needs a clock or a validation time");
  return options.clock->Now();
}

Result<CmsValidation> ValidateCmsAt(ByteView signature, std::optional<ByteView> detached_content,
                                    const CmsValidationOptions& options, TimePoint validation_time) {
  if (!detached_content) return ValidateSignedData(signature, nullptr, nullptr, options, validation_time);
  const ContentSource whole = [content = *detached_content](const ContentSink& sink) { return sink(content); };
  return ValidateSignedData(signature, &whole, nullptr, options, validation_time);
}

}  // namespace internal

}  // namespace preserve::signature
