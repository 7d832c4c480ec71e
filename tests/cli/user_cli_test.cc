// End-to-end: the accounts of `preserve serve` through the real executable.
// `user add` prints a token once that the library then accepts; list shows
// the accounts (text and JSON); disable, enable, token, passwd (from a pipe)
// and certificate change them, audited under --by; and refusals (an unknown
// role, a name taken, no such account) say why and exit non-zero.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>

#include "preserve/archive/accounts.h"
#include "store_cli_fixture.h"

namespace preserve::testing {
namespace {

namespace json = boost::json;

const std::regex kToken("ptk_[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}");
const std::string kClientCertificate = (kCliFixtures / "pki" / "signer-rsa.pem").string();

class UserCli : public StoreCli {
 protected:
  // `preserve user add NAME --role ROLE`: the token it printed.
  std::string Add(const std::string& name, const std::string& role) {
    CommandResult r = Preserve({"user", "add", name, "--role", role});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    EXPECT_EQ(lines.size(), 1u) << r.out;
    return lines.empty() ? "" : lines.front();
  }

  // `preserve user passwd NAME`, the password piped in as one line.
  CommandResult Passwd(const std::string& name, const std::string& password) {
    return testing::Run({"sh", "-c", "printf '%s\\n' \"$2\" | \"$0\" user passwd \"$1\"", PRESERVE_BIN, name, password},
                        {"PRESERVE_STORE=" + store_.string()},
                        {.drop_inherited_preserve_env = true, .kill_after = std::nullopt});
  }

  json::array ListJson() {
    CommandResult r = Preserve({"user", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json::error_code ec;
    json::value v = json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out;
    return ec ? json::array{} : v.at("accounts").as_array();
  }

  // The library's view of the store, opened read-only beside nothing.
  template <typename F>
  void WithAccounts(F&& f) {
    SystemClock clock;
    auto archive = archive::Archive::Open(store_, clock, {.mode = archive::OpenMode::kReadOnly});
    ASSERT_TRUE(archive.ok()) << archive.status().ToString();
    archive::Accounts accounts(*archive.value());
    f(accounts);
  }
};

TEST_F(UserCli, AddPrintsATokenOnceThatSignsInAndListShowsTheAccount) {
  CommandResult add = Preserve({"user", "add", "alice", "--role", "officer"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string token = add.out.substr(0, add.out.find('\n'));
  EXPECT_TRUE(std::regex_match(token, kToken)) << add.out;
  EXPECT_EQ(add.out, token + "\n");
  EXPECT_TRUE(Contains(add.err, "shown only this once")) << add.err;
  WithAccounts([&](archive::Accounts& accounts) {
    auto who = accounts.AuthenticateToken(token);
    ASSERT_TRUE(who.ok()) << who.status().ToString();
    EXPECT_EQ(who->name, "alice");
    EXPECT_EQ(who->role, archive::Role::kOfficer);
  });

  CommandResult bob = Preserve({"user", "add", "bob", "--role", "auditor", "--json", "--by", "registrar"});
  ASSERT_EQ(bob.exit_code, 0) << bob.err;
  json::object added = json::parse(bob.out).as_object();
  EXPECT_EQ(added.at("name"), "bob");
  EXPECT_EQ(added.at("role"), "auditor");
  EXPECT_TRUE(std::regex_match(std::string(added.at("token").as_string()), kToken)) << bob.out;

  CommandResult list = Preserve({"user", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const std::vector<std::string> lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 3u) << list.out;
  EXPECT_TRUE(std::regex_search(lines[1], std::regex("^alice +officer +enabled +none +none +\\S+ by "))) << lines[1];
  EXPECT_TRUE(std::regex_search(lines[2], std::regex("^bob +auditor +enabled .* by registrar$"))) << lines[2];
  EXPECT_FALSE(Contains(list.out, token));

  json::array accounts = ListJson();
  ASSERT_EQ(accounts.size(), 2u);
  const json::object& alice = accounts[0].as_object();
  EXPECT_EQ(alice.at("name"), "alice");
  EXPECT_EQ(alice.at("role"), "officer");
  EXPECT_EQ(alice.at("disabled"), false);
  EXPECT_EQ(alice.at("password"), false);
  EXPECT_TRUE(alice.at("certificate_sha256").is_null());
  EXPECT_EQ(accounts[1].at("created_by"), "registrar");
}

TEST_F(UserCli, DisableEnableAndANewToken) {
  const std::string first = Add("alice", "admin");
  CommandResult disable = Preserve({"user", "disable", "alice"});
  ASSERT_EQ(disable.exit_code, 0) << disable.err;
  EXPECT_TRUE(Contains(disable.out, "account 'alice' disabled")) << disable.out;
  EXPECT_EQ(ListJson()[0].at("disabled"), true);
  EXPECT_TRUE(Contains(Preserve({"user", "list"}).out, "disabled"));
  WithAccounts([&](archive::Accounts& accounts) { EXPECT_FALSE(accounts.AuthenticateToken(first).ok()); });

  CommandResult enable = Preserve({"user", "enable", "alice", "--json"});
  ASSERT_EQ(enable.exit_code, 0) << enable.err;
  EXPECT_EQ(json::parse(enable.out).at("disabled"), false) << enable.out;

  CommandResult token = Preserve({"user", "token", "alice"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const std::string second = token.out.substr(0, token.out.find('\n'));
  EXPECT_TRUE(std::regex_match(second, kToken)) << token.out;
  EXPECT_NE(second, first);
  EXPECT_TRUE(Contains(token.err, "shown only this once")) << token.err;
  WithAccounts([&](archive::Accounts& accounts) {
    EXPECT_FALSE(accounts.AuthenticateToken(first).ok());
    EXPECT_EQ(accounts.AuthenticateToken(second)->name, "alice");
  });
  CommandResult token_json = Preserve({"user", "token", "alice", "--json"});
  ASSERT_EQ(token_json.exit_code, 0) << token_json.err;
  EXPECT_TRUE(std::regex_match(std::string(json::parse(token_json.out).at("token").as_string()), kToken));
}

TEST_F(UserCli, PasswdReadsOneLineFromAPipe) {
  Add("alice", "officer");
  const std::string password = "correct horse battery staple";
  CommandResult set = Passwd("alice", password);
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_TRUE(Contains(set.out, "password of account 'alice' set")) << set.out;
  EXPECT_EQ(ListJson()[0].at("password"), true);
  // The line, without its line end, is the password.
  WithAccounts([&](archive::Accounts& accounts) {
    EXPECT_TRUE(accounts.AuthenticatePassword("alice", password).ok());
    EXPECT_FALSE(accounts.AuthenticatePassword("alice", password + "\n").ok());
  });

  CommandResult too_short = Passwd("alice", "short");
  EXPECT_EQ(too_short.exit_code, 4);
  EXPECT_TRUE(Contains(too_short.err, "at least 12 characters")) << too_short.err;
  // Nothing on stdin (the tests' stdin is /dev/null).
  CommandResult nothing = Preserve({"user", "passwd", "alice"});
  EXPECT_EQ(nothing.exit_code, 4);
  EXPECT_TRUE(Contains(nothing.err, "no password on stdin")) << nothing.err;
  WithAccounts(
      [&](archive::Accounts& accounts) { EXPECT_TRUE(accounts.AuthenticatePassword("alice", password).ok()); });
}

TEST_F(UserCli, ACertificateIsMappedToOneAccountAndRemoved) {
  Add("alice", "officer");
  Add("bob", "auditor");
  CommandResult mapped = Preserve({"user", "certificate", "alice", "--certificate", kClientCertificate});
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  EXPECT_TRUE(Contains(mapped.out, "signs in with the certificate")) << mapped.out;
  EXPECT_EQ(ListJson()[0].at("certificate_sha256").as_string().size(), 64u);

  CommandResult taken = Preserve({"user", "certificate", "bob", "--certificate", kClientCertificate});
  EXPECT_EQ(taken.exit_code, 4);
  EXPECT_TRUE(Contains(taken.err, "already mapped to account 'alice'")) << taken.err;
  CommandResult taken_at_add =
      Preserve({"user", "add", "carol", "--role", "admin", "--certificate", kClientCertificate});
  EXPECT_EQ(taken_at_add.exit_code, 4);
  EXPECT_EQ(taken_at_add.out, "");
  EXPECT_EQ(ListJson().size(), 2u);

  CommandResult neither = Preserve({"user", "certificate", "alice"});
  EXPECT_EQ(neither.exit_code, 64);
  EXPECT_TRUE(Contains(neither.err, "give --certificate PEM or --remove")) << neither.err;
  CommandResult removed = Preserve({"user", "certificate", "alice", "--remove"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_TRUE(ListJson()[0].at("certificate_sha256").is_null());
  EXPECT_EQ(Preserve({"user", "certificate", "bob", "--certificate", kClientCertificate}).exit_code, 0);
}

TEST_F(UserCli, RefusalsSayWhyAndExitNonZero) {
  Add("alice", "officer");
  CommandResult role = Preserve({"user", "add", "bob", "--role", "boss"});
  EXPECT_EQ(role.exit_code, 64);
  EXPECT_TRUE(Contains(role.err, "unknown role 'boss'")) << role.err;
  CommandResult no_role = Preserve({"user", "add", "bob"});
  EXPECT_EQ(no_role.exit_code, 64);
  EXPECT_TRUE(Contains(no_role.err, "missing --role")) << no_role.err;

  const std::string before = Preserve({"user", "list", "--json"}).out;
  CommandResult twice = Preserve({"user", "add", "alice", "--role", "admin"});
  EXPECT_EQ(twice.exit_code, 4);
  EXPECT_TRUE(Contains(twice.err, "an account named 'alice' exists")) << twice.err;
  EXPECT_EQ(twice.out, "");  // no token for an account not made
  EXPECT_EQ(Preserve({"user", "list", "--json"}).out, before);

  CommandResult bad_name = Preserve({"user", "add", "a b", "--role", "admin"});
  EXPECT_EQ(bad_name.exit_code, 4);
  EXPECT_TRUE(Contains(bad_name.err, "letters")) << bad_name.err;

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"disable", "nobody"}, {"enable", "nobody"}, {"token", "nobody"}, {"passwd", "nobody"},
           {"certificate", "nobody", "--remove"}}) {
    std::vector<std::string> words = {"user"};
    words.insert(words.end(), args.begin(), args.end());
    CommandResult r = Preserve(words);
    EXPECT_EQ(r.exit_code, 4) << args[0];
    EXPECT_TRUE(Contains(r.err, "no account named 'nobody'")) << args[0] << ": " << r.err;
    EXPECT_EQ(r.out, "") << args[0];
  }
  CommandResult json_failure = Preserve({"user", "token", "nobody", "--json"});
  EXPECT_EQ(json_failure.exit_code, 4);
  json::object o = json::parse(json_failure.out).as_object();
  EXPECT_EQ(o.at("ok"), false);
  EXPECT_EQ(o.at("error"), "no account named 'nobody'");

  CommandResult unknown = Preserve({"user", "rename", "alice"});
  EXPECT_EQ(unknown.exit_code, 64);
  EXPECT_TRUE(Contains(unknown.err, "Usage: preserve user add")) << unknown.err;
}

TEST_F(UserCli, ChangesAreAuditedUnderWhoMadeThemWithoutSecrets) {
  const std::string token = Add("alice", "officer");
  const std::string password = "correct horse battery staple";
  ASSERT_EQ(Passwd("alice", password).exit_code, 0);
  ASSERT_EQ(Preserve({"user", "disable", "alice", "--by", "security officer"}).exit_code, 0);
  CommandResult log = Preserve({"audit-log", "show", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::vector<json::object> events;
  for (const auto& line : Lines(log.out)) {
    json::object e = json::parse(line).as_object();
    if (e.contains("event") && e.at("event") == "account") events.push_back(e);
  }
  ASSERT_EQ(events.size(), 3u) << log.out;
  EXPECT_EQ(events[0].at("action"), "add");
  EXPECT_EQ(events[1].at("action"), "password");
  EXPECT_EQ(events[2].at("action"), "disable");
  EXPECT_EQ(events[2].at("by"), "security officer");
  EXPECT_FALSE(Contains(log.out, token.substr(token.find('.') + 1)));
  EXPECT_FALSE(Contains(log.out, password));
}

TEST_F(UserCli, UserIsInTheHelpTheManPageAndTheCompletion) {
  CommandResult help = Preserve({"--help"});
  EXPECT_TRUE(Contains(help.out, "user add|list|disable|enable|token|passwd|certificate")) << help.out;
  CommandResult user_help = Preserve({"help", "user", "passwd"});
  EXPECT_EQ(user_help.exit_code, 0);
  EXPECT_TRUE(Contains(user_help.out, "Usage: preserve user passwd")) << user_help.out;
  const std::string commands = testing::Run({PRESERVE_BIN, "__describe", "commands"}).out;
  for (const char* path : {"user add", "user list", "user disable", "user enable", "user token", "user passwd",
                           "user certificate"})
    EXPECT_TRUE(Contains(commands, std::string(path) + "\n")) << path;
  const std::string man = testing::Run({PRESERVE_BIN, "__describe", "man"}).out;
  EXPECT_TRUE(Contains(man, ".SS \"user add\"")) << man.substr(0, 500);
  const std::string completion = testing::Run({PRESERVE_BIN, "__describe", "bash-completion"}).out;
  EXPECT_TRUE(Contains(completion, "user) subcommands=\"add list disable enable token passwd certificate\""));
  EXPECT_TRUE(Contains(completion, "\"user add\") options=\"")) << completion;
}

}  // namespace
}  // namespace preserve::testing
