#include "preserve/timestamp/embedded_tsa.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "preserve/util/certificates.h"
#include "preserve/util/openssl_ptr.h"

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
  SignatureKeyType signature_key;
  int bits;
  const char* curve;  // EVP_EC_gen's name; nullptr for RSA
};

constexpr std::array<KeyTypeInfo, 4> kKeyTypes = {{
    {TsaKeyType::kEcdsaP256, "ec-p256", SignatureKeyType::kEcdsa, 256, "P-256"},
    {TsaKeyType::kEcdsaP384, "ec-p384", SignatureKeyType::kEcdsa, 384, "P-384"},
    {TsaKeyType::kRsa2048, "rsa-2048", SignatureKeyType::kRsa, 2048, nullptr},
    {TsaKeyType::kRsa3072, "rsa-3072", SignatureKeyType::kRsa, 3072, nullptr},
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

Status SyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(dir.string() + ": cannot open directory: " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError(dir.string() + ": fsync failed: " + std::strerror(errno));
  return Status::Ok();
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
// read gets SHA-256; it is rejected anyway.
const EVP_MD* SignerDigestFor(ByteView request_der, TsaKeyType key_type) {
  const unsigned char* p = request_der.data();
  TsReqPtr request(d2i_TS_REQ(nullptr, &p, static_cast<long>(request_der.size())));
  if (!request) {
    ERR_clear_error();
    return EVP_sha256();
  }
  const X509_ALGOR* algorithm = TS_MSG_IMPRINT_get_algo(TS_REQ_get_msg_imprint(request.get()));
  const int nid = OBJ_obj2nid(algorithm->algorithm);
  const bool sha3 = nid == NID_sha3_256 || nid == NID_sha3_384 || nid == NID_sha3_512;
  if (sha3 && Info(key_type).curve != nullptr) return EVP_sha512();
  for (const EVP_MD* md : AcceptedImprintDigests())
    if (EVP_MD_get_type(md) == nid) return md;
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
  PRESERVE_RETURN_IF_ERROR(RetireActiveCertificate(dir));
  PRESERVE_RETURN_IF_ERROR(Rename(dir / kNewTsaKeyFile, dir / kTsaKeyFile));
  PRESERVE_RETURN_IF_ERROR(Rename(dir / kNewTsaCertificateFile, dir / kTsaCertificateFile));
  return SyncDirectory(dir);
}

struct EmbeddedTsa::Impl {
  const Clock* clock = nullptr;
  X509Ptr tsa;
  EvpPkeyPtr tsa_key;
  Asn1ObjectPtr policy;
  Bytes ca_der;
  Bytes tsa_der;
  std::vector<Bytes> all_tsa_der;
  TsaKeyType key_type = TsaKeyType::kEcdsaP256;
  TimePoint not_after;
};

EmbeddedTsa::EmbeddedTsa(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddedTsa::~EmbeddedTsa() = default;

Result<std::unique_ptr<EmbeddedTsa>> EmbeddedTsa::Open(const std::filesystem::path& dir, const Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::NotFound(dir.string() + ": no embedded TSA here");
  PRESERVE_RETURN_IF_ERROR(CompleteInterruptedRollover(dir));
  auto impl = std::make_unique<Impl>();
  impl->clock = &clock;
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
  return std::unique_ptr<EmbeddedTsa>(new EmbeddedTsa(std::move(impl)));
}

// Thread-safe without a lock: each call has its own TS_RESP_CTX, and the
// certificate and key it shares are only read (OpenSSL 3 signs with a shared
// EVP_PKEY from several threads safely).
Result<Bytes> EmbeddedTsa::Exchange(const Bytes& request_der) {
  TsRespCtxPtr ctx(TS_RESP_CTX_new());
  if (!ctx) return OutOfMemory("TS_RESP_CTX_new");
  const EVP_MD* signer_digest = SignerDigestFor(request_der, impl_->key_type);
  bool configured = TS_RESP_CTX_set_signer_cert(ctx.get(), impl_->tsa.get()) == 1 &&
                    TS_RESP_CTX_set_signer_key(ctx.get(), impl_->tsa_key.get()) == 1 &&
                    TS_RESP_CTX_set_signer_digest(ctx.get(), signer_digest) == 1 &&
                    TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), signer_digest) == 1 &&
                    TS_RESP_CTX_set_def_policy(ctx.get(), impl_->policy.get()) == 1 &&
                    TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0) == 1;
  for (const EVP_MD* md : AcceptedImprintDigests()) configured = configured && TS_RESP_CTX_add_md(ctx.get(), md) == 1;
  if (!configured) return Status::Internal(OpenSslFailure("cannot set up the embedded TSA"));
  TS_RESP_CTX_set_time_cb(ctx.get(), GenTimeFromClock, const_cast<Clock*>(impl_->clock));
  TS_RESP_CTX_set_serial_cb(ctx.get(), RandomTokenSerial, nullptr);

  // BIO_new_mem_buf refuses a null pointer, which is what an empty vector has.
  static constexpr std::uint8_t kNoBytes = 0;
  BioPtr request = MemoryBio(request_der.empty() ? ByteView(&kNoBytes, 0) : ByteView(request_der));
  if (!request) return OutOfMemory("BIO_new_mem_buf");
  TsRespPtr response(TS_RESP_create_response(ctx.get(), request.get()));
  if (!response) return Status::Internal(OpenSslFailure("the embedded TSA could not build a response"));
  // On the real clock OpenSSL's signingTime already is the time: sign once.
  if (impl_->clock->simulated()) PRESERVE_RETURN_IF_ERROR(SignAtClockTime(response.get(), impl_->clock->Now()));
  // A malformed or refused request is answered with a rejection, not an
  // error; the queue then holds why, which the response already says.
  ERR_clear_error();
  Bytes der = ToDer(i2d_TS_RESP, response.get());
  if (der.empty()) return Status::Internal(OpenSslFailure("i2d_TS_RESP"));
  return der;
}

const Bytes& EmbeddedTsa::ca_certificate() const { return impl_->ca_der; }
const Bytes& EmbeddedTsa::tsa_certificate() const { return impl_->tsa_der; }
const std::vector<Bytes>& EmbeddedTsa::all_tsa_certificates() const { return impl_->all_tsa_der; }
TsaKeyType EmbeddedTsa::key_type() const { return impl_->key_type; }
TimePoint EmbeddedTsa::certificate_not_after() const { return impl_->not_after; }

}  // namespace preserve::timestamp
