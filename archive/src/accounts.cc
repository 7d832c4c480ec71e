// Accounts (accounts.h): one setting per account, "account/<name>", holding
// JSON. Of a token the row keeps its id, a random salt and SHA-256(salt ||
// secret); of a password, libsodium's argon2id string. Neither secret is
// kept, logged or put in an audit event.
#include "preserve/archive/accounts.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <mutex>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "stored_json.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr std::string_view kAccountPrefix = "account/";

constexpr std::string_view kTokenPrefix = "ptk_";
constexpr std::size_t kTokenIdBytes = 8;  // 16 hex digits: unique among a few accounts, and not secret
constexpr std::size_t kTokenSecretBytes = 32;
constexpr std::size_t kTokenSaltBytes = 16;
constexpr int kBase64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr std::size_t kEncodedSecretSize = sodium_base64_ENCODED_LEN(kTokenSecretBytes, kBase64);  // with the NUL

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMinPasswordCharacters = 12;
constexpr std::size_t kMaxPasswordBytes = 1024;

// The argon2id string of 32 random bytes nobody kept, at the interactive
// limits: a name without an account (or without a password) is verified
// against it, so that it takes as long to refuse as a wrong password.
constexpr const char* kDummyPasswordHash =
    "$argon2id$v=19$m=65536,t=2,p=1$JQj4eEEDdchbNBFepGBXLw$1nZ6RNeWiWy3+l22TZp2e63GkWOOszd/VUdfeTfEVuk";

// One answer for every failed authentication: which part was wrong (the
// name, the secret, a disabled account) is not said.
Status AuthenticationFailed() {
  return Status::NotFound("unknown or disabled account, or wrong credentials");
}

Status InitSodium() {
  static std::once_flag once;
  static int result = -1;
  std::call_once(once, [] { result = sodium_init(); });  // 1 when another part of the process did it first
  return result < 0 ? Status::Internal("libsodium could not be initialized") : Status::Ok();
}

// Changes are read, checked and written; this makes them one at a time in a
// process (two requests to `preserve serve` could otherwise both find a name
// free, or a certificate unmapped). Between processes the writer lock does.
std::mutex& ChangeMutex() {
  static std::mutex mutex;
  return mutex;
}

// Bytes of a secret, wiped when they go.
template <std::size_t N>
struct SecretBytes {
  std::array<unsigned char, N> bytes{};
  SecretBytes() = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { sodium_memzero(bytes.data(), bytes.size()); }
};
using TokenSecret = SecretBytes<kTokenSecretBytes>;

// An account as its row holds it.
struct StoredAccount {
  Account account;  // has_password follows `password`
  std::string token_id;
  Bytes token_salt;
  Bytes token_hash;      // SHA-256(token_salt || secret)
  std::string password;  // crypto_pwhash_argon2id_str's string; "" when none was set
};

std::string AccountKey(std::string_view name) { return std::string(kAccountPrefix) + std::string(name); }

bool NameCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || !std::all_of(name.begin(), name.end(), NameCharacter))
    return Status::InvalidArgument("account name '" + NameForDisplay(name) +
                                   "': 1 to 64 letters (A-Z, a-z), digits, '.', '_' or '-'");
  return Status::Ok();
}

Status CheckChange(bool writable, const std::string& actor) {
  if (!writable) return Status::FailedPrecondition("the store is open read-only");
  if (actor.empty()) return Status::InvalidArgument("who makes the change is required");
  return InitSodium();
}

Status NoSuchAccount(std::string_view name) {
  return Status::NotFound("no account named '" + NameForDisplay(name) + "'");
}

Status CheckPassword(const std::string& password) {
  if (password.size() > kMaxPasswordBytes)
    return Status::InvalidArgument("a password may be at most " + std::to_string(kMaxPasswordBytes) + " bytes");
  if (!IsUtf8(password)) return Status::InvalidArgument("a password must be UTF-8 text");
  // Characters, not bytes: every byte but a continuation byte starts one.
  const auto characters = std::count_if(password.begin(), password.end(),
                                        [](char c) { return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u; });
  if (static_cast<std::size_t>(characters) < kMinPasswordCharacters)
    return Status::InvalidArgument("a password needs at least " + std::to_string(kMinPasswordCharacters) +
                                   " characters");
  return Status::Ok();
}

// The certificate's SHA-256 in hex, as accounts map it.
Result<std::string> CertificateSha256(const Bytes& der) {
  if (CertificateSubject(der).empty()) return Status::InvalidArgument("not an X.509 certificate");
  return ToHex(Digest(HashAlgorithm::kSha256, der));
}

Status CertificateTaken(const std::string& holder) {
  return Status::AlreadyExists("that certificate is already mapped to account '" + holder + "'");
}

Bytes TokenHash(ByteView salt, const TokenSecret& secret) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, salt.data(), salt.size());
  crypto_hash_sha256_update(&state, secret.bytes.data(), secret.bytes.size());
  Bytes hash(crypto_hash_sha256_BYTES);
  crypto_hash_sha256_final(&state, hash.data());
  sodium_memzero(&state, sizeof state);
  return hash;
}

// Puts a new token into `s`; returns it, for the holder alone.
std::string IssueToken(StoredAccount& s, TimePoint now) {
  Bytes id(kTokenIdBytes);
  randombytes_buf(id.data(), id.size());
  s.token_id = ToHex(id);
  s.token_salt.assign(kTokenSaltBytes, 0);
  randombytes_buf(s.token_salt.data(), s.token_salt.size());
  TokenSecret secret;
  randombytes_buf(secret.bytes.data(), secret.bytes.size());
  s.token_hash = TokenHash(s.token_salt, secret);
  s.account.token_issued = now;
  SecretBytes<kEncodedSecretSize> encoded;
  sodium_bin2base64(reinterpret_cast<char*>(encoded.bytes.data()), encoded.bytes.size(), secret.bytes.data(),
                    secret.bytes.size(), kBase64);
  return std::string(kTokenPrefix) + s.token_id + "." +
         std::string(reinterpret_cast<const char*>(encoded.bytes.data()), kEncodedSecretSize - 1);
}

// Splits "ptk_<id>.<secret>"; false for anything else.
bool ParseToken(std::string_view token, std::string& id, TokenSecret& secret) {
  if (!token.starts_with(kTokenPrefix)) return false;
  token.remove_prefix(kTokenPrefix.size());
  const std::size_t dot = token.find('.');
  if (dot != 2 * kTokenIdBytes) return false;
  id = token.substr(0, dot);
  const std::string_view encoded = token.substr(dot + 1);
  std::size_t decoded = 0;
  // No end pointer: any character outside the alphabet, or padding, refuses the whole.
  return sodium_base642bin(secret.bytes.data(), secret.bytes.size(), encoded.data(), encoded.size(), nullptr,
                           &decoded, nullptr, kBase64) == 0 &&
         decoded == secret.bytes.size();
}

Bytes Encode(const StoredAccount& s) {
  const Account& a = s.account;
  json::object o{{"name", a.name},
                 {"role", RoleName(a.role)},
                 {"disabled", a.disabled},
                 {"created", FormatUtcTime(a.created)},
                 {"created_by", a.created_by},
                 {"token_id", s.token_id},
                 {"token_salt", ToHex(s.token_salt)},
                 {"token_hash", ToHex(s.token_hash)},
                 {"token_issued", FormatUtcTime(a.token_issued)}};
  if (!s.password.empty()) o["password"] = s.password;
  if (!a.certificate_sha256.empty()) o["certificate_sha256"] = a.certificate_sha256;
  return ToBytes(SerializeForStore(o));
}

Result<StoredAccount> Decode(std::string_view key, ByteView value) {
  auto bad = [&key](const std::string& why) {
    return Status::Corruption("account row " + std::string(key) + ": " + why);
  };
  auto parsed =
      ParseStoredJson(std::string_view(reinterpret_cast<const char*>(value.data()), value.size()), "account row");
  if (!parsed.ok() || !parsed->is_object()) return bad("not a JSON object");
  const json::object& o = parsed->as_object();
  auto text = [&o](const char* name) -> std::string {
    const json::value* v = o.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  StoredAccount s;
  Account& a = s.account;
  a.name = text("name");
  if (a.name != key.substr(kAccountPrefix.size())) return bad("its name is not its key's");
  const std::optional<Role> role = RoleFromName(text("role"));
  if (!role) return bad("no role");
  a.role = *role;
  const json::value* disabled = o.if_contains("disabled");
  if (disabled == nullptr || !disabled->is_bool()) return bad("no 'disabled'");
  a.disabled = disabled->as_bool();
  auto created = ParseUtcTime(text("created"));
  auto issued = ParseUtcTime(text("token_issued"));
  if (!created.ok() || !issued.ok()) return bad("a time that does not read");
  a.created = *created;
  a.token_issued = *issued;
  a.created_by = text("created_by");
  s.token_id = text("token_id");
  auto salt = FromHex(text("token_salt"));
  auto hash = FromHex(text("token_hash"));
  if (s.token_id.size() != 2 * kTokenIdBytes || !salt.ok() || salt->size() != kTokenSaltBytes || !hash.ok() ||
      hash->size() != crypto_hash_sha256_BYTES)
    return bad("no token");
  s.token_salt = std::move(salt).value();
  s.token_hash = std::move(hash).value();
  s.password = text("password");
  a.has_password = !s.password.empty();
  a.certificate_sha256 = text("certificate_sha256");
  return s;
}

// kNotFound for a name no account has, or can have.
Result<StoredAccount> Load(const storage::Store& store, const std::string& name) {
  if (!CheckName(name).ok()) return NoSuchAccount(name);
  const std::string key = AccountKey(name);
  auto value = store.GetSetting(key);
  if (!value.ok() && value.status().code() == StatusCode::kNotFound) return NoSuchAccount(name);
  if (!value.ok()) return value.status();
  return Decode(key, value.value());
}

// Every account, by name.
Result<std::vector<StoredAccount>> LoadAll(const storage::Store& store) {
  std::vector<StoredAccount> out;
  Status decoded = Status::Ok();
  PRESERVE_RETURN_IF_ERROR(store.ScanSettings(kAccountPrefix, [&](std::string_view key, ByteView value) {
    auto s = Decode(key, value);
    if (!s.ok()) {
      decoded = s.status();
      return false;
    }
    out.push_back(std::move(s).value());
    return true;
  }));
  PRESERVE_RETURN_IF_ERROR(decoded);
  return out;
}

// Writes `s` with its "account" event in one commit. The event names the
// action, the account, its role and who acted, and `more`: never a secret.
Status CommitChange(storage::Store& store, const Clock& clock, const StoredAccount& s, std::string_view action,
                    const std::string& actor, const std::vector<std::pair<std::string, std::string>>& more = {}) {
  storage::WriteSet w;
  w.PutSetting(AccountKey(s.account.name), Encode(s));
  w.AppendAudit(AuditEvent(clock, "account",
                           {{"action", std::string(action)},
                            {"name", s.account.name},
                            {"role", std::string(RoleName(s.account.role))},
                            {"by", actor}},
                           more));
  return store.Commit(std::move(w));
}

Status SetDisabled(storage::Store& store, const Clock& clock, const std::string& name, bool disabled,
                   const std::string& actor) {
  std::lock_guard<std::mutex> lock(ChangeMutex());
  PRESERVE_ASSIGN_OR_RETURN(StoredAccount s, Load(store, name));
  if (s.account.disabled == disabled) return Status::Ok();  // nothing changes: no write, no event
  s.account.disabled = disabled;
  return CommitChange(store, clock, s, disabled ? "disable" : "enable", actor);
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOfficer: return "officer";
    case Role::kAuditor: return "auditor";
    case Role::kAdmin: return "admin";
  }
  return "officer";
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role role : {Role::kOfficer, Role::kAuditor, Role::kAdmin})
    if (name == RoleName(role)) return role;
  return std::nullopt;
}

Accounts::Accounts(Archive& archive) : impl_(archive.impl_.get()) {}

Result<std::string> Accounts::Add(const std::string& name, Role role, const std::string& actor,
                                  const std::optional<Bytes>& certificate_der) {
  PRESERVE_RETURN_IF_ERROR(CheckChange(impl_->writable(), actor));
  PRESERVE_RETURN_IF_ERROR(CheckName(name));
  StoredAccount s;
  if (certificate_der) {
    PRESERVE_ASSIGN_OR_RETURN(s.account.certificate_sha256, CertificateSha256(*certificate_der));
  }
  std::lock_guard<std::mutex> lock(ChangeMutex());
  PRESERVE_ASSIGN_OR_RETURN(std::vector<StoredAccount> all, LoadAll(*impl_->store));
  for (const StoredAccount& other : all) {
    if (other.account.name == name) return Status::AlreadyExists("an account named '" + name + "' exists");
    if (!s.account.certificate_sha256.empty() && other.account.certificate_sha256 == s.account.certificate_sha256)
      return CertificateTaken(other.account.name);
  }
  const TimePoint now = impl_->clock->Now();
  s.account.name = name;
  s.account.role = role;
  s.account.created = now;
  s.account.created_by = actor;
  std::string token = IssueToken(s, now);
  std::vector<std::pair<std::string, std::string>> more;
  if (!s.account.certificate_sha256.empty()) more.emplace_back("certificate_sha256", s.account.certificate_sha256);
  PRESERVE_RETURN_IF_ERROR(CommitChange(*impl_->store, *impl_->clock, s, "add", actor, more));
  return token;
}

Result<std::vector<Account>> Accounts::List() const {
  PRESERVE_ASSIGN_OR_RETURN(std::vector<StoredAccount> all, LoadAll(*impl_->store));
  std::vector<Account> out;
  out.reserve(all.size());
  for (StoredAccount& s : all) out.push_back(std::move(s.account));
  return out;
}

Result<Account> Accounts::Get(const std::string& name) const {
  PRESERVE_ASSIGN_OR_RETURN(StoredAccount s, Load(*impl_->store, name));
  return std::move(s.account);
}

Status Accounts::Disable(const std::string& name, const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(CheckChange(impl_->writable(), actor));
  return SetDisabled(*impl_->store, *impl_->clock, name, true, actor);
}

Status Accounts::Enable(const std::string& name, const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(CheckChange(impl_->writable(), actor));
  return SetDisabled(*impl_->store, *impl_->clock, name, false, actor);
}

Result<std::string> Accounts::NewToken(const std::string& name, const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(CheckChange(impl_->writable(), actor));
  std::lock_guard<std::mutex> lock(ChangeMutex());
  PRESERVE_ASSIGN_OR_RETURN(StoredAccount s, Load(*impl_->store, name));
  std::string token = IssueToken(s, impl_->clock->Now());
  PRESERVE_RETURN_IF_ERROR(CommitChange(*impl_->store, *impl_->clock, s, "token", actor));
  return token;
}

Status Accounts::SetPassword(const std::string& name, const std::string& password, const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(CheckChange(impl_->writable(), actor));
  PRESERVE_RETURN_IF_ERROR(CheckPassword(password));
  std::lock_guard<std::mutex> lock(ChangeMutex());
  PRESERVE_ASSIGN_OR_RETURN(StoredAccount s, Load(*impl_->store, name));
  std::array<char, crypto_pwhash_argon2id_STRBYTES> hashed{};
  if (crypto_pwhash_argon2id_str(hashed.data(), password.data(), password.size(),
                                 crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) != 0)
    return Status::Internal("hashing the password failed (argon2id needs 64 MiB of memory)");
  s.password = hashed.data();
  s.account.has_password = true;
  return CommitChange(*impl_->store, *impl_->clock, s, "password", actor);
}

Status Accounts::SetCertificate(const std::string& name, const std::optional<Bytes>& certificate_der,
                                const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(CheckChange(impl_->writable(), actor));
  std::string sha256;
  if (certificate_der) {
    PRESERVE_ASSIGN_OR_RETURN(sha256, CertificateSha256(*certificate_der));
  }
  std::lock_guard<std::mutex> lock(ChangeMutex());
  PRESERVE_ASSIGN_OR_RETURN(std::vector<StoredAccount> all, LoadAll(*impl_->store));
  auto s = std::find_if(all.begin(), all.end(), [&name](const StoredAccount& a) { return a.account.name == name; });
  if (s == all.end()) return NoSuchAccount(name);
  for (const StoredAccount& other : all)
    if (!sha256.empty() && other.account.name != name && other.account.certificate_sha256 == sha256)
      return CertificateTaken(other.account.name);
  if (s->account.certificate_sha256 == sha256) return Status::Ok();  // nothing changes: no write, no event
  s->account.certificate_sha256 = sha256;
  return CommitChange(*impl_->store, *impl_->clock, *s, "certificate", actor,
                      {{"certificate_sha256", sha256.empty() ? "none" : sha256}});
}

Result<Account> Accounts::AuthenticateToken(std::string_view token) const {
  PRESERVE_RETURN_IF_ERROR(InitSodium());
  std::string id;
  TokenSecret secret;
  if (!ParseToken(token, id, secret)) return AuthenticationFailed();
  PRESERVE_ASSIGN_OR_RETURN(std::vector<StoredAccount> all, LoadAll(*impl_->store));
  for (StoredAccount& s : all) {
    if (s.token_id != id) continue;
    const Bytes hash = TokenHash(s.token_salt, secret);
    if (sodium_memcmp(hash.data(), s.token_hash.data(), hash.size()) != 0 || s.account.disabled) break;
    return std::move(s.account);
  }
  return AuthenticationFailed();
}

Result<Account> Accounts::AuthenticateCertificate(const Bytes& certificate_der) const {
  const std::string sha256 = ToHex(Digest(HashAlgorithm::kSha256, certificate_der));
  PRESERVE_ASSIGN_OR_RETURN(std::vector<StoredAccount> all, LoadAll(*impl_->store));
  for (StoredAccount& s : all)
    if (s.account.certificate_sha256 == sha256 && !s.account.disabled) return std::move(s.account);
  return AuthenticationFailed();
}

Result<Account> Accounts::AuthenticatePassword(const std::string& name, const std::string& password) const {
  PRESERVE_RETURN_IF_ERROR(InitSodium());
  // No password that long was ever set: refused whatever the name, so nothing is told of it.
  if (password.size() > kMaxPasswordBytes) return AuthenticationFailed();
  std::optional<StoredAccount> found;
  auto loaded = Load(*impl_->store, name);
  if (loaded.ok()) {
    found = std::move(loaded).value();
  } else if (loaded.status().code() != StatusCode::kNotFound) {
    return loaded.status();
  }
  const bool has_password = found && !found->password.empty();
  // Verified against the dummy when there is nothing to verify against: the same argon2id cost either way.
  const bool matches = crypto_pwhash_argon2id_str_verify(has_password ? found->password.c_str() : kDummyPasswordHash,
                                                         password.data(), password.size()) == 0;
  if (!has_password || !matches || found->account.disabled) return AuthenticationFailed();
  return std::move(found->account);
}

}  // namespace preserve::archive
