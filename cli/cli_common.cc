#include "cli_common.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "preserve/archive/lifecycle.h"
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

int ExitFor(const Status& s) {
  std::cerr << "preserve: error: " << s.message() << "\n";
  return kExitError;
}

void AddCommonOptions(po::options_description& desc, CommonOptions& common, bool with_store) {
  if (with_store)
    desc.add_options()("store", po::value(&common.store), "store directory (default: $PRESERVE_STORE)");
  desc.add_options()
      ("now", po::value(&common.now), "simulate the time, e.g. 2040-01-01 (default: $PRESERVE_NOW, else the real time)")
      ("json", po::bool_switch(&common.json), "print JSON instead of text")
      ("help,h", "show this help");
}

std::optional<int> ParseCommand(const std::string& command, int argc, char** argv,
                                const po::options_description& visible, const po::options_description& hidden,
                                const po::positional_options_description& positional, po::variables_map& vm,
                                const std::string& usage) {
  po::options_description all;
  all.add(visible).add(hidden);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help") > 0) {
      std::cout << "Usage: preserve " << command << " " << usage << "\n\n" << visible << "\n";
      return kExitOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "preserve " << command << ": " << e.what() << "\n"
              << "Usage: preserve " << command << " " << usage << "\n"
              << "Try 'preserve " << command << " --help'.\n";
    return kExitUsage;
  }
  return std::nullopt;
}

std::optional<int> ParseCommandWithArgument(const std::string& command, int argc, char** argv,
                                            const po::options_description& visible, const char* argument_name,
                                            std::string& argument, po::variables_map& vm, const std::string& usage) {
  po::options_description hidden;
  hidden.add_options()(argument_name, po::value(&argument)->required());
  po::positional_options_description positional;
  positional.add(argument_name, 1);
  return ParseCommand(command, argc, argv, visible, hidden, positional, vm, usage);
}

Result<std::unique_ptr<Clock>> MakeClock(const CommonOptions& common) {
  std::string now = common.now;
  if (now.empty()) {
    const char* env = std::getenv("PRESERVE_NOW");
    if (env != nullptr) now = env;
  }
  if (now.empty()) return std::unique_ptr<Clock>(std::make_unique<SystemClock>());
  PRESERVE_ASSIGN_OR_RETURN(TimePoint t, ParseUtcTime(now));
  return std::unique_ptr<Clock>(std::make_unique<ManualClock>(t));
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

void PrintSeal(const std::vector<archive::SealOutcome>& sealed) {
  for (const auto& s : sealed) {
    std::cerr << "sealed " << s.packages << " package" << (s.packages == 1 ? "" : "s") << " in batch " << s.batch_id
              << " (time-stamp " << FormatUtcTime(s.time) << ")\n";
  }
}

}  // namespace preserve::cli
