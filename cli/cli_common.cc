#include "cli_common.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <sstream>

#include <boost/json.hpp>

#include "preserve/archive/catalogue.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/util/date.h"
#include "preserve/util/certificates.h"

namespace preserve::cli {

std::string Actor(const std::string& by) {
  if (!by.empty()) return by;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

void AddActorOptions(po::options_description& desc, std::string& reason, std::string& by) {
  desc.add_options()
      ("reason", po::value(&reason)->required(), "why (recorded in the audit trail); required")
      ("by", po::value(&by), "who asks (default: the login name)");
}

void AddVersionOption(po::options_description& desc, std::uint32_t& version) {
  desc.add_options()("version", po::value(&version),
                     "which version of the package (1, 2, ...; default: the latest; see 'preserve versions')");
}

std::optional<int> ResolveVersion(archive::Archive& archive, std::string& id, std::uint32_t version) {
  if (auto failed = ResolvePackageArgument(archive, id)) return failed;
  auto stored = archive::Lifecycle(archive).VersionId(id, version);
  if (!stored.ok()) return ExitFor(stored.status());
  // Said when a later version stands in for the id given, so that nobody takes it for version 1.
  if (stored.value() != id) {
    std::cerr << (version == 0 ? "the latest version" : "version " + std::to_string(version)) << " of package " << id
              << ": " << stored.value() << "\n";
  }
  id = std::move(stored).value();
  return std::nullopt;
}

int ExitFor(Verdict v) {
  switch (v) {
    case Verdict::kValid: return kExitOk;
    case Verdict::kInvalid: return kExitInvalid;
    case Verdict::kIndeterminate: return kExitIndeterminate;
  }
  return kExitInvalid;
}

namespace {

// What this run says about a failure (BeginCommand .. FinishCommand).
struct FailureState {
  std::string command;
  bool json = false;
  bool reported = false;  // the JSON object is out
};
FailureState& Failures() {
  static FailureState state;
  return state;
}

// Passes stderr through, keeping the last line that starts with "preserve":
// what a command that failed without ReportFailure said last.
class LastErrorLine : public std::streambuf {
 public:
  explicit LastErrorLine(std::streambuf* out) : out_(out) {}
  const std::string& line() const { return last_; }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    Record(static_cast<char>(c));
    return out_->sputc(static_cast<char>(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) Record(s[i]);
    return out_->sputn(s, n);
  }
  int sync() override { return out_->pubsync(); }

 private:
  void Record(char c) {
    if (c != '\n') {
      current_ += c;
      return;
    }
    if (current_.rfind("preserve", 0) == 0) last_ = current_;
    current_.clear();
  }
  std::streambuf* out_;
  std::string current_, last_;
};

LastErrorLine* Captured() {
  static LastErrorLine* captured = nullptr;
  if (captured == nullptr) {
    captured = new LastErrorLine(std::cerr.rdbuf());  // lives as long as the process, as std::cerr does
    std::cerr.rdbuf(captured);
  }
  return captured;
}

void PrintJsonFailure(int exit_code, const std::string& message) {
  FailureState& state = Failures();
  if (!state.json || state.reported) return;
  state.reported = true;
  std::cout << boost::json::serialize(boost::json::object{
                   {"ok", false}, {"command", state.command}, {"error", message}, {"exit", exit_code}})
            << std::endl;
}

}  // namespace

void BeginCommand(const std::string& command, bool json) {
  Failures() = {command, json, false};
  if (json) Captured();
}

int ReportFailure(int exit_code, const std::string& message, bool already_on_stderr) {
  if (!already_on_stderr) std::cerr << "preserve: error: " << message << "\n";
  PrintJsonFailure(exit_code, message);
  return exit_code;
}

void FinishCommand(int exit_code) {
  if (exit_code != kExitError && exit_code != kExitUsage) return;
  if (!Failures().json || Failures().reported) return;
  std::string line = Captured()->line();
  PrintJsonFailure(exit_code, line.empty() ? "failed (exit " + std::to_string(exit_code) + ")" : line);
}

int ExitFor(const Status& s) { return ReportFailure(kExitError, s.message()); }

std::optional<int> ResolvePackageArgument(archive::Archive& archive, std::string& id) {
  auto resolved = archive::Catalogue(archive).ResolvePackageId(id);
  if (!resolved.ok()) {
    const int code = resolved.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitError;
    return ReportFailure(code, resolved.status().message());
  }
  id = std::move(resolved).value();
  return std::nullopt;
}

std::string DateArg::Iso() const { return FormatDate(day); }

namespace {

// A usage error that names the option (boost fills %canonical_option% in) and says why, as the date parser does.
[[noreturn]] void BadDateOption(const Status& why) {
  po::error_with_option_name error("%canonical_option%: %why%");
  error.set_substitute("why", why.message());
  throw error;
}

}  // namespace

void validate(boost::any& value, const std::vector<std::string>& tokens, DateArg*, int) {
  po::validators::check_first_occurrence(value);
  const std::string& text = po::validators::get_single_string(tokens);
  auto day = ParseDate(text);
  if (!day.ok()) BadDateOption(day.status());
  value = DateArg{day.value()};
}

void validate(boost::any& value, const std::vector<std::string>& tokens, TimeArg*, int) {
  po::validators::check_first_occurrence(value);
  const std::string& text = po::validators::get_single_string(tokens);
  auto time = ParseDateOrUtcTime(text);
  if (!time.ok()) BadDateOption(time.status());
  value = TimeArg{time.value(), ParseDate(text).ok(), text};
}

void AddCommonOptions(po::options_description& desc, CommonOptions& common, bool with_store) {
  if (with_store)
    desc.add_options()("store", po::value(&common.store), "store directory (default: $PRESERVE_STORE)");
  desc.add_options()
      ("now", po::value<TimeArg>()->notifier([&common](const TimeArg& t) { common.now = t.text; }),
       "simulate the time: YYYY-MM-DD, dd/mm/yyyy or YYYY-MM-DDTHH:MM:SSZ (default: $PRESERVE_NOW, else the real "
       "time)")
      ("json", po::bool_switch(&common.json), "print JSON instead of text (on failure too)")
      ("help,h", "show this help");
}

namespace {

// The options a command (or subcommand) parses with, while DescribeCommands runs.
std::vector<CommandDescription>* describing = nullptr;

// "PACKAGE_ID": how the usage line names a positional argument (its description).
std::string ArgumentName(const po::options_description& hidden, const std::string& option) {
  const std::string name = option.rfind("--", 0) == 0 ? option.substr(2) : option;
  if (const po::option_description* d = hidden.find_nothrow(name, false); d != nullptr && !d->description().empty())
    return d->description();
  return option;
}

// The usage line(s), without the text after them.
std::string UsageLine(const std::string& command, const std::string& usage) {
  return "preserve " + command + " " + usage.substr(0, usage.find("\n\n"));
}

int UsageError(const std::string& command, const std::string& message, const std::string& usage) {
  std::cerr << "preserve " << command << ": " << message << "\n"
            << "Usage: " << UsageLine(command, usage) << "\n"
            << "See 'preserve help " << command << "'.\n";
  return ReportFailure(kExitUsage, message + " (usage: " + UsageLine(command, usage) + ")", true);
}

// The global options given before the command word (MoveGlobalOptions), to say so when the command does not take one.
std::vector<std::string>& GlobalsGivenFirst() {
  static std::vector<std::string> given;
  return given;
}

// The placeholder of option `name` in the usage text ("--store DIR" gives DIR), else VALUE.
std::string Placeholder(const std::string& usage, const std::string& name) {
  const std::string flag = "--" + name + " ";
  for (std::size_t at = usage.find(flag); at != std::string::npos; at = usage.find(flag, at + 1)) {
    std::size_t begin = at + flag.size(), end = begin;
    while (end < usage.size() && (std::isupper(static_cast<unsigned char>(usage[end])) != 0 ||
                                  std::isdigit(static_cast<unsigned char>(usage[end])) != 0 ||
                                  std::string_view("_.:|").find(usage[end]) != std::string_view::npos))
      ++end;
    if (end > begin) return usage.substr(begin, end - begin);
  }
  if (name == "store") return "DIR";
  if (name == "now") return "TIME";
  return "VALUE";
}

void Describe(const std::string& command, const std::string& usage, const po::options_description& visible) {
  CommandDescription d;
  d.path = command;
  const std::size_t split = usage.find("\n\n");
  d.usage = usage.substr(0, split);
  if (split != std::string::npos) d.about = usage.substr(split + 2);
  for (const auto& option : visible.options()) {
    OptionDescription o;
    o.name = option->long_name();
    const std::string key = option->key("");
    if (o.name.empty()) o.name = key;
    const std::string shown = option->format_name();  // "-h [ --help ]"
    if (shown.size() >= 2 && shown[0] == '-' && shown[1] != '-') o.short_name = shown[1];
    if (option->semantic()->max_tokens() > 0) o.argument = Placeholder(usage, o.name);
    o.description = option->description();
    d.options.push_back(std::move(o));
  }
  describing->push_back(std::move(d));
}

}  // namespace

std::optional<int> ParseCommand(const std::string& command, int argc, char** argv,
                                const po::options_description& visible, const po::options_description& hidden,
                                const po::positional_options_description& positional, po::variables_map& vm,
                                const std::string& usage) {
  if (describing != nullptr) {
    Describe(command, usage, visible);
    return kExitOk;
  }
  po::options_description all;
  all.add(visible).add(hidden);
  // Arguments past those the command takes land here, to be named.
  constexpr const char* kExtra = "unexpected-argument";
  po::positional_options_description with_extra = positional;
  if (positional.max_total_count() != std::numeric_limits<unsigned>::max()) {
    all.add_options()(kExtra, po::value<std::vector<std::string>>());
    with_extra.add(kExtra, -1);
  }
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(with_extra).run(), vm);
    if (vm.count("help") > 0) {
      std::cout << "Usage: preserve " << command << " " << usage << "\n\n" << visible << "\n";
      return kExitOk;
    }
    if (vm.count(kExtra) > 0) {
      std::string extra;
      for (const auto& a : vm[kExtra].as<std::vector<std::string>>()) extra += (extra.empty() ? "'" : ", '") + a + "'";
      return UsageError(command, "unexpected argument " + extra, usage);
    }
    po::notify(vm);
  } catch (const po::required_option& e) {
    return UsageError(command, "missing " + ArgumentName(hidden, e.get_option_name()), usage);
  } catch (const po::unknown_option& e) {
    const std::string option = e.get_option_name();
    const auto& globals = GlobalsGivenFirst();
    const bool given_first = std::find(globals.begin(), globals.end(), option) != globals.end();
    return UsageError(command,
                      given_first ? option + " (given before the command) does not apply to this command"
                                  : "unknown option " + option,
                      usage);
  } catch (const po::error& e) {
    return UsageError(command, e.what(), usage);
  }
  return std::nullopt;
}

std::optional<int> ParseCommandWithArgument(const std::string& command, int argc, char** argv,
                                            const po::options_description& visible, const char* argument_name,
                                            std::string& argument, po::variables_map& vm, const std::string& usage) {
  po::options_description hidden;
  hidden.add_options()("argument", po::value(&argument)->required(), argument_name);
  po::positional_options_description positional;
  positional.add("argument", 1);
  return ParseCommand(command, argc, argv, visible, hidden, positional, vm, usage);
}

int Dispatch(int argc, char** argv, const std::string& usage,
             std::initializer_list<std::pair<const char*, int (*)(int, char**)>> actions) {
  std::string action = argc >= 2 ? argv[1] : "";
  for (const auto& [name, run] : actions)
    if (action == name) return run(argc - 1, argv + 1);
  const bool help = action == "--help" || action == "-h";
  (help ? std::cout : std::cerr) << usage;
  return help ? kExitOk : kExitUsage;
}

std::optional<int> MoveGlobalOptions(std::vector<std::string>& args) {
  std::vector<std::string> moved;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      moved.push_back(a);
    } else if (a == "--store" || a == "--now") {
      if (i + 1 >= args.size()) {
        std::cerr << "preserve: " << a << " needs a value\n";
        return kExitUsage;
      }
      moved.push_back(a);
      moved.push_back(args[++i]);
    } else if (a.rfind("--store=", 0) == 0 || a.rfind("--now=", 0) == 0) {
      moved.push_back(a);
    } else {
      break;
    }
  }
  if (moved.empty()) return std::nullopt;
  if (i == args.size()) {
    std::cerr << "preserve: no command given after " << moved.front() << "\nSee 'preserve help'.\n";
    return kExitUsage;
  }
  for (const auto& m : moved)
    if (m.rfind("--", 0) == 0) GlobalsGivenFirst().push_back(m.substr(0, m.find('=')));
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  // Behind the command's arguments, but before a "--" that ends its options.
  auto end_of_options = std::find(rest.begin(), rest.end(), "--");
  rest.insert(end_of_options, moved.begin(), moved.end());
  args = std::move(rest);
  return std::nullopt;
}

std::vector<CommandDescription> DescribeCommands(const std::vector<CommandEntry>& table) {
  std::vector<CommandDescription> out;
  describing = &out;
  for (const auto& c : table) {
    std::vector<std::vector<std::string>> runs;
    if (c.subcommands.empty()) runs.push_back({c.name, "--help"});
    for (const char* sub : c.subcommands) runs.push_back({c.name, sub, "--help"});
    for (auto& words : runs) {
      std::vector<char*> argv;
      for (auto& w : words) argv.push_back(w.data());
      argv.push_back(nullptr);
      // Output of a command that prints its help before parsing goes nowhere.
      std::ostringstream ignored;
      std::streambuf* out_buf = std::cout.rdbuf(ignored.rdbuf());
      std::streambuf* err_buf = std::cerr.rdbuf(ignored.rdbuf());
      c.run(static_cast<int>(words.size()), argv.data());
      std::cout.rdbuf(out_buf);
      std::cerr.rdbuf(err_buf);
    }
  }
  describing = nullptr;
  return out;
}

Result<std::unique_ptr<Clock>> MakeClock(const CommonOptions& common) {
  std::string now = common.now;
  if (now.empty()) {
    const char* env = std::getenv("PRESERVE_NOW");
    if (env != nullptr) now = env;
  }
  if (now.empty()) return std::unique_ptr<Clock>(std::make_unique<SystemClock>());
  auto t = ParseDateOrUtcTime(now);
  if (!t.ok()) return t.status().WithContext(common.now.empty() ? "PRESERVE_NOW" : "--now");
  return std::unique_ptr<Clock>(std::make_unique<ManualClock>(t.value()));
}

Result<std::filesystem::path> StorePath(const CommonOptions& common) {
  if (!common.store.empty()) return std::filesystem::path(common.store);
  const char* env = std::getenv("PRESERVE_STORE");
  if (env != nullptr && *env != '\0') return std::filesystem::path(env);
  return Status::InvalidArgument("no store given: pass --store DIR or set PRESERVE_STORE");
}

std::unique_ptr<archive::Archive> OpenArchive(const CommonOptions& common, const Clock& clock,
                                              archive::OpenMode mode, int& exit_code) {
  auto path = StorePath(common);
  if (!path.ok()) {
    std::cerr << "preserve: " << path.status().message() << "\n";
    exit_code = kExitUsage;
    return nullptr;
  }
  auto opened = archive::Archive::Open(path.value(), clock, {.mode = mode});
  if (!opened.ok()) {
    exit_code = ExitFor(opened.status());
    return nullptr;
  }
  return std::move(opened).value();
}

std::optional<int> OpenSession(const CommonOptions& common, archive::OpenMode mode, Session& session) {
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  session.clock = std::move(clock).value();
  int exit_code = kExitOk;
  session.archive = OpenArchive(common, *session.clock, mode, exit_code);
  if (!session.archive) return exit_code;
  return std::nullopt;
}

std::optional<int> OpenSessionForAudit(const CommonOptions& common, const std::string& command, Session& session) {
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  session.clock = std::move(clock).value();
  auto path = StorePath(common);
  if (!path.ok()) {
    std::cerr << "preserve: " << path.status().message() << "\n";
    return kExitUsage;
  }
  auto writable = archive::Archive::Open(path.value(), *session.clock, {.mode = archive::OpenMode::kWritable});
  if (writable.ok()) {
    session.archive = std::move(writable).value();
    return std::nullopt;
  }
  if (writable.status().code() == StatusCode::kNotFound) return ExitFor(writable.status());
  auto read_only = archive::Archive::Open(path.value(), *session.clock, {.mode = archive::OpenMode::kReadOnly});
  if (!read_only.ok()) return ExitFor(read_only.status());
  session.archive = std::move(read_only).value();
  std::cerr << "preserve " << command << ": not recorded in the audit trail: " << writable.status().message() << "\n";
  return std::nullopt;
}

Result<std::vector<Bytes>> LoadAll(const std::vector<std::string>& paths) {
  std::vector<Bytes> out;
  for (const auto& p : paths) {
    PRESERVE_ASSIGN_OR_RETURN(auto certs, LoadCertificates(p));
    out.insert(out.end(), certs.begin(), certs.end());
  }
  return out;
}

void PrintTsaFailovers(const std::vector<archive::TsaFailover>& failovers) {
  for (const auto& f : failovers)
    std::cerr << "preserve: TSA failover: " << f.failed << " failed (" << f.reason << "); " << f.answered
              << " answered\n";
}

void PrintSeal(const std::vector<archive::SealOutcome>& sealed) {
  for (const auto& s : sealed) {
    PrintTsaFailovers(s.tsa_failovers);
    std::cerr << "sealed " << s.packages << " package" << (s.packages == 1 ? "" : "s") << " in batch " << s.batch_id
              << " (time-stamp " << FormatUtcTime(s.time) << ")\n";
  }
}

}  // namespace preserve::cli
