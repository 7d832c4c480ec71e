// Shared pieces of the preserve command line: exit codes, option parsing
// helpers, the clock from --now / PRESERVE_NOW.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "preserve/archive/archive.h"
#include "preserve/archive/sealing.h"
#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"
#include "preserve/util/status.h"
#include "preserve/util/verdict.h"

namespace preserve::cli {

namespace po = boost::program_options;

// Documented in README.md and `preserve --help`; stable.
enum ExitCode : int {
  kExitOk = 0,             // success; VALID
  kExitInvalid = 1,        // verification: INVALID
  kExitIndeterminate = 2,  // verification: INDETERMINATE
  kExitRefused = 3,        // ingest: at least one document refused
  kExitError = 4,          // the command could not do its job (I/O, bad input, no such package, store busy)
  kExitLapsed = 5,         // renew, status: evidence lapsed (renewal came too late), or a renewal does not verify
  kExitUsage = 64,         // wrong command line
};

int ExitFor(Verdict v);

int ExitFor(const Status& s);  // prints "preserve: error: ..." on stderr; returns kExitError

// Who asks, for the audit trail: --by, else the login name of the effective user.
std::string Actor(const std::string& by);
// --reason TEXT (required) and --by NAME, for commands whose change is audited.
void AddActorOptions(po::options_description& desc, std::string& reason, std::string& by);

// --version N, for a command that takes a package id: which version of the
// package (default: the latest). The stored id of that version, or exits.
void AddVersionOption(po::options_description& desc, std::uint32_t& version);
std::optional<int> ResolveVersion(archive::Archive& archive, std::string& id, std::uint32_t version);

struct CommonOptions {
  std::string store;  // --store or PRESERVE_STORE
  std::string now;    // --now or PRESERVE_NOW
  bool json = false;
};

// Adds --store (when `with_store`), --now, --json and --help.
void AddCommonOptions(po::options_description& desc, CommonOptions& common, bool with_store);

// Parses argv for one command. Returns nothing to go on, or the exit code to
// return at once (after --help, or a usage error, which it reports).
// `visible` is shown by --help; `hidden` holds the positional arguments.
std::optional<int> ParseCommand(const std::string& command, int argc, char** argv,
                                const po::options_description& visible, const po::options_description& hidden,
                                const po::positional_options_description& positional, po::variables_map& vm,
                                const std::string& usage);

// ParseCommand for a command with one required positional argument; a usage
// error names it as --`argument_name`.
std::optional<int> ParseCommandWithArgument(const std::string& command, int argc, char** argv,
                                            const po::options_description& visible, const char* argument_name,
                                            std::string& argument, po::variables_map& vm, const std::string& usage);

// The clock: simulated when --now / PRESERVE_NOW is set.
Result<std::unique_ptr<Clock>> MakeClock(const CommonOptions& common);
// The store path, from --store or PRESERVE_STORE; an error when neither is set.
Result<std::filesystem::path> StorePath(const CommonOptions& common);

// Opens the store named by --store / PRESERVE_STORE. On failure prints why,
// sets `exit_code` and returns null.
std::unique_ptr<archive::Archive> OpenArchive(const CommonOptions& common, const Clock& clock,
                                              archive::OpenMode mode, int& exit_code);

// What most commands work with: the clock and the opened store.
struct Session {
  std::unique_ptr<Clock> clock;
  std::unique_ptr<archive::Archive> archive;
};
// Makes the clock and opens the store. Returns nothing on success, else the
// exit code to return (the reason already printed).
std::optional<int> OpenSession(const CommonOptions& common, archive::OpenMode mode, Session& session);
// For commands that only read but whose use is audited (verify, export): opens
// the store for writing so the event can be recorded; when another process
// holds the writer lock (or the store cannot be written), opens it read-only
// and prints one line on stderr saying the event was not recorded, and why.
std::optional<int> OpenSessionForAudit(const CommonOptions& common, const std::string& command, Session& session);

// "sealed N packages in batch B (time-stamp T)" on stderr, per batch.
void PrintSeal(const std::vector<archive::SealOutcome>& sealed);

// Certificates from each FILE or DIR given.
Result<std::vector<Bytes>> LoadAll(const std::vector<std::string>& paths);

// The commands, each `int Name(int argc, char** argv)` over the arguments after the command word.
int CmdInit(int argc, char** argv);
int CmdIngest(int argc, char** argv);
int CmdSeal(int argc, char** argv);
int CmdVerify(int argc, char** argv);
int CmdExport(int argc, char** argv);
int CmdList(int argc, char** argv);
int CmdVersions(int argc, char** argv);
int CmdReport(int argc, char** argv);
int CmdVerifyPackage(int argc, char** argv);
int CmdVerifyEr(int argc, char** argv);
int CmdRenew(int argc, char** argv);
int CmdRestartEvidence(int argc, char** argv);
int CmdStatus(int argc, char** argv);
int CmdPolicy(int argc, char** argv);
// Maintenance (maintenance_commands.cc).
int CmdAuditLog(int argc, char** argv);
int CmdFixity(int argc, char** argv);
int CmdCheck(int argc, char** argv);
int CmdBackup(int argc, char** argv);
int CmdRestore(int argc, char** argv);
int CmdGet(int argc, char** argv);
// Collecting unreferenced content, repairing rows that are not UTF-8 (repair_commands.cc).
int CmdGc(int argc, char** argv);
int CmdRepair(int argc, char** argv);
// Retention, holds and deletion (retention_commands.cc).
int CmdHold(int argc, char** argv);
int CmdRetention(int argc, char** argv);
int CmdDelete(int argc, char** argv);

// The signers' trust list (trust_commands.cc).
int CmdTrust(int argc, char** argv);

int CmdTsa(int argc, char** argv);

}  // namespace preserve::cli
