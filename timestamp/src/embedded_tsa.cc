#include "preserve/timestamp/embedded_tsa.h"

#include <openssl/pem.h>

#include <array>
#include <chrono>
#include <mutex>
#include <system_error>

#include "preserve/util/openssl_ptr.h"

namespace preserve::timestamp {

namespace {

constexpr const char* kCaCertificateFile = "ca.pem";
constexpr const char* kCaKeyFile = "ca.key";
constexpr const char* kTsaCertificateFile = "tsa.pem";
constexpr const char* kTsaKeyFile = "tsa.key";

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
  EvpPkeyPtr key(type == TsaKeyType::kRsa3072 ? EVP_RSA_gen(3072) : EVP_EC_gen("P-256"));
  if (!key) return Status::Internal(OpenSslFailure("cannot generate the TSA key"));
  return key;
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
  if (X509_sign(cert.get(), spec.issuer_key, EVP_sha256()) <= 0)
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

// The digests a request's imprint may use: SHA-2 and SHA-3 of 256 bits or
// more. SHA-1 is left out so such a request gets a badAlg rejection.
const std::array<const EVP_MD*, 6>& AcceptedImprintDigests() {
  static const std::array<const EVP_MD*, 6> mds = {EVP_sha256(),   EVP_sha384(),   EVP_sha512(),
                                                   EVP_sha3_256(), EVP_sha3_384(), EVP_sha3_512()};
  return mds;
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

  PRESERVE_ASSIGN_OR_RETURN(EvpPkeyPtr ca_key, GenerateKey(options.key_type));
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
  CertificateSpec tsa_spec;
  tsa_spec.subject = tsa_name.get();
  tsa_spec.public_key = tsa_key.get();
  tsa_spec.issuer = ca.get();
  tsa_spec.issuer_key = ca_key.get();
  tsa_spec.not_before = not_before;
  tsa_spec.not_after = AddYears(now, options.tsa_validity_years);
  tsa_spec.extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                         {NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, "critical,timeStamping"},
                         {NID_subject_key_identifier, "hash"},
                         {NID_authority_key_identifier, "keyid:always"}};
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr tsa, IssueCertificate(tsa_spec));

  using std::filesystem::perms;
  constexpr perms kPublic = perms::owner_read | perms::owner_write | perms::group_read | perms::others_read;
  constexpr perms kSecret = perms::owner_read | perms::owner_write;
  PRESERVE_ASSIGN_OR_RETURN(Bytes ca_key_pem, PrivateKeyPem(ca_key.get()));
  PRESERVE_ASSIGN_OR_RETURN(Bytes tsa_key_pem, PrivateKeyPem(tsa_key.get()));
  PRESERVE_ASSIGN_OR_RETURN(Bytes ca_pem, CertificatePem(ca.get()));
  PRESERVE_ASSIGN_OR_RETURN(Bytes tsa_pem, CertificatePem(tsa.get()));
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kCaKeyFile, ca_key_pem, kSecret));
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kTsaKeyFile, tsa_key_pem, kSecret));
  PRESERVE_RETURN_IF_ERROR(WriteWithMode(dir / kCaCertificateFile, ca_pem, kPublic));
  return WriteWithMode(dir / kTsaCertificateFile, tsa_pem, kPublic);
}

struct EmbeddedTsa::Impl {
  Impl(const Clock& c, X509Ptr tsa_certificate, EvpPkeyPtr key, Asn1ObjectPtr default_policy, Bytes ca_certificate)
      : clock(c),
        tsa(std::move(tsa_certificate)),
        tsa_key(std::move(key)),
        policy(std::move(default_policy)),
        ca_der(std::move(ca_certificate)),
        tsa_der(ToDer(i2d_X509, tsa.get())) {}

  const Clock& clock;
  X509Ptr tsa;
  EvpPkeyPtr tsa_key;
  Asn1ObjectPtr policy;
  Bytes ca_der;
  Bytes tsa_der;
  // TS_RESP_CTX is not shareable and signing is cheap next to a TSA round
  // trip, so one request at a time.
  std::mutex mutex;
};

EmbeddedTsa::EmbeddedTsa(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddedTsa::~EmbeddedTsa() = default;

Result<std::unique_ptr<EmbeddedTsa>> EmbeddedTsa::Open(const std::filesystem::path& dir, const Clock& clock) {
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr ca, LoadCertificate(dir / kCaCertificateFile));
  PRESERVE_ASSIGN_OR_RETURN(X509Ptr tsa, LoadCertificate(dir / kTsaCertificateFile));
  PRESERVE_ASSIGN_OR_RETURN(EvpPkeyPtr tsa_key, LoadPrivateKey(dir / kTsaKeyFile));
  if (X509_check_private_key(tsa.get(), tsa_key.get()) != 1)
    return Status::Corruption(OpenSslFailure((dir / kTsaKeyFile).string() + " does not match tsa.pem"));
  if (int rc = X509_check_issued(ca.get(), tsa.get()); rc != X509_V_OK)
    return Status::Corruption((dir / kTsaCertificateFile).string() +
                              " was not issued by ca.pem: " + X509_verify_cert_error_string(rc));
  const char* policy_oid = clock.simulated() ? kSimulatedTimePolicyOid : kEmbeddedTsaPolicyOid;
  Asn1ObjectPtr policy(OBJ_txt2obj(policy_oid, 1));
  if (!policy) return OutOfMemory("OBJ_txt2obj");

  auto impl =
      std::make_unique<Impl>(clock, std::move(tsa), std::move(tsa_key), std::move(policy), ToDer(i2d_X509, ca.get()));
  return std::unique_ptr<EmbeddedTsa>(new EmbeddedTsa(std::move(impl)));
}

Result<Bytes> EmbeddedTsa::Exchange(const Bytes& request_der) {
  std::lock_guard lock(impl_->mutex);
  TsRespCtxPtr ctx(TS_RESP_CTX_new());
  if (!ctx) return OutOfMemory("TS_RESP_CTX_new");
  bool configured = TS_RESP_CTX_set_signer_cert(ctx.get(), impl_->tsa.get()) == 1 &&
                    TS_RESP_CTX_set_signer_key(ctx.get(), impl_->tsa_key.get()) == 1 &&
                    TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256()) == 1 &&
                    TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) == 1 &&
                    TS_RESP_CTX_set_def_policy(ctx.get(), impl_->policy.get()) == 1 &&
                    TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0) == 1;
  for (const EVP_MD* md : AcceptedImprintDigests()) configured = configured && TS_RESP_CTX_add_md(ctx.get(), md) == 1;
  if (!configured) return Status::Internal(OpenSslFailure("cannot set up the embedded TSA"));
  TS_RESP_CTX_set_time_cb(ctx.get(), GenTimeFromClock, const_cast<Clock*>(&impl_->clock));
  TS_RESP_CTX_set_serial_cb(ctx.get(), RandomTokenSerial, nullptr);

  // BIO_new_mem_buf refuses a null pointer, which is what an empty vector has.
  static constexpr std::uint8_t kNoBytes = 0;
  BioPtr request = MemoryBio(request_der.empty() ? ByteView(&kNoBytes, 0) : ByteView(request_der));
  if (!request) return OutOfMemory("BIO_new_mem_buf");
  TsRespPtr response(TS_RESP_create_response(ctx.get(), request.get()));
  if (!response) return Status::Internal(OpenSslFailure("the embedded TSA could not build a response"));
  // A malformed or refused request is answered with a rejection, not an
  // error; the queue then holds why, which the response already says.
  ERR_clear_error();
  Bytes der = ToDer(i2d_TS_RESP, response.get());
  if (der.empty()) return Status::Internal(OpenSslFailure("i2d_TS_RESP"));
  return der;
}

const Bytes& EmbeddedTsa::ca_certificate() const { return impl_->ca_der; }
const Bytes& EmbeddedTsa::tsa_certificate() const { return impl_->tsa_der; }

}  // namespace preserve::timestamp
