// Accounts: who may use the archive through `preserve serve`, and as what.
//
// Each account has one role. Officers hand documents in and read what they
// may; auditors only read (packages, evidence, reports, the audit trail);
// administrators may do everything, retention, holds, deletion and policy
// included. What each role may call is the service's business (service/);
// this is who is who.
//
// Secrets are never stored or logged in clear:
//  - an API token ("ptk_<id>.<secret>", 32 random bytes of secret) is shown
//    once, when made; the store keeps its id and a salted SHA-256 of the
//    secret (a token is long and random: a fast hash is the right one, and
//    every request checks one);
//  - a password (for the web application) is kept as libsodium's argon2id
//    string (crypto_pwhash_str, memory-hard, interactive limits).
// Comparisons run in constant time. Accounts live in the store's settings
// ("account/<name>"); each change is one atomic write with an "account" audit
// event naming the action, the account and who made it (never a secret).
// The archive must be open for writing to change them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/archive/archive.h"

namespace preserve::archive {

enum class Role { kOfficer, kAuditor, kAdmin };
std::string_view RoleName(Role role);  // "officer", "auditor", "admin"
std::optional<Role> RoleFromName(std::string_view name);

struct Account {
  std::string name;  // 1-64 characters: letters, digits, '.', '_', '-'
  Role role = Role::kOfficer;
  bool disabled = false;
  TimePoint created;
  std::string created_by;
  TimePoint token_issued;     // when the token in force was made
  bool has_password = false;  // a password was set (SetPassword)
  // SHA-256 (hex, lower case) of the DER client certificate mapped to this
  // account, if any: a TLS client presenting it is this account.
  std::string certificate_sha256;
};

class Accounts {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit Accounts(Archive& archive);

  // Adds an account, with the client certificate (DER) mapped to it when
  // given (in the same write); returns its API token, the only time it is
  // shown. kAlreadyExists for a name taken or a certificate another account
  // has; kInvalidArgument for a name outside the allowed set.
  Result<std::string> Add(const std::string& name, Role role, const std::string& actor,
                          const std::optional<Bytes>& certificate_der = std::nullopt);
  // Every account, by name.
  Result<std::vector<Account>> List() const;
  // kNotFound when there is no such account.
  Result<Account> Get(const std::string& name) const;
  // A disabled account's token, password and certificate stop working at once.
  Status Disable(const std::string& name, const std::string& actor);
  Status Enable(const std::string& name, const std::string& actor);
  // A new token for the account; the old one stops working. Returns it (shown once).
  Result<std::string> NewToken(const std::string& name, const std::string& actor);
  // Sets the password (argon2id). kInvalidArgument when shorter than 12
  // characters (code points of UTF-8 text) or longer than 1024 bytes.
  Status SetPassword(const std::string& name, const std::string& password, const std::string& actor);
  // Maps a client certificate (DER) to the account, replacing any; nullopt removes it.
  // kAlreadyExists when another account has that certificate.
  Status SetCertificate(const std::string& name, const std::optional<Bytes>& certificate_der,
                        const std::string& actor);

  // The enabled account a token, a client certificate, or a name and password
  // belong to. kNotFound (with one message that does not say which part was
  // wrong) for anything else, disabled accounts included; a store that cannot
  // be read gives its own error. Refusing a name without an account takes
  // the argon2id cost all the same, so that timing does not tell names.
  Result<Account> AuthenticateToken(std::string_view token) const;
  Result<Account> AuthenticateCertificate(const Bytes& certificate_der) const;
  Result<Account> AuthenticatePassword(const std::string& name, const std::string& password) const;

 private:
  Archive::Impl* impl_;
};

}  // namespace preserve::archive
