// The accounts of `preserve serve`: user add, list, disable, enable, token,
// passwd, certificate. Parse, call the library, print. A token is printed
// once, when it is made; a password is read from stdin, never from the
// command line (where `ps` and the shell's history would show it).
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <iostream>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/accounts.h"
#include "preserve/util/certificates.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

constexpr const char* kUserUsage =
    "Usage: preserve user add [--store DIR] NAME --role ROLE [--certificate PEM] [--by NAME] [--json]\n"
    "       preserve user list [--store DIR] [--json]\n"
    "       preserve user disable|enable|token|passwd [--store DIR] NAME [--by NAME] [--json]\n"
    "       preserve user certificate [--store DIR] NAME (--certificate PEM | --remove) [--by NAME] [--json]\n"
    "\n"
    "The accounts of 'preserve serve': who may use the archive over HTTP, and as what. An officer\n"
    "hands documents in and reads; an auditor only reads; an admin may do everything, retention,\n"
    "holds, deletion and policy included. An account signs in with its API token, its password\n"
    "(the web application) or its client certificate. Tokens and passwords are kept only as\n"
    "hashes, and every change is recorded in the audit trail.\n";

constexpr const char* kByHelp = "who makes the change, for the audit trail (default: the login name)";

json::object AccountJson(const archive::Account& a) {
  return {{"name", a.name},
          {"role", archive::RoleName(a.role)},
          {"disabled", a.disabled},
          {"password", a.has_password},
          {"certificate_sha256",
           a.certificate_sha256.empty() ? json::value(nullptr) : json::value(a.certificate_sha256)},
          {"created", FormatUtcTime(a.created)},
          {"created_by", a.created_by},
          {"token_issued", FormatUtcTime(a.token_issued)}};
}

// The one client certificate in a PEM (or DER) file.
Result<Bytes> LoadClientCertificate(const std::string& path) {
  PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> certificates, LoadCertificates(path));
  if (certificates.size() != 1)
    return Status::InvalidArgument(path + " holds " + std::to_string(certificates.size()) +
                                   " certificates: give the client's certificate alone");
  return std::move(certificates.front());
}

// A token, just made: on stdout, the one time it is shown.
void PrintToken(const std::string& command, const archive::Account& account, const std::string& token, bool as_json) {
  if (as_json) {
    std::cout << json::serialize(json::object{
                     {"name", account.name}, {"role", archive::RoleName(account.role)}, {"token", token}})
              << "\n";
  } else {
    std::cout << token << "\n";
  }
  std::cout.flush();
  std::cerr << "preserve user " << command << ": the token of account '" << account.name
            << "' is shown only this once: keep it now\n";
}

int UserAdd(int argc, char** argv) {
  CommonOptions common;
  std::string name, role_name, certificate, by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("role", po::value(&role_name)->required(), "officer, auditor or admin; required")
      ("certificate", po::value(&certificate), "a client certificate (PEM or DER) that signs in as the account")
      ("by", po::value(&by), kByHelp);
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument(
          "user add", argc, argv, desc, "NAME", name, vm,
          "[--store DIR] NAME --role ROLE [--certificate PEM] [--by NAME] [--json]\n\n"
          "Adds an account and prints its API token on stdout: the only time it is shown (the store keeps a\n"
          "salted hash of it). NAME is 1 to 64 letters, digits, '.', '_' or '-'; ROLE is officer, auditor or\n"
          "admin."))
    return *done;
  const std::optional<archive::Role> role = archive::RoleFromName(role_name);
  if (!role) {
    std::cerr << "preserve user add: unknown role '" << role_name << "': officer, auditor or admin\n";
    return kExitUsage;
  }
  std::optional<Bytes> der;
  if (!certificate.empty()) {
    auto loaded = LoadClientCertificate(certificate);
    if (!loaded.ok()) return ExitFor(loaded.status());
    der = std::move(loaded).value();
  }
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  archive::Accounts accounts(*session.archive);
  auto token = accounts.Add(name, *role, Actor(by), der);
  if (!token.ok()) return ExitFor(token.status());
  auto account = accounts.Get(name);
  if (!account.ok()) return ExitFor(account.status());
  PrintToken("add", account.value(), token.value(), common.json);
  return kExitOk;
}

int UserList(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("user list", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--json]\n\n"
                               "Every account: its role, whether it is enabled, whether it has a password, the\n"
                               "SHA-256 of its client certificate, and when and by whom it was made."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto list = archive::Accounts(*session.archive).List();
  if (!list.ok()) return ExitFor(list.status());
  if (common.json) {
    json::array accounts;
    for (const auto& a : list.value()) accounts.push_back(AccountJson(a));
    std::cout << json::serialize(json::object{{"accounts", std::move(accounts)}}) << "\n";
    return kExitOk;
  }
  if (list->empty()) {
    std::cout << "no accounts (add one with 'preserve user add')\n";
    return kExitOk;
  }
  std::size_t width = 4;
  for (const auto& a : list.value()) width = std::max(width, a.name.size());
  // `text` padded to `size`, and two spaces.
  auto column = [](std::string text, std::size_t size) {
    return text.append(size + 2 - std::min(size, text.size()), ' ');
  };
  std::cout << column("NAME", width) << column("ROLE", 7) << column("STATE", 8) << column("PASSWORD", 8)
            << column("CERTIFICATE (SHA-256)", 64) << "CREATED\n";
  for (const auto& a : list.value())
    std::cout << column(a.name, width) << column(std::string(archive::RoleName(a.role)), 7)
              << column(a.disabled ? "disabled" : "enabled", 8) << column(a.has_password ? "set" : "none", 8)
              << column(a.certificate_sha256.empty() ? "none" : a.certificate_sha256, 64) << FormatUtcTime(a.created)
              << " by " << a.created_by << "\n";
  return kExitOk;
}

// user disable, user enable, user token: NAME is all they take.
int UserChange(const std::string& action, int argc, char** argv) {
  CommonOptions common;
  std::string name, by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("by", po::value(&by), kByHelp);
  std::string usage = "[--store DIR] NAME [--by NAME] [--json]\n\n";
  if (action == "disable") {
    usage += "Disables an account: its token, password and certificate stop working at once. Nothing else\n"
             "changes ('preserve user enable' undoes it).";
  } else if (action == "enable") {
    usage += "Enables a disabled account again, with the token, password and certificate it had.";
  } else {
    usage += "Makes a new API token for an account and prints it on stdout, the only time it is shown. The\n"
             "old token stops working at once.";
  }
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument("user " + action, argc, argv, desc, "NAME", name, vm, usage)) return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  archive::Accounts accounts(*session.archive);
  std::string token;
  if (action == "token") {
    auto made = accounts.NewToken(name, Actor(by));
    if (!made.ok()) return ExitFor(made.status());
    token = std::move(made).value();
  } else {
    Status changed = action == "disable" ? accounts.Disable(name, Actor(by)) : accounts.Enable(name, Actor(by));
    if (!changed.ok()) return ExitFor(changed);
  }
  auto account = accounts.Get(name);
  if (!account.ok()) return ExitFor(account.status());
  if (action == "token") {
    PrintToken(action, account.value(), token, common.json);
  } else if (common.json) {
    std::cout << json::serialize(AccountJson(account.value())) << "\n";
  } else {
    std::cout << "account '" << name << "' " << (account->disabled ? "disabled" : "enabled") << "\n";
  }
  return kExitOk;
}

// The terminal's echo, off while a password is typed. Restored when this
// goes, and by a signal that ends the program meanwhile (Ctrl-C), which
// would otherwise leave the shell without echo.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    struct sigaction restore {};
    restore.sa_handler = Restore;
    ::sigemptyset(&restore.sa_mask);
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &restore, &previous_[i]);
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    active_ = true;
  }
  ~EchoOff() {
    if (!active_) return;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &previous_[i], nullptr);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  // What a signal handler may use: tcsetattr, signal and raise are async-signal-safe.
  static void Restore(int signal) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    ::signal(signal, SIG_DFL);
    ::raise(signal);
  }
  static inline termios saved_{};
  bool active_ = false;
  std::array<struct sigaction, kSignals.size()> previous_{};
};

// The password: typed twice on a terminal without echo, else the first line of stdin.
Result<std::string> ReadPassword(const std::string& name) {
  std::string password;
  if (::isatty(STDIN_FILENO) == 0) {
    if (!std::getline(std::cin, password)) return Status::InvalidArgument("no password on stdin");
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
  }
  std::string again;
  {
    EchoOff hidden;
    std::cerr << "New password for account '" << name << "': " << std::flush;
    const bool first = static_cast<bool>(std::getline(std::cin, password));
    std::cerr << "\nAgain: " << std::flush;
    const bool second = first && static_cast<bool>(std::getline(std::cin, again));
    std::cerr << "\n";
    if (!second) return Status::InvalidArgument("no password typed");
  }
  if (password != again) return Status::InvalidArgument("the two passwords differ; the password is unchanged");
  return password;
}

int UserPasswd(int argc, char** argv) {
  CommonOptions common;
  std::string name, by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("by", po::value(&by), kByHelp);
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument(
          "user passwd", argc, argv, desc, "NAME", name, vm,
          "[--store DIR] NAME [--by NAME] [--json]\n\n"
          "Sets an account's password (for the web application), read from stdin: on a terminal it is\n"
          "asked twice, without echo; from a pipe, the first line is the password. At least 12\n"
          "characters. The store keeps its argon2id hash."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  archive::Accounts accounts(*session.archive);
  // Said before the password is asked for, not after it is typed.
  if (auto account = accounts.Get(name); !account.ok()) return ExitFor(account.status());
  auto password = ReadPassword(name);
  if (!password.ok()) return ExitFor(password.status());
  if (Status set = accounts.SetPassword(name, password.value(), Actor(by)); !set.ok()) return ExitFor(set);
  auto account = accounts.Get(name);
  if (!account.ok()) return ExitFor(account.status());
  if (common.json) {
    std::cout << json::serialize(AccountJson(account.value())) << "\n";
  } else {
    std::cout << "password of account '" << name << "' set\n";
  }
  return kExitOk;
}

int UserCertificate(int argc, char** argv) {
  CommonOptions common;
  std::string name, certificate, by;
  bool remove = false;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("certificate", po::value(&certificate), "the client certificate (PEM or DER) that signs in as the account")
      ("remove", po::bool_switch(&remove), "map no certificate to the account")
      ("by", po::value(&by), kByHelp);
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument(
          "user certificate", argc, argv, desc, "NAME", name, vm,
          "[--store DIR] NAME (--certificate PEM | --remove) [--by NAME] [--json]\n\n"
          "Maps a TLS client certificate to an account (replacing the one it had), or removes the mapping. A\n"
          "certificate signs in as one account only."))
    return *done;
  if (certificate.empty() == !remove) {
    std::cerr << "preserve user certificate: give --certificate PEM or --remove\n";
    return kExitUsage;
  }
  std::optional<Bytes> der;
  if (!remove) {
    auto loaded = LoadClientCertificate(certificate);
    if (!loaded.ok()) return ExitFor(loaded.status());
    der = std::move(loaded).value();
  }
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  archive::Accounts accounts(*session.archive);
  if (Status set = accounts.SetCertificate(name, der, Actor(by)); !set.ok()) return ExitFor(set);
  auto account = accounts.Get(name);
  if (!account.ok()) return ExitFor(account.status());
  if (common.json) {
    std::cout << json::serialize(AccountJson(account.value())) << "\n";
  } else if (der) {
    std::cout << "account '" << name << "' signs in with the certificate " << CertificateSubject(*der)
              << " (SHA-256 " << CertificateFingerprint(*der) << ")\n";
  } else {
    std::cout << "account '" << name << "' has no certificate\n";
  }
  return kExitOk;
}

}  // namespace

int CmdUser(int argc, char** argv) {
  const std::string action = argc >= 2 ? argv[1] : "";
  if (action == "add") return UserAdd(argc - 1, argv + 1);
  if (action == "list") return UserList(argc - 1, argv + 1);
  if (action == "disable" || action == "enable" || action == "token") return UserChange(action, argc - 1, argv + 1);
  if (action == "passwd") return UserPasswd(argc - 1, argv + 1);
  if (action == "certificate") return UserCertificate(argc - 1, argv + 1);
  const bool help = action == "--help" || action == "-h";
  (help ? std::cout : std::cerr) << kUserUsage;
  return help ? kExitOk : kExitUsage;
}

}  // namespace preserve::cli
