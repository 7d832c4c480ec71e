// Accounts over a real store: tokens that authenticate until replaced or the
// account is disabled, and nothing else that does (wrong, garbled, another
// account's); argon2id passwords; client certificates mapped to one account;
// names and passwords checked; every change one audit event; and no token,
// secret or password anywhere in the store's files once written.
#include <gtest/gtest.h>

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <regex>

#include <boost/json.hpp>

#include "preserve/archive/accounts.h"
#include "preserve/storage/store.h"
#include "preserve/util/digest.h"
#include "archive_fixture.h"
#include "raw_db.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kRefused = "unknown or disabled account, or wrong credentials";

bool Contains(ByteView haystack, ByteView needle) {
  return !needle.empty() &&
         std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}
bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The token's secret part, as printed and as the 32 bytes it encodes.
std::string SecretText(const std::string& token) { return token.substr(token.find('.') + 1); }
Bytes SecretBytes(const std::string& token) {
  const std::string text = SecretText(token);
  Bytes out(32);
  std::size_t size = 0;
  EXPECT_EQ(sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &size, nullptr,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING),
            0);
  EXPECT_EQ(size, 32u);
  return out;
}

class AccountsTest : public testing::ArchiveTest {
 protected:
  void SetUp() override { InitAndOpen({}); }

  Accounts accounts() { return Accounts(*archive_); }

  std::string Add(const std::string& name, Role role) {
    auto token = accounts().Add(name, role, "registrar");
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? token.value() : "";
  }

  // The refusal every failed authentication gives.
  static void ExpectRefused(const Result<Account>& r, const std::string& what) {
    ASSERT_FALSE(r.ok()) << what << " authenticated as " << r->name;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << what;
    EXPECT_EQ(r.status().message(), kRefused) << what;
  }

  // The account's row as stored, read with the store below the archive (closed meanwhile).
  json::object StoredRow(const std::string& name) {
    archive_.reset();
    json::object row;
    {
      auto store = storage::Store::Open(root_ / "db", {.read_only = true});
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      if (store.ok()) {
        auto value = store.value()->GetSetting("account/" + name);
        EXPECT_TRUE(value.ok()) << value.status().ToString();
        if (value.ok()) row = json::parse(ToString(value.value())).as_object();
      }
    }
    Reopen();
    return row;
  }
};

TEST_F(AccountsTest, AddReturnsATokenThatAuthenticatesAsTheAccount) {
  const std::string token = Add("alice", Role::kOfficer);
  EXPECT_TRUE(std::regex_match(token, std::regex("ptk_[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}"))) << token;
  auto who = accounts().AuthenticateToken(token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "alice");
  EXPECT_EQ(who->role, Role::kOfficer);
  EXPECT_FALSE(who->disabled);
  EXPECT_EQ(who->created, clock_.Now());
  EXPECT_EQ(who->created_by, "registrar");
  EXPECT_EQ(who->token_issued, clock_.Now());
  EXPECT_FALSE(who->has_password);
  EXPECT_EQ(who->certificate_sha256, "");

  Add("bob", Role::kAuditor);
  Add("carol", Role::kAdmin);
  auto list = accounts().List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].name, "alice");
  EXPECT_EQ((*list)[1].role, Role::kAuditor);
  EXPECT_EQ((*list)[2].role, Role::kAdmin);
  // It lasts: a reopened store knows it.
  Reopen();
  EXPECT_EQ(accounts().AuthenticateToken(token)->name, "alice");
}

TEST_F(AccountsTest, WrongGarbledAndAnotherAccountsTokensAreRefused) {
  const std::string alice = Add("alice", Role::kOfficer);
  const std::string bob = Add("bob", Role::kAuditor);
  const std::string alice_id = alice.substr(0, alice.find('.'));
  const std::string secret = SecretText(alice);
  std::string flipped = alice;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  std::string upper_id = alice;
  for (std::size_t i = 4; i < alice.find('.'); ++i) upper_id[i] = static_cast<char>(std::toupper(upper_id[i]));
  const std::vector<std::pair<std::string, std::string>> tokens = {
      {"a flipped character", flipped},
      {"alice's id with bob's secret", alice_id + "." + SecretText(bob)},
      {"bob's id with alice's secret", bob.substr(0, bob.find('.')) + "." + secret},
      {"empty", ""},
      {"the prefix alone", "ptk_"},
      {"no prefix", alice.substr(4)},
      {"no secret", alice_id + "."},
      {"no dot", alice_id + secret},
      {"padding", alice + "="},
      {"a character more", alice + "A"},
      {"a character less", alice.substr(0, alice.size() - 1)},
      {"standard base64", alice_id + "." + std::string(43, '+')},
      {"an id in upper case", upper_id},
      {"a space after", alice + " "},
      {"a NUL inside", alice.substr(0, 30) + std::string(1, '\0') + alice.substr(31)},
  };
  for (const auto& [what, token] : tokens) ExpectRefused(accounts().AuthenticateToken(token), what);
  EXPECT_EQ(accounts().AuthenticateToken(alice)->name, "alice");
  EXPECT_EQ(accounts().AuthenticateToken(bob)->name, "bob");
}

TEST_F(AccountsTest, NewTokenRevokesTheOldOne) {
  const std::string first = Add("alice", Role::kOfficer);
  clock_.Advance(std::chrono::hours(24));
  auto second = accounts().NewToken("alice", "registrar");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second.value(), first);
  ExpectRefused(accounts().AuthenticateToken(first), "the revoked token");
  auto who = accounts().AuthenticateToken(second.value());
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->token_issued, clock_.Now());
  EXPECT_EQ(accounts().NewToken("nobody", "registrar").status().code(), StatusCode::kNotFound);
}

TEST_F(AccountsTest, ADisabledAccountSignsInWithNothingUntilEnabled) {
  const std::string token = Add("alice", Role::kOfficer);
  const std::string password = "correct horse battery";
  const Bytes certificate = testing::PkiCertificate("signer-rsa");
  ASSERT_TRUE(accounts().SetPassword("alice", password, "registrar").ok());
  ASSERT_TRUE(accounts().SetCertificate("alice", certificate, "registrar").ok());

  ASSERT_TRUE(accounts().Disable("alice", "registrar").ok());
  EXPECT_TRUE(accounts().Get("alice")->disabled);
  ExpectRefused(accounts().AuthenticateToken(token), "token of a disabled account");
  ExpectRefused(accounts().AuthenticatePassword("alice", password), "password of a disabled account");
  ExpectRefused(accounts().AuthenticateCertificate(certificate), "certificate of a disabled account");
  // Disabling twice changes nothing, and records nothing.
  ASSERT_TRUE(accounts().Disable("alice", "registrar").ok());
  EXPECT_EQ(testing::AuditEventsOfType(*archive_, "account").size(), 4u);

  ASSERT_TRUE(accounts().Enable("alice", "registrar").ok());
  EXPECT_FALSE(accounts().Get("alice")->disabled);
  EXPECT_EQ(accounts().AuthenticateToken(token)->name, "alice");
  EXPECT_EQ(accounts().AuthenticatePassword("alice", password)->name, "alice");
  EXPECT_EQ(accounts().AuthenticateCertificate(certificate)->name, "alice");
  EXPECT_EQ(accounts().Disable("nobody", "registrar").code(), StatusCode::kNotFound);
  EXPECT_EQ(accounts().Enable("nobody", "registrar").code(), StatusCode::kNotFound);
}

TEST_F(AccountsTest, PasswordsAreKeptAsArgon2idAndChecked) {
  Add("alice", Role::kOfficer);
  Add("bob", Role::kAuditor);
  const std::string password = "Mật khẩu dài đủ";  // 15 characters, more bytes
  ASSERT_TRUE(accounts().SetPassword("alice", password, "registrar").ok());
  EXPECT_TRUE(accounts().Get("alice")->has_password);
  EXPECT_FALSE(accounts().Get("bob")->has_password);

  auto who = accounts().AuthenticatePassword("alice", password);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "alice");
  ExpectRefused(accounts().AuthenticatePassword("alice", password + " "), "a wrong password");
  ExpectRefused(accounts().AuthenticatePassword("alice", ""), "no password");
  ExpectRefused(accounts().AuthenticatePassword("bob", password), "an account without a password");
  ExpectRefused(accounts().AuthenticatePassword("nobody", password), "an unknown account");
  ExpectRefused(accounts().AuthenticatePassword("not a name", password), "a name no account can have");
  ExpectRefused(accounts().AuthenticatePassword("alice", std::string(2000, 'x')), "an overlong password");

  const json::object row = StoredRow("alice");
  ASSERT_TRUE(row.contains("password")) << json::serialize(row);
  EXPECT_TRUE(row.at("password").as_string().starts_with("$argon2id$")) << json::serialize(row);
  EXPECT_FALSE(StoredRow("bob").contains("password"));
  // A new password replaces the old.
  ASSERT_TRUE(accounts().SetPassword("alice", "another long password", "registrar").ok());
  ExpectRefused(accounts().AuthenticatePassword("alice", password), "the replaced password");
  EXPECT_TRUE(accounts().AuthenticatePassword("alice", "another long password").ok());
}

// Refusing a name without an account costs the argon2id verification too, so
// that how long the answer takes does not say which names exist.
TEST_F(AccountsTest, AnUnknownNameTakesAsLongAsAWrongPassword) {
  Add("alice", Role::kOfficer);
  ASSERT_TRUE(accounts().SetPassword("alice", "correct horse battery", "registrar").ok());
  auto timed = [this](const std::string& name) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(accounts().AuthenticatePassword(name, "wrong horse battery").ok());
    return std::chrono::steady_clock::now() - start;
  };
  // argon2id over 64 MiB takes tens of milliseconds on any machine; a settings read, microseconds.
  EXPECT_GE(timed("nobody"), std::chrono::milliseconds(10));
  EXPECT_GE(timed("alice"), std::chrono::milliseconds(10));
  EXPECT_GE(timed("not a name"), std::chrono::milliseconds(10));
}

TEST_F(AccountsTest, ShortOverlongOrNonUtf8PasswordsAreRefused) {
  Add("alice", Role::kOfficer);
  auto set = [this](const std::string& password) { return accounts().SetPassword("alice", password, "registrar"); };
  EXPECT_EQ(set("elevenchars").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(set("elevenchars").message(), "at least 12 characters")) << set("elevenchars").message();
  // Characters are counted, not bytes: eleven 'é' are 22 bytes and still too short.
  std::string e11;
  for (int i = 0; i < 11; ++i) e11 += "é";
  EXPECT_EQ(set(e11).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(set(e11 + "é").ok());
  EXPECT_EQ(set(std::string(1025, 'x')).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(set(std::string(1024, 'x')).ok());
  EXPECT_EQ(set("twelve bytes\xff").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(accounts().SetPassword("nobody", "long enough password", "registrar").code(), StatusCode::kNotFound);
  EXPECT_EQ(testing::AuditEventsOfType(*archive_, "account").size(), 3u);  // add and the two accepted
}

TEST_F(AccountsTest, ACertificateMapsToOneAccount) {
  const Bytes rsa = testing::PkiCertificate("signer-rsa");
  const Bytes ec = testing::PkiCertificate("signer-ec");
  Add("alice", Role::kOfficer);
  Add("bob", Role::kAuditor);
  ExpectRefused(accounts().AuthenticateCertificate(rsa), "a certificate mapped to nobody");
  ASSERT_TRUE(accounts().SetCertificate("alice", rsa, "registrar").ok());
  auto who = accounts().AuthenticateCertificate(rsa);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "alice");
  EXPECT_EQ(who->certificate_sha256, ToHex(Digest(HashAlgorithm::kSha256, rsa)));

  Status taken = accounts().SetCertificate("bob", rsa, "registrar");
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(taken.message(), "alice")) << taken.message();
  auto added = accounts().Add("carol", Role::kAdmin, "registrar", rsa);
  EXPECT_EQ(added.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(accounts().Get("carol").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(accounts().SetCertificate("bob", ToBytes("not a certificate"), "registrar").code(),
            StatusCode::kInvalidArgument);

  // Another replaces it; removed, it signs in as nobody, and another account may take it.
  ASSERT_TRUE(accounts().SetCertificate("alice", ec, "registrar").ok());
  ExpectRefused(accounts().AuthenticateCertificate(rsa), "a replaced certificate");
  EXPECT_EQ(accounts().AuthenticateCertificate(ec)->name, "alice");
  ASSERT_TRUE(accounts().SetCertificate("alice", std::nullopt, "registrar").ok());
  ExpectRefused(accounts().AuthenticateCertificate(ec), "a removed certificate");
  ASSERT_TRUE(accounts().Add("carol", Role::kAdmin, "registrar", ec).ok());
  EXPECT_EQ(accounts().AuthenticateCertificate(ec)->name, "carol");
  EXPECT_EQ(accounts().SetCertificate("nobody", rsa, "registrar").code(), StatusCode::kNotFound);
}

TEST_F(AccountsTest, NamesAreCheckedAndTakenOnce) {
  for (const std::string& name : {std::string(), std::string(65, 'a'), std::string("a b"), std::string("ä"),
                                  std::string("a/b"), std::string("a\nb"), std::string("a:b")}) {
    auto added = accounts().Add(name, Role::kOfficer, "registrar");
    EXPECT_EQ(added.status().code(), StatusCode::kInvalidArgument) << name;
  }
  Add(std::string(64, 'a'), Role::kOfficer);
  Add("Jane.Doe_2-x", Role::kOfficer);
  auto twice = accounts().Add("Jane.Doe_2-x", Role::kAdmin, "registrar");
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(accounts().Get("Jane.Doe_2-x")->role, Role::kOfficer);
  auto unknown = accounts().Get("nobody");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(unknown.status().message(), "no account named 'nobody'")) << unknown.status().message();
  // A name no account can have is not found either (the service passes on what it is given).
  EXPECT_EQ(accounts().Get("a\nb").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(accounts().Disable("a b", "registrar").code(), StatusCode::kNotFound);
  EXPECT_EQ(accounts().Add("dan", Role::kOfficer, "").status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(RoleName(Role::kAuditor), "auditor");
  EXPECT_EQ(RoleFromName("admin"), Role::kAdmin);
  EXPECT_EQ(RoleFromName("Admin"), std::nullopt);
}

TEST_F(AccountsTest, ChangesNeedAStoreOpenForWriting) {
  const std::string token = Add("alice", Role::kOfficer);
  archive_.reset();
  auto opened = Archive::Open(root_, clock_, {.mode = OpenMode::kReadOnly});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Accounts read_only(*opened.value());
  EXPECT_EQ(read_only.Add("bob", Role::kOfficer, "registrar").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(read_only.Disable("alice", "registrar").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(read_only.NewToken("alice", "registrar").status().code(), StatusCode::kFailedPrecondition);
  // Reading and signing in need no writer.
  EXPECT_EQ(read_only.List()->size(), 1u);
  EXPECT_EQ(read_only.AuthenticateToken(token)->name, "alice");
}

TEST_F(AccountsTest, EveryChangeIsOneAuditEventThatHoldsNoSecret) {
  const std::string first = Add("alice", Role::kOfficer);
  auto second = accounts().NewToken("alice", "registrar");
  ASSERT_TRUE(second.ok());
  const std::string password = "correct horse battery";
  ASSERT_TRUE(accounts().SetPassword("alice", password, "security officer").ok());
  ASSERT_TRUE(accounts().SetCertificate("alice", testing::PkiCertificate("signer-rsa"), "registrar").ok());
  ASSERT_TRUE(accounts().Disable("alice", "registrar").ok());
  ASSERT_TRUE(accounts().Enable("alice", "registrar").ok());
  ASSERT_TRUE(accounts().SetCertificate("alice", std::nullopt, "registrar").ok());

  const json::object row = StoredRow("alice");
  const std::vector<std::string> events = testing::AuditEventsOfType(*archive_, "account");
  ASSERT_EQ(events.size(), 7u);
  const std::vector<std::string> actions = {"add", "token", "password", "certificate", "disable", "enable",
                                            "certificate"};
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json::object e = json::parse(events[i]).as_object();
    EXPECT_EQ(e.at("action").as_string(), actions[i]) << events[i];
    EXPECT_EQ(e.at("name").as_string(), "alice") << events[i];
    EXPECT_EQ(e.at("role").as_string(), "officer") << events[i];
    EXPECT_EQ(e.at("by").as_string(), i == 2 ? "security officer" : "registrar") << events[i];
    for (const std::string& secret :
         {first, SecretText(first), second.value(), SecretText(second.value()), password,
          std::string(row.at("token_salt").as_string()), std::string(row.at("token_hash").as_string()),
          std::string(row.at("password").as_string()), std::string("argon2")})
      EXPECT_FALSE(Contains(events[i], secret)) << events[i] << " holds " << secret;
  }
  EXPECT_TRUE(Contains(events[3], ToHex(Digest(HashAlgorithm::kSha256, testing::PkiCertificate("signer-rsa")))));
}

// What an attacker with a copy of the store's files (a backup, a stolen disk)
// has: no token, no secret, no password, in any form, in any file.
TEST_F(AccountsTest, NoTokenOrPasswordIsAnywhereInTheStoreFiles) {
  const std::string first = Add("alice", Role::kOfficer);
  auto second = accounts().NewToken("alice", "registrar");
  ASSERT_TRUE(second.ok());
  const std::string bob = Add("bob", Role::kAdmin);
  const std::string password = "correct horse battery";
  ASSERT_TRUE(accounts().SetPassword("alice", password, "registrar").ok());
  ASSERT_TRUE(accounts().AuthenticatePassword("alice", password).ok());
  ASSERT_TRUE(accounts().AuthenticateToken(second.value()).ok());
  archive_.reset();

  std::vector<std::pair<std::string, Bytes>> secrets = {{"a password", ToBytes(password)}};
  for (const std::string& token : {first, second.value(), bob}) {
    secrets.emplace_back("a token", ToBytes(token));
    secrets.emplace_back("a token's secret as printed", ToBytes(SecretText(token)));
    secrets.emplace_back("a token's secret bytes", SecretBytes(token));
  }
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const Bytes bytes = testing::ReadFileOrDie(entry.path());
    for (const auto& [what, secret] : secrets)
      EXPECT_FALSE(Contains(bytes, secret)) << entry.path() << " holds " << what;
  }
  // The files' bytes show what is stored in clear (the log, metadata); the
  // rows in table files are compressed, where a secret could hide from a
  // byte search: every row is read back through RocksDB itself, too. That
  // search sees what is stored (the token's id, which is kept), or finding
  // no secret would prove nothing.
  const std::string stored_id = second->substr(4, 16);
  bool id_found = false;
  testing::RawDb db(root_ / "db");
  for (const std::string& family : db.Families()) {
    for (const auto& [key, value] : db.Rows(family)) {
      const Bytes row = ToBytes(key + value);
      for (const auto& [what, secret] : secrets) EXPECT_FALSE(Contains(row, secret)) << family << " " << key << " holds " << what;
      id_found = id_found || Contains(row, AsBytes(stored_id));
    }
  }
  EXPECT_GT(files, 5u);
  EXPECT_TRUE(id_found);
}

}  // namespace
}  // namespace preserve::archive
