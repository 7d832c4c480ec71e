#include "preserve/timestamp/embedded_tsa.h"

#include <fcntl.h>
#include <pthread.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <openssl/ess.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>
#include <system_error>

#include "preserve/util/certificates.h"
#include "preserve/util/der.h"
#include "preserve/util/fault_point.h"
#include "preserve/util/openssl_ptr.h"
#include "time_stamp_request_reader.h"

namespace preserve::timestamp {

namespace {

constexpr const char* kCaCertificateFile = "ca.pem";
constexpr const char* kCaKeyFile = "ca.key";
constexpr const char* kTsaCertificateFile = "tsa.pem";
constexpr const char* kTsaKeyFile = "tsa.key";
// A rollover's new pair before it becomes active, and where the certificates
// of earlier TSAs go.
constexpr const char* kNewTsaCertificateFile = "tsa.pem.new";
constexpr const char* kNewTsaKeyFile = "tsa.key.new";
constexpr const char* kRetiredDirectory = "retired";

struct KeyTypeInfo {
  TsaKeyType type;
  std::string_view name;
  policy::SignatureKeyType signature_key;
  int bits;
  const char* curve;  // EVP_EC_gen's name; nullptr for RSA
};

constexpr std::array<KeyTypeInfo, 4> kKeyTypes = {{
    {TsaKeyType::kEcdsaP256, "ec-p256", policy::SignatureKeyType::kEcdsa, 256, "P-256"},
    {TsaKeyType::kEcdsaP384, "ec-p384", policy::SignatureKeyType::kEcdsa, 384, "P-384"},
    {TsaKeyType::kRsa2048, "rsa-2048", policy::SignatureKeyType::kRsa, 2048, nullptr},
    {TsaKeyType::kRsa3072, "rsa-3072", policy::SignatureKeyType::kRsa, 3072, nullptr},
}};

const KeyTypeInfo& Info(TsaKeyType type) {
  for (const KeyTypeInfo& info : kKeyTypes)
    if (info.type == type) return info;
  return kKeyTypes.front();  // unreachable: every enumerator is listed
}

// The clock of the machine that runs `preserve init` may be a little ahead of
// the one that later asks for tokens; backdating notBefore keeps the first
// tokens inside the certificate's validity.
constexpr std::chrono::minutes kNotBeforeMargin{5};

// Serial numbers of the certificates and of the tokens: 128 bits, top bit set
// so the number is positive, never zero, and always the same length.
constexpr int kSerialBits = 128;

Status OutOfMemory(const std::string& what) { return Status::Internal(OpenSslFailure(what)); }

Result<Asn1IntegerPtr> RandomSerial() {
  BignumPtr bn(BN_new());
  if (!bn || BN_rand(bn.get(), kSerialBits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1)
    return Status::Internal(OpenSslFailure("cannot draw a random serial number"));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return OutOfMemory("BN_to_ASN1_INTEGER");
  return serial;
}

Result<EvpPkeyPtr> GenerateKey(TsaKeyType type) {
  const KeyTypeInfo& info = Info(type);
  EvpPkeyPtr key(info.curve ? EVP_EC_gen(info.curve) : EVP_RSA_gen(static_cast<unsigned>(info.bits)));
  if (!key) return Status::Internal(OpenSslFailure("cannot generate a " + std::string(info.name) + " key"));
  return key;
}

// Which of the supported types a loaded key is.
Result<TsaKeyType> KeyTypeOf(EVP_PKEY* key, const std::filesystem::path& path) {
  const int bits = EVP_PKEY_get_bits(key);
  for (const KeyTypeInfo& info : kKeyTypes) {
    if (info.bits != bits) continue;
    if (info.curve == nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) return info.type;
    if (info.curve != nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
      // Of the 256- and 384-bit curves only the NIST ones are made here.
      std::array<char, 64> group{};
      std::size_t length = 0;
      if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) == 1 &&
          (std::string_view(group.data(), length) == (bits == 256 ? "prime256v1" : "secp384r1")))
        return info.type;
    }
  }
  ERR_clear_error();
  return Status::Corruption(path.string() + ": not a key type the embedded TSA uses (EC P-256/P-384, RSA 2048/3072)");
}

// The digest a CA signs certificates with: as strong as its key.
const EVP_MD* CertificateDigest(EVP_PKEY* issuer_key) {
  return EVP_PKEY_get_bits(issuer_key) == 384 ? EVP_sha384() : EVP_sha256();
}

// `years` calendar years after `t`; 29 February moves to 28 February.
TimePoint AddYears(TimePoint t, int years) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::year_month_day later = ymd + std::chrono::years(years);
  if (!later.ok()) later = later.year() / later.month() / std::chrono::last;
  return TimePoint(std::chrono::sys_days(later)) + (t - day);
}

Result<X509NamePtr> MakeName(const std::string& organization, const std::string& common_name) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return OutOfMemory("X509_NAME_new");
  for (const auto& [field, value] : {std::pair{"O", &organization}, std::pair{"CN", &common_name}}) {
    if (X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->c_str()), -1, -1, 0) != 1)
      return Status::InvalidArgument(OpenSslFailure("cannot put '" + *value + "' in a certificate name"));
  }
  return name;
}

struct CertificateSpec {
  const X509_NAME* subject = nullptr;
  EVP_PKEY* public_key = nullptr;
  X509* issuer = nullptr;  // nullptr: self-signed
  EVP_PKEY* issuer_key = nullptr;
  TimePoint not_before;
  TimePoint not_after;
  std::vector<std::pair<int, const char*>> extensions;  // NID, OpenSSL config value
};

Result<X509Ptr> IssueCertificate(const CertificateSpec& spec) {
  X509Ptr cert(X509_new());
  if (!cert) return OutOfMemory("X509_new");
  PRESERVE_ASSIGN_OR_RETURN(Asn1IntegerPtr serial, RandomSerial());
  Asn1TimePtr not_before(ASN1_TIME_set(nullptr, static_cast<time_t>(spec.not_before.time_since_epoch().count())));
  Asn1TimePtr not_after(ASN1_TIME_set(nullptr, static_cast<time_t>(spec.not_after.time_since_epoch().count())));
  if (!not_before || !not_after) return OutOfMemory("ASN1_TIME_set");
  const X509_NAME* issuer_name = spec.issuer ? X509_get_subject_name(spec.issuer) : spec.subject;
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
      X509_set_subject_name(cert.get(), spec.subject) != 1 || X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      X509_set1_notBefore(cert.get(), not_before.get()) != 1 || X509_set1_notAfter(cert.get(), not_after.get()) != 1 ||
      X509_set_pubkey(cert.get(), spec.public_key) != 1)
    return OutOfMemory("cannot fill in the certificate");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, spec.issuer ? spec.issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : spec.extensions) {
    X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      return Status::Internal(OpenSslFailure(std::string("cannot add extension ") + OBJ_nid2sn(nid)));
  }
  if (X509_sign(cert.get(), spec.issuer_key, CertificateDigest(spec.issuer_key)) <= 0)
    return Status::Internal(OpenSslFailure("cannot sign the certificate"));
  return cert;
}

Result<Bytes> CertificatePem(X509* cert) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), cert) != 1) return Status::Internal(OpenSslFailure("PEM_write_bio_X509"));
  return BioContents(out.get());
}

Result<Bytes> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PKCS8PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Status::Internal(OpenSslFailure("PEM_write_bio_PKCS8PrivateKey"));
  return BioContents(out.get());
}

using std::filesystem::perms;
constexpr perms kPublic = perms::owner_read | perms::owner_write | perms::group_read | perms::others_read;
constexpr perms kSecret = perms::owner_read | perms::owner_write;

Status WriteWithMode(const std::filesystem::path& path, ByteView data, std::filesystem::perms mode) {
  PRESERVE_RETURN_IF_ERROR(WriteFileAtomic(path, data));
  std::error_code ec;
  std::filesystem::permissions(path, mode, std::filesystem::perm_options::replace, ec);
  if (ec) return Status::IOError(path.string() + ": cannot set permissions: " + ec.message());
  return Status::Ok();
}

Result<X509Ptr> LoadCertificate(const std::filesystem::path& path) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes pem, ReadFile(path));
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::Corruption(OpenSslFailure(path.string() + ": not a PEM certificate"));
  return cert;
}

Result<EvpPkeyPtr> LoadPrivateKey(const std::filesystem::path& path) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes pem, ReadFile(path));
  BioPtr bio = MemoryBio(pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::Corruption(OpenSslFailure(path.string() + ": not a PEM private key"));
  return key;
}

// A TSA certificate: the critical timeStamping EKU and nothing else it could
// be used for.
Result<X509Ptr> IssueTsaCertificate(const X509_NAME* subject, EVP_PKEY* key, X509* ca, EVP_PKEY* ca_key,
                                    TimePoint not_before, TimePoint not_after) {
  CertificateSpec spec;
  spec.subject = subject;
  spec.public_key = key;
  spec.issuer = ca;
  spec.issuer_key = ca_key;
  spec.not_before = not_before;
  spec.not_after = not_after;
  spec.extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_key_usage, "critical,digitalSignature"},
                     {NID_ext_key_usage, "critical,timeStamping"},
                     {NID_subject_key_identifier, "hash"},
                     {NID_authority_key_identifier, "keyid:always"}};
  return IssueCertificate(spec);
}

Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (ec) return Status::IOError(from.string() + ": cannot rename to " + to.string() + ": " + ec.message());
  return Status::Ok();
}

Status Remove(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return Status::IOError(path.string() + ": cannot remove: " + ec.message());
  return Status::Ok();
}

Result<TimePoint> NotAfter(X509* cert) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
    return Status::Corruption(OpenSslFailure("unreadable certificate notAfter"));
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

// The serial number's magnitude in hex: a file name unique per certificate.
std::string SerialHex(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  return ToHex(ByteView(ASN1_STRING_get0_data(serial), static_cast<std::size_t>(ASN1_STRING_length(serial))));
}

// Copies the active certificate to retired/ under its serial number, so that
// a rollover never loses a certificate an auditor may need. Idempotent.
Status RetireActiveCertificate(const std::filesystem::path& dir) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes pem, ReadFile(dir / kTsaCertificateFile));
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(dir / kTsaCertificateFile));
  const std::filesystem::path retired = dir / kRetiredDirectory;
  std::error_code ec;
  std::filesystem::create_directories(retired, ec);
  if (ec) return Status::IOError(retired.string() + ": cannot create: " + ec.message());
  const std::filesystem::path target = retired / ("tsa-" + SerialHex(cert.get()) + ".pem");
  if (std::filesystem::exists(target, ec)) return Status::Ok();
  PRESERVE_RETURN_IF_ERROR(WriteFileAtomic(target, pem));
  return SyncDirectory(dir);  // retired/ itself is a new entry of dir
}

// Brings `dir` back to one active pair after a rollover that a crash cut
// short (see RollOverEmbeddedTsa for the order of the steps):
// - no tsa.pem.new: the new pair was never complete; a tsa.key.new is dropped;
// - tsa.pem.new and its key (tsa.key.new, or already tsa.key): the rollover
//   was decided; finish it;
// - tsa.pem.new with tsa.key.new that is not its key: neither can be trusted;
//   drop both, keeping the old pair.
// Temporary files of an interrupted atomic write are removed too.
Status CompleteInterruptedRollover(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("tsa.") && name.find(".tmp-") != std::string::npos)
      PRESERVE_RETURN_IF_ERROR(Remove(entry.path()));
  }
  if (ec) return Status::IOError(dir.string() + ": cannot list: " + ec.message());
  const std::filesystem::path new_pem = dir / kNewTsaCertificateFile;
  const std::filesystem::path new_key = dir / kNewTsaKeyFile;
  const bool have_new_key = std::filesystem::exists(new_key, ec);
  if (!std::filesystem::exists(new_pem, ec)) {
    if (!have_new_key) return Status::Ok();
    PRESERVE_RETURN_IF_ERROR(Remove(new_key));
    return SyncDirectory(dir);
  }
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(new_pem));
  PRESERVE_ASSIGN_OR_RETURN(EvpPkeyPtr key, LoadPrivateKey(have_new_key ? new_key : dir / kTsaKeyFile));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    if (!have_new_key)
      return Status::Corruption(new_pem.string() + " matches neither tsa.key nor a tsa.key.new");
    PRESERVE_RETURN_IF_ERROR(Remove(new_pem));
    PRESERVE_RETURN_IF_ERROR(Remove(new_key));
    return SyncDirectory(dir);
  }
  PRESERVE_RETURN_IF_ERROR(RetireActiveCertificate(dir));
  if (have_new_key) PRESERVE_RETURN_IF_ERROR(Rename(new_key, dir / kTsaKeyFile));
  PRESERVE_RETURN_IF_ERROR(Rename(new_pem, dir / kTsaCertificateFile));
  return SyncDirectory(dir);
}

// The retired TSA certificates in dir/retired, newest (latest notBefore) first.
Result<std::vector<X509Ptr>> LoadRetiredCertificates(const std::filesystem::path& dir) {
  std::vector<X509Ptr> certs;
  const std::filesystem::path retired = dir / kRetiredDirectory;
  std::error_code ec;
  if (!std::filesystem::exists(retired, ec)) return certs;
  for (const auto& entry : std::filesystem::directory_iterator(retired, ec)) {
    if (entry.path().extension() != ".pem") continue;
    PRESERVE_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(entry.path()));
    certs.push_back(std::move(cert));
  }
  if (ec) return Status::IOError(retired.string() + ": cannot list: " + ec.message());
  std::sort(certs.begin(), certs.end(), [](const X509Ptr& a, const X509Ptr& b) {
    return ASN1_TIME_compare(X509_get0_notBefore(a.get()), X509_get0_notBefore(b.get())) > 0;
  });
  return certs;
}

// The digests a request's imprint may use: SHA-2 and SHA-3 of 256 bits or
// more. SHA-1 is left out so such a request gets a badAlg rejection.
const std::array<const EVP_MD*, 6>& AcceptedImprintDigests() {
  static const std::array<const EVP_MD*, 6> mds = {EVP_sha256(),   EVP_sha384(),   EVP_sha512(),
                                                   EVP_sha3_256(), EVP_sha3_384(), EVP_sha3_512()};
  return mds;
}

// The digest the token's signature and ESSCertIDv2 use: the imprint's own
// when it is stronger than SHA-256 (so a renewal under SHA-512 does not rest on
// SHA-256), SHA-256 otherwise. OpenSSL 3.0's PKCS#7 code cannot sign ECDSA
// with SHA-3 ("Error during signature generation"), so an ECDSA TSA answers
// a SHA-3 imprint with SHA-512, still not SHA-256. A request that cannot be
// read (NID_undef) gets SHA-256; it is rejected anyway.
const EVP_MD* SignerDigestFor(int imprint_nid, TsaKeyType key_type) {
  const bool sha3 = imprint_nid == NID_sha3_256 || imprint_nid == NID_sha3_384 || imprint_nid == NID_sha3_512;
  if (sha3 && Info(key_type).curve != nullptr) return EVP_sha512();
  for (const EVP_MD* md : AcceptedImprintDigests())
    if (EVP_MD_get_type(md) == imprint_nid) return md;
  return EVP_sha256();
}

// OpenSSL's PKCS#7 signing adds a signingTime attribute from the system
// clock, whatever genTime says. Under a simulated clock that puts signingTime
// outside the TSA certificate's validity, and verifiers that check the
// certificate at signingTime (BouncyCastle) reject the token. So signingTime
// is set to the clock's time (genTime) and the SignerInfo signed again.
Status SignAtClockTime(TS_RESP* response, TimePoint now) {
  PKCS7* token = TS_RESP_get_token(response);
  if (token == nullptr) return Status::Ok();  // a rejection: nothing signed
  PKCS7_SIGNER_INFO* signer_info = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(token), 0);
  Asn1TimePtr signing_time(ASN1_TIME_set(nullptr, static_cast<time_t>(now.time_since_epoch().count())));
  if (signer_info == nullptr || !signing_time) return OutOfMemory("cannot set the token's signingTime");
  // Replaces the attribute OpenSSL added and takes the time on success. Not
  // PKCS7_add0_attrib_signing_time: it labels every time UTCTime, while from
  // 2050 on RFC 5652 wants (and ASN1_TIME_set gives) GeneralizedTime.
  if (PKCS7_add_signed_attribute(signer_info, NID_pkcs9_signingTime, ASN1_STRING_type(signing_time.get()),
                                 signing_time.get()) != 1)
    return Status::Internal(OpenSslFailure("cannot set the token's signingTime"));
  signing_time.release();
  if (PKCS7_SIGNER_INFO_sign(signer_info) != 1)
    return Status::Internal(OpenSslFailure("cannot sign the token again"));
  return Status::Ok();
}

int GenTimeFromClock(TS_RESP_CTX*, void* data, long* sec, long* usec) {
  const auto* clock = static_cast<const Clock*>(data);
  *sec = static_cast<long>(clock->Now().time_since_epoch().count());
  *usec = 0;
  return 1;
}

ASN1_INTEGER* RandomTokenSerial(TS_RESP_CTX* ctx, void*) {
  auto serial = RandomSerial();
  if (!serial.ok()) {
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial number generation.");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
    return nullptr;
  }
  return serial->release();  // OpenSSL owns the serial from here
}

// --- Granted responses assembled from DER pieces ---
//
// TS_RESP_create_response builds each token as a tree of ASN.1 objects,
// re-derives what never changes (the signer's issuer and serial, the
// ESSCertIDv2 hash of the certificate, algorithm identifiers), checks the key
// against the certificate, encodes the tree and fetches its algorithms anew;
// with an ECDSA key all that costs several times the signature. So a plain
// acceptable request is answered with the DER OpenSSL would produce (same
// fields, same order, same encodings), put together from pieces OpenSSL
// encoded once at Open and the few that change per token: serial, genTime,
// imprint, nonce, signingTime, messageDigest, signature. The request is read
// the same way, without OpenSSL's decoder (time_stamp_request_reader.h). Any
// other request (not in plain DER, or of another version, digest, imprint
// length or policy, or with extensions) goes to TS_RESP_create_response, which
// grants or rejects it as before. embedded_tsa_test checks the tokens against
// ones TS_RESP_create_response makes for the same request.

// The token's own pieces, on top of util/der.h.

constexpr std::uint8_t kNullValue[] = {der::kNull, 0x00};
constexpr ByteView kNullElement(kNullValue);

Bytes Oid(const ASN1_OBJECT* object) {
  return der::Tlv(der::kOid, {ByteView(OBJ_get0_data(object), OBJ_length(object))});
}
Bytes Oid(int nid) { return Oid(OBJ_nid2obj(nid)); }

// An attribute with a single value.
Bytes Attribute(int nid, ByteView value) {
  return der::Tlv(der::kSequence, {Oid(nid), der::Tlv(der::kSet, {value})});
}

// What ASN1_TIME_set gives, as RFC 5280 wants: UTCTime from 1950 to 2049,
// GeneralizedTime otherwise. nullopt past year 9999.
std::optional<Bytes> DerTime(TimePoint t, bool generalized_only) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return std::nullopt;
  const bool utc = !generalized_only && year >= 1950 && year < 2050;
  std::array<char, 15> text{};  // YYYYMMDDHHMMSSZ
  auto put = [&text](std::size_t at, std::size_t width, long value) {
    for (std::size_t i = width; i-- > 0; value /= 10) text[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, 4, year);
  put(4, 2, static_cast<long>(static_cast<unsigned>(ymd.month())));
  put(6, 2, static_cast<long>(static_cast<unsigned>(ymd.day())));
  put(8, 2, hms.hours().count());
  put(10, 2, hms.minutes().count());
  put(12, 2, hms.seconds().count());
  text[14] = 'Z';
  const std::string_view digits(text.data() + (utc ? 2 : 0), utc ? 13 : 15);
  return der::Tlv(utc ? der::kUtcTime : der::kGeneralizedTime, {AsBytes(digits)});
}

using EvpMdPtr = std::unique_ptr<EVP_MD, OpenSslFree<EVP_MD_free>>;
using Pkcs7SignerInfoPtr = std::unique_ptr<PKCS7_SIGNER_INFO, OpenSslFree<PKCS7_SIGNER_INFO_free>>;
using EssSigningCertV2Ptr = std::unique_ptr<ESS_SIGNING_CERT_V2, OpenSslFree<ESS_SIGNING_CERT_V2_free>>;

// What a token signed with one digest shares with every other, as DER.
struct SignerProfile {
  int digest_nid = NID_undef;
  EvpMdPtr digest;  // fetched once: EVP_sha256() and the like fetch on every use in OpenSSL 3
  Bytes digest_algorithm;
  Bytes signature_algorithm;
  Bytes signing_certificate_attribute;  // ESSCertIDv2 (RFC 5816)
};

// Encoded by OpenSSL itself, from the objects TS_RESP_create_response would
// build, so both paths agree to the byte.
Result<SignerProfile> MakeSignerProfile(const EVP_MD* md, X509* tsa, EVP_PKEY* key) {
  SignerProfile profile;
  profile.digest_nid = EVP_MD_get_type(md);
  profile.digest.reset(EVP_MD_fetch(nullptr, OBJ_nid2sn(profile.digest_nid), nullptr));
  Pkcs7SignerInfoPtr signer_info(PKCS7_SIGNER_INFO_new());
  EssSigningCertV2Ptr signing_certificate(OSSL_ESS_signing_cert_v2_new_init(md, tsa, nullptr, 0));
  if (!profile.digest || !signer_info || !signing_certificate ||
      PKCS7_SIGNER_INFO_set(signer_info.get(), tsa, key, md) != 1)
    return Status::Internal(OpenSslFailure(std::string("cannot prepare to sign tokens with ") + OBJ_nid2sn(profile.digest_nid)));
  profile.digest_algorithm = ToDer(i2d_X509_ALGOR, signer_info->digest_alg);
  profile.signature_algorithm = ToDer(i2d_X509_ALGOR, signer_info->digest_enc_alg);
  profile.signing_certificate_attribute = Attribute(
      NID_id_smime_aa_signingCertificateV2, ToDer(i2d_ESS_SIGNING_CERT_V2, signing_certificate.get()));
  if (profile.digest_algorithm.empty() || profile.signature_algorithm.empty())
    return OutOfMemory("cannot encode the token's algorithms");
  return profile;
}

// EVP_PKEY_CTXs may not be shared between threads, and setting one up per
// token costs a good part of an ECDSA signature (algorithm fetches under a
// lock). Each thread keeps its own, for the TSA it served last; `tsa_id`
// tells TSAs apart even when one is opened at the address of a closed one.
struct ThreadSigners {
  std::uint64_t tsa_id = 0;
  std::vector<EvpPkeyCtxPtr> by_profile;
};
thread_local ThreadSigners thread_signers;
std::atomic<std::uint64_t> next_tsa_id{1};

// Random bits for token serials, drawn a block at a time: each RAND_bytes
// call costs a fixed amount (the DRBG re-keys its cipher) that one 16-byte
// serial would pay alone. A forked child would inherit the block, and repeat
// its parent's serials: the block is dropped when a fork has happened since it
// was drawn. Forks are counted in the child rather than found by comparing
// getpid(), which is a system call per token.
std::atomic<unsigned> fork_generation{0};
void CountFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct SerialBlock {
  static constexpr std::size_t kSerials = 64;
  std::array<std::uint8_t, 16 * kSerials> bits{};
  std::size_t next = kSerials;
  unsigned generation = 0;
};
thread_local SerialBlock serial_block;

bool NextRandomSerial(std::span<std::uint8_t, 16> out) {
  // Without the fork handler no block may be reused: a serial per draw.
  static const bool forks_counted = ::pthread_atfork(nullptr, nullptr, CountFork) == 0;
  SerialBlock& block = serial_block;
  const unsigned generation = fork_generation.load(std::memory_order_relaxed);
  if (block.next == SerialBlock::kSerials || block.generation != generation || !forks_counted) {
    if (RAND_bytes(block.bits.data(), static_cast<int>(block.bits.size())) != 1) return false;
    block.next = 0;
    block.generation = generation;
  }
  std::copy_n(block.bits.data() + 16 * block.next++, 16, out.begin());
  return true;
}

}  // namespace

std::string_view TsaKeyTypeName(TsaKeyType type) { return Info(type).name; }

Result<TsaKeyType> TsaKeyTypeFromName(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const KeyTypeInfo& info : kKeyTypes)
    if (info.name == lower) return info.type;
  return Status::InvalidArgument("unknown TSA key type '" + std::string(name) +
                                 "' (ec-p256, ec-p384, rsa-2048 or rsa-3072)");
}

TsaKeySignatureAlgorithm TsaKeySignature(TsaKeyType type) {
  const KeyTypeInfo& info = Info(type);
  return {info.signature_key, info.bits};
}

Status CreateEmbeddedTsa(const std::filesystem::path& dir, const EmbeddedTsaOptions& options, const Clock& clock) {
  if (options.organization.empty()) return Status::InvalidArgument("the TSA organization name is empty");
  if (options.ca_validity_years <= 0 || options.tsa_validity_years <= 0)
    return Status::InvalidArgument("certificate validity must be at least one year");
  if (options.tsa_validity_years > options.ca_validity_years)
    return Status::InvalidArgument("the TSA certificate cannot outlive its CA");
  std::error_code ec;
  for (const char* file : {kCaCertificateFile, kCaKeyFile, kTsaCertificateFile, kTsaKeyFile}) {
    if (std::filesystem::exists(dir / file, ec))
      return Status::AlreadyExists((dir / file).string() + " exists; refusing to overwrite a TSA");
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir.string() + ": cannot create: " + ec.message());

  TimePoint now = clock.Now();
  TimePoint not_before = now - kNotBeforeMargin;

  const TsaKeyType ca_key_type = options.key_type == TsaKeyType::kRsa2048 ? TsaKeyType::kRsa3072 : options.key_type;
  PRESERVE_ASSIGN_OR_RETURN(EvpPkeyPtr ca_key, GenerateKey(ca_key_type));
  PRESERVE_ASSIGN_OR_RETURN(X509NamePtr ca_name, MakeName(options.organization, "preserve local CA"));
  CertificateSpec ca_spec;
  ca_spec.subject = ca_name.get();
  ca_spec.public_key = ca_key.get();
  ca_spec.issuer_key = ca_key.get();
  ca_spec.not_before = not_before;
  ca_spec.not_after = AddYears(now, options.ca_validity_years);
  ca_spec.extensions = {{NID_basic_constraints, "critical,CA:TRUE"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign"},
                        {NID_subject_key_identifier, "hash"}};
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr ca, IssueCertificate(ca_spec));

  PRESERVE_ASSIGN_OR_RETURN(EvpPkeyPtr tsa_key, GenerateKey(options.key_type));
  PRESERVE_ASSIGN_OR_RETURN(X509NamePtr tsa_name, MakeName(options.organization, "preserve time-stamping authority"));
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr tsa, IssueTsaCertificate(tsa_name.get(), tsa_key.get(), ca.get(), ca_key.get(),
                                                             not_before, AddYears(now, options.tsa_validity_years)));

  PRESERVE_ASSIGN_OR_RETURN(Bytes ca_key_pem, PrivateKeyPem(ca_key.get()));
  PRESERVE_ASSIGN_OR_RETURN(Bytes tsa_key_pem, PrivateKeyPem(tsa_key.get()));
  PRESERVE_ASSIGN_OR_RETURN(Bytes ca_pem, CertificatePem(ca.get()));
  PRESERVE_ASSIGN_OR_RETURN(Bytes tsa_pem, CertificatePem(tsa.get()));
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kCaKeyFile, ca_key_pem, kSecret));
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kTsaKeyFile, tsa_key_pem, kSecret));
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kCaCertificateFile, ca_pem, kPublic));
  return WriteWithMode(dir / kTsaCertificateFile, tsa_pem, kPublic);
}

Status RollOverEmbeddedTsa(const std::filesystem::path& dir, TsaKeyType key_type, int validity_years,
                           const Clock& clock) {
  if (validity_years <= 0) return Status::InvalidArgument("certificate validity must be at least one year");
  PRESERVE_RETURN_IF_ERROR(CompleteInterruptedRollover(dir));
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr ca, LoadCertificate(dir / kCaCertificateFile));
  PRESERVE_ASSIGN_OR_RETURN(EvpPkeyPtr ca_key, LoadPrivateKey(dir / kCaKeyFile));
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr current, LoadCertificate(dir / kTsaCertificateFile));
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1)
    return Status::Corruption(OpenSslFailure((dir / kCaKeyFile).string() + " does not match ca.pem"));

  const TimePoint now = clock.Now();
  PRESERVE_ASSIGN_OR_RETURN(TimePoint ca_not_after, NotAfter(ca.get()));
  if (ca_not_after <= now)
    return Status::FailedPrecondition("the local CA expired on " + FormatUtcTime(ca_not_after) +
                                      "; it can issue no new TSA certificate");
  // Same subject: the same authority with a new key. Within the CA's validity,
  // or the new certificate's path would fail before its own end.
  PRESERVE_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey(key_type));
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr cert, IssueTsaCertificate(X509_get_subject_name(current.get()), key.get(),
                                                              ca.get(), ca_key.get(), now - kNotBeforeMargin,
                                                              std::min(AddYears(now, validity_years), ca_not_after)));
  PRESERVE_ASSIGN_OR_RETURN(Bytes key_pem, PrivateKeyPem(key.get()));
  PRESERVE_ASSIGN_OR_RETURN(Bytes cert_pem, CertificatePem(cert.get()));

  // The order matters; CompleteInterruptedRollover relies on it: the key
  // first, so a tsa.pem.new always has its key; the old certificate kept
  // before the switch; then the key, then the certificate, made active.
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kNewTsaKeyFile, key_pem, kSecret));
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kNewTsaCertificateFile, cert_pem, kPublic));
  PRESERVE_FAULT_POINT("tsa.rollover.after_new_files");
  PRESERVE_RETURN_IF_ERROR(RetireActiveCertificate(dir));
  PRESERVE_RETURN_IF_ERROR(Rename(dir / kNewTsaKeyFile, dir / kTsaKeyFile));
  PRESERVE_FAULT_POINT("tsa.rollover.after_key_switch");
  PRESERVE_RETURN_IF_ERROR(Rename(dir / kNewTsaCertificateFile, dir / kTsaCertificateFile));
  return SyncDirectory(dir);
}

struct EmbeddedTsa::Impl {
  const Clock* clock = nullptr;
  std::uint64_t id = 0;  // for ThreadSigners
  X509Ptr tsa;
  EvpPkeyPtr tsa_key;
  Asn1ObjectPtr policy;
  Bytes ca_der;
  Bytes tsa_der;
  std::vector<Bytes> all_tsa_der;
  TsaKeyType key_type = TsaKeyType::kEcdsaP256;
  TimePoint not_after;

  // The pieces of a granted response (see MakeSignerProfile), one profile per
  // signer digest SignerDigestFor can choose.
  std::vector<SignerProfile> profiles;
  // What a granted request's imprint algorithm (by its OID's content octets)
  // needs: the hash's size, and the profile of its signer digest.
  struct ImprintRule {
    Bytes oid;
    std::size_t hash_size = 0;
    std::size_t profile = 0;
  };
  std::vector<ImprintRule> imprint_rules;
  Bytes policy_oid;  // the policy OID's content octets, as a request names it
  Bytes policy_der;
  Bytes signer_identifier;  // IssuerAndSerialNumber
  Bytes certificates;       // [0] IMPLICIT SET OF Certificate: the TSA's
  Bytes content_type_attribute;
  Bytes tst_info_type;  // id-smime-ct-TSTInfo
  Bytes signed_data_type;

  Status PrepareGrants();
  EVP_PKEY_CTX* ThreadSigner(std::size_t profile);
  std::optional<Result<Bytes>> Grant(const internal::PlainTimeStampRequest& request);
  Result<Bytes> AnswerWithOpenSsl(const Bytes& request_der);
};

Status EmbeddedTsa::Impl::PrepareGrants() {
  // A profile for each signer digest SignerDigestFor chooses, made when an
  // imprint digest first needs it.
  for (const EVP_MD* md : AcceptedImprintDigests()) {
    const int nid = EVP_MD_get_type(md);
    const EVP_MD* signer_digest = SignerDigestFor(nid, key_type);
    auto profile = std::find_if(profiles.begin(), profiles.end(), [signer_digest](const SignerProfile& p) {
      return p.digest_nid == EVP_MD_get_type(signer_digest);
    });
    if (profile == profiles.end()) {
      PRESERVE_ASSIGN_OR_RETURN(SignerProfile made, MakeSignerProfile(signer_digest, tsa.get(), tsa_key.get()));
      profile = profiles.insert(profiles.end(), std::move(made));
    }
    const ASN1_OBJECT* oid = OBJ_nid2obj(nid);
    imprint_rules.push_back({Bytes(OBJ_get0_data(oid), OBJ_get0_data(oid) + OBJ_length(oid)),
                             static_cast<std::size_t>(EVP_MD_get_size(md)),
                             static_cast<std::size_t>(profile - profiles.begin())});
  }
  policy_oid.assign(OBJ_get0_data(policy.get()), OBJ_get0_data(policy.get()) + OBJ_length(policy.get()));
  PKCS7_ISSUER_AND_SERIAL issuer_and_serial{X509_get_issuer_name(tsa.get()),
                                            const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(tsa.get()))};
  signer_identifier = ToDer(i2d_PKCS7_ISSUER_AND_SERIAL, &issuer_and_serial);
  if (signer_identifier.empty()) return OutOfMemory("cannot encode the TSA's issuer and serial number");
  policy_der = ToDer(i2d_ASN1_OBJECT, policy.get());
  certificates = der::Tlv(der::kContext0, {tsa_der});
  tst_info_type = Oid(NID_id_smime_ct_TSTInfo);
  signed_data_type = Oid(NID_pkcs7_signed);
  content_type_attribute = Attribute(NID_pkcs9_contentType, tst_info_type);
  return Status::Ok();
}

EVP_PKEY_CTX* EmbeddedTsa::Impl::ThreadSigner(std::size_t profile) {
  ThreadSigners& signers = thread_signers;
  if (signers.tsa_id != id) {
    signers.tsa_id = id;
    signers.by_profile.clear();
    signers.by_profile.resize(profiles.size());
  }
  EvpPkeyCtxPtr& signer = signers.by_profile[profile];
  if (!signer) {
    EvpPkeyCtxPtr made(EVP_PKEY_CTX_new_from_pkey(nullptr, tsa_key.get(), nullptr));
    if (!made || EVP_PKEY_sign_init(made.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(made.get(), profiles[profile].digest.get()) != 1)
      return nullptr;
    signer = std::move(made);
  }
  return signer.get();
}

// nullopt: not a request this path answers; TS_RESP_create_response will.
std::optional<Result<Bytes>> EmbeddedTsa::Impl::Grant(const internal::PlainTimeStampRequest& request) {
  const auto rule = std::find_if(imprint_rules.begin(), imprint_rules.end(), [&request](const ImprintRule& r) {
    return std::ranges::equal(r.oid, request.imprint_algorithm);
  });
  if (rule == imprint_rules.end() || request.hashed_message.size() != rule->hash_size ||
      (!request.policy.empty() && !std::ranges::equal(request.policy, policy_oid)))
    return std::nullopt;
  const SignerProfile& profile = profiles[rule->profile];

  const TimePoint now = clock->Now();
  std::optional<Bytes> gen_time = DerTime(now, true);
  std::optional<Bytes> signing_time = DerTime(now, false);
  if (!gen_time || !signing_time) return std::nullopt;
  // 128 random bits, the top one set: the serial RandomTokenSerial would
  // draw, after a leading zero that keeps the INTEGER positive.
  std::array<std::uint8_t, 17> serial{};
  if (!NextRandomSerial(std::span<std::uint8_t, 16>(serial.data() + 1, 16)))
    return Result<Bytes>(Status::Internal(OpenSslFailure("cannot draw a random serial number")));
  serial[1] |= 0x80;

  static constexpr std::uint8_t kVersion1[] = {der::kInteger, 1, 1};
  static constexpr std::uint8_t kVersion3[] = {der::kInteger, 1, 3};
  static constexpr std::uint8_t kGranted[] = {der::kSequence, 3, der::kInteger, 1, 0};
  static constexpr std::uint8_t kAccuracyOneSecond[] = {der::kSequence, 3, der::kInteger, 1, 1};
  const Bytes tst_info = der::Tlv(
      der::kSequence,
      {kVersion1, policy_der,
       der::Tlv(der::kSequence,
                {der::Tlv(der::kSequence, {der::Tlv(der::kOid, {request.imprint_algorithm}),
                                           request.imprint_null_parameters ? kNullElement : ByteView()}),
                 der::Tlv(der::kOctetString, {request.hashed_message})}),
       der::Tlv(der::kInteger, {serial}), *gen_time, kAccuracyOneSecond, request.nonce});

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  if (EVP_Digest(tst_info.data(), tst_info.size(), digest.data(), &digest_length, profile.digest.get(), nullptr) != 1)
    return Result<Bytes>(Status::Internal(OpenSslFailure("cannot hash the TSTInfo")));
  // DER orders a SET OF by the encodings, as OpenSSL's encoder does.
  std::array<Bytes, 4> attributes = {
      content_type_attribute, profile.signing_certificate_attribute,
      Attribute(NID_pkcs9_signingTime, *signing_time),
      Attribute(NID_pkcs9_messageDigest, der::Tlv(der::kOctetString, {ByteView(digest.data(), digest_length)}))};
  std::sort(attributes.begin(), attributes.end(), [](const Bytes& a, const Bytes& b) {
    const int order = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
    return order != 0 ? order < 0 : a.size() < b.size();
  });
  // What is signed is the attributes' SET OF encoding; the token carries them
  // under the [0] IMPLICIT tag instead.
  Bytes signed_attributes = der::Tlv(der::kSet, {attributes[0], attributes[1], attributes[2], attributes[3]});
  if (EVP_Digest(signed_attributes.data(), signed_attributes.size(), digest.data(), &digest_length,
                 profile.digest.get(), nullptr) != 1)
    return Result<Bytes>(Status::Internal(OpenSslFailure("cannot hash the signed attributes")));
  EVP_PKEY_CTX* signer = ThreadSigner(rule->profile);
  Bytes signature(static_cast<std::size_t>(EVP_PKEY_get_size(tsa_key.get())));
  std::size_t signature_length = signature.size();
  if (signer == nullptr ||
      EVP_PKEY_sign(signer, signature.data(), &signature_length, digest.data(), digest_length) != 1)
    return Result<Bytes>(Status::Internal(OpenSslFailure("cannot sign the token")));
  signature.resize(signature_length);
  signed_attributes[0] = der::kContext0;

  const Bytes signer_info = der::Tlv(der::kSequence, {kVersion1, signer_identifier, profile.digest_algorithm,
                                                      signed_attributes, profile.signature_algorithm,
                                                      der::Tlv(der::kOctetString, {signature})});
  const Bytes signed_data = der::Tlv(
      der::kSequence,
      {kVersion3, der::Tlv(der::kSet, {profile.digest_algorithm}),
       der::Tlv(der::kSequence,
                {tst_info_type, der::Tlv(der::kContext0, {der::Tlv(der::kOctetString, {tst_info})})}),
       request.cert_req ? ByteView(certificates) : ByteView(), der::Tlv(der::kSet, {signer_info})});
  return Result<Bytes>(der::Tlv(
      der::kSequence,
      {kGranted, der::Tlv(der::kSequence, {signed_data_type, der::Tlv(der::kContext0, {signed_data})})}));
}

Result<Bytes> EmbeddedTsa::Impl::AnswerWithOpenSsl(const Bytes& request_der) {
  // The signer digest follows the imprint's (SignerDigestFor). A request
  // OpenSSL cannot read is rejected by TS_RESP_create_response below.
  const unsigned char* p = request_der.data();
  TsReqPtr parsed(d2i_TS_REQ(nullptr, &p, static_cast<long>(request_der.size())));
  const int imprint_nid =
      parsed ? OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(TS_REQ_get_msg_imprint(parsed.get()))->algorithm) : NID_undef;
  ERR_clear_error();
  const EVP_MD* signer_digest = SignerDigestFor(imprint_nid, key_type);
  TsRespCtxPtr ctx(TS_RESP_CTX_new());
  if (!ctx) return OutOfMemory("TS_RESP_CTX_new");
  bool configured = TS_RESP_CTX_set_signer_cert(ctx.get(), tsa.get()) == 1 &&
                    TS_RESP_CTX_set_signer_key(ctx.get(), tsa_key.get()) == 1 &&
                    TS_RESP_CTX_set_signer_digest(ctx.get(), signer_digest) == 1 &&
                    TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), signer_digest) == 1 &&
                    TS_RESP_CTX_set_def_policy(ctx.get(), policy.get()) == 1 &&
                    TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0) == 1;
  for (const EVP_MD* md : AcceptedImprintDigests()) configured = configured && TS_RESP_CTX_add_md(ctx.get(), md) == 1;
  if (!configured) return Status::Internal(OpenSslFailure("cannot set up the embedded TSA"));
  TS_RESP_CTX_set_time_cb(ctx.get(), GenTimeFromClock, const_cast<Clock*>(clock));
  TS_RESP_CTX_set_serial_cb(ctx.get(), RandomTokenSerial, nullptr);

  // BIO_new_mem_buf refuses a null pointer, which is what an empty vector has.
  static constexpr std::uint8_t kNoBytes = 0;
  BioPtr request = MemoryBio(request_der.empty() ? ByteView(&kNoBytes, 0) : ByteView(request_der));
  if (!request) return OutOfMemory("BIO_new_mem_buf");
  TsRespPtr response(TS_RESP_create_response(ctx.get(), request.get()));
  if (!response) return Status::Internal(OpenSslFailure("the embedded TSA could not build a response"));
  // On the real clock OpenSSL's signingTime already is the time: sign once.
  if (clock->simulated()) PRESERVE_RETURN_IF_ERROR(SignAtClockTime(response.get(), clock->Now()));
  // A malformed or refused request is answered with a rejection, not an
  // error; the queue then holds why, which the response already says.
  ERR_clear_error();
  Bytes der = ToDer(i2d_TS_RESP, response.get());
  if (der.empty()) return Status::Internal(OpenSslFailure("i2d_TS_RESP"));
  return der;
}

EmbeddedTsa::EmbeddedTsa(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddedTsa::~EmbeddedTsa() = default;

Result<std::unique_ptr<EmbeddedTsa>> EmbeddedTsa::Open(const std::filesystem::path& dir, const Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::NotFound(dir.string() + ": no embedded TSA here");
  PRESERVE_RETURN_IF_ERROR(CompleteInterruptedRollover(dir));
  auto impl = std::make_unique<Impl>();
  impl->clock = &clock;
  impl->id = next_tsa_id++;
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr ca, LoadCertificate(dir / kCaCertificateFile));
  PRESERVE_ASSIGN_OR_RETURN(impl->tsa, LoadCertificate(dir / kTsaCertificateFile));
  PRESERVE_ASSIGN_OR_RETURN(impl->tsa_key, LoadPrivateKey(dir / kTsaKeyFile));
  if (X509_check_private_key(impl->tsa.get(), impl->tsa_key.get()) != 1)
    return Status::Corruption(OpenSslFailure((dir / kTsaKeyFile).string() + " does not match tsa.pem"));
  if (int rc = X509_check_issued(ca.get(), impl->tsa.get()); rc != X509_V_OK)
    return Status::Corruption((dir / kTsaCertificateFile).string() +
                              " was not issued by ca.pem: " + X509_verify_cert_error_string(rc));
  PRESERVE_ASSIGN_OR_RETURN(impl->key_type, KeyTypeOf(impl->tsa_key.get(), dir / kTsaKeyFile));
  PRESERVE_ASSIGN_OR_RETURN(impl->not_after, NotAfter(impl->tsa.get()));
  PRESERVE_ASSIGN_OR_RETURN(std::vector<X509Ptr> retired, LoadRetiredCertificates(dir));

  const char* policy_oid = clock.simulated() ? kSimulatedTimePolicyOid : kEmbeddedTsaPolicyOid;
  impl->policy.reset(OBJ_txt2obj(policy_oid, 1));
  if (!impl->policy) return OutOfMemory("OBJ_txt2obj");
  impl->ca_der = ToDer(i2d_X509, ca.get());
  impl->tsa_der = ToDer(i2d_X509, impl->tsa.get());
  impl->all_tsa_der.push_back(impl->tsa_der);
  for (const X509Ptr& cert : retired) impl->all_tsa_der.push_back(ToDer(i2d_X509, cert.get()));
  PRESERVE_RETURN_IF_ERROR(impl->PrepareGrants());
  return std::unique_ptr<EmbeddedTsa>(new EmbeddedTsa(std::move(impl)));
}

// Thread-safe without a lock: what a token shares with others is only read
// (OpenSSL 3 signs with a shared EVP_PKEY from several threads safely), each
// thread signs with its own EVP_PKEY_CTX, and the fallback path makes its own
// TS_RESP_CTX per call.
Result<Bytes> EmbeddedTsa::Exchange(const Bytes& request_der) {
  if (std::optional<internal::PlainTimeStampRequest> request = internal::ReadPlainTimeStampRequest(request_der)) {
    if (std::optional<Result<Bytes>> granted = impl_->Grant(*request)) return std::move(*granted);
  }
  return impl_->AnswerWithOpenSsl(request_der);
}

const Bytes& EmbeddedTsa::ca_certificate() const { return impl_->ca_der; }
const Bytes& EmbeddedTsa::tsa_certificate() const { return impl_->tsa_der; }
const std::vector<Bytes>& EmbeddedTsa::all_tsa_certificates() const { return impl_->all_tsa_der; }
TsaKeyType EmbeddedTsa::key_type() const { return impl_->key_type; }
TimePoint EmbeddedTsa::certificate_not_after() const { return impl_->not_after; }

}  // namespace preserve::timestamp
