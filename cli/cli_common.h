// Shared pieces of the preserve command line: exit codes, option parsing
// helpers, the clock from --now / PRESERVE_NOW.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>
#include <boost/program_options.hpp>

#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
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
  kExitLapsed = 5,         // renew, status, jobs run: evidence lapsed (renewal came too late), a renewal
                           // does not verify, or a damaged subject was left out of a renewal
  kExitUsage = 64,         // wrong command line
};

int ExitFor(Verdict v);

// Prints "preserve: error: ..." on stderr (and, under --json, the failure
// object on stdout: see ReportFailure); returns kExitError.
int ExitFor(const Status& s);

// ---- Failures under --json (README, "CLI conventions") ----
//
// With --json anywhere on the command line, a command that fails (exit 4 or
// 64) prints one JSON object on stdout besides its line on stderr:
//   {"ok": false, "command": "seal", "error": "...", "exit": 4}
// ExitFor, the usage errors of ParseCommand and ResolvePackageArgument print
// it as they fail; main prints it for any other failure, from the last
// "preserve ..." line said on stderr (CaptureErrors). Said once per run.

// Called by main before the command runs: which command, and whether --json was given.
void BeginCommand(const std::string& command, bool json);
// Says a failure: `message` on stderr unless `already_on_stderr`, and the
// JSON object on stdout under --json. Returns `exit_code`.
int ReportFailure(int exit_code, const std::string& message, bool already_on_stderr = false);
// Called by main after the command: the JSON object for a failure that was
// only said on stderr (a command's own usage check, say).
void FinishCommand(int exit_code);

// Who asks, for the audit trail: --by, else the login name of the effective user.
std::string Actor(const std::string& by);
// --reason TEXT (required) and --by NAME, for commands whose change is audited.
void AddActorOptions(po::options_description& desc, std::string& reason, std::string& by);

// --version N, for a command that takes a package id: which version of the
// package (default: the latest). The stored id of that version (`id` may be a
// prefix: ResolvePackageArgument), or exits.
void AddVersionOption(po::options_description& desc, std::uint32_t& version);
std::optional<int> ResolveVersion(archive::Archive& archive, std::string& id, std::uint32_t version);

// A package id as the user gives it: a whole id, or a unique prefix of at
// least 8 characters (Catalogue::ResolvePackageId). Replaces `id` with the
// whole id; else says why and returns the exit code: 64 when the prefix is
// too short or ambiguous (the candidates named), 4 when no package has it.
std::optional<int> ResolvePackageArgument(archive::Archive& archive, std::string& id);

// Date options: `po::value<DateArg>()` (YYYY-MM-DD or dd/mm/yyyy) and
// `po::value<TimeArg>()` (a date, or YYYY-MM-DDTHH:MM:SSZ) are checked as they
// are parsed: anything else is a usage error naming the option and the forms
// accepted (preserve/util/date.h is the one parser).
struct DateArg {
  std::chrono::sys_days day;
  std::string Iso() const;  // "2017-11-22"
};
struct TimeArg {
  TimePoint time;
  bool date_only = false;  // given as a date: the range options take the whole day
  std::string text;        // as given
};
void validate(boost::any& value, const std::vector<std::string>& tokens, DateArg*, int);
void validate(boost::any& value, const std::vector<std::string>& tokens, TimeArg*, int);

struct CommonOptions {
  std::string store;  // --store or PRESERVE_STORE
  std::string now;    // --now or PRESERVE_NOW
  bool json = false;
};

// Adds --store (when `with_store`), --now, --json and --help.
void AddCommonOptions(po::options_description& desc, CommonOptions& common, bool with_store);

// Parses argv for one command. Returns nothing to go on, or the exit code to
// return at once (after --help, or a usage error, which it reports).
// `visible` is shown by --help; `hidden` holds the positional arguments, each
// described by its name in the usage line ("PACKAGE_ID"), which usage errors
// use ("missing PACKAGE_ID"). Unknown options and arguments past those the
// command takes are usage errors too, each with the usage line and a pointer
// to 'preserve help COMMAND'. While DescribeCommands runs, records the
// command's options instead of parsing, and returns kExitOk.
std::optional<int> ParseCommand(const std::string& command, int argc, char** argv,
                                const po::options_description& visible, const po::options_description& hidden,
                                const po::positional_options_description& positional, po::variables_map& vm,
                                const std::string& usage);

// ParseCommand for a command with one required positional argument, named
// `argument_name` as the usage line names it ("PACKAGE_ID").
std::optional<int> ParseCommandWithArgument(const std::string& command, int argc, char** argv,
                                            const po::options_description& visible, const char* argument_name,
                                            std::string& argument, po::variables_map& vm, const std::string& usage);

// `preserve X ACTION ...`: runs the action's function, or prints `usage` (on
// stdout after --help, else on stderr) and returns its exit code.
int Dispatch(int argc, char** argv, const std::string& usage,
             std::initializer_list<std::pair<const char*, int (*)(int, char**)>> actions);

// ---- Global options before the command word ----
//
// `preserve --store S --now T --json COMMAND ...` (also --store=S): main moves
// them behind the command's own arguments, where the command parses them as
// if given there; one that the command does not take is a usage error.
// Returns the exit code of a usage error, else nothing; `args` are argv's
// words after the program name, rewritten in place.
std::optional<int> MoveGlobalOptions(std::vector<std::string>& args);

// ---- The command table, `preserve help` and the generated documentation ----

struct CommandEntry {
  const char* name;
  int (*run)(int, char**);
  const char* summary;                   // one line of `preserve --help`
  std::vector<const char*> subcommands;  // "add", "remove", ... for `preserve hold add`; empty for most
};

// One command (or subcommand) as ParseCommand was given it, for the man page
// and the bash completion.
struct OptionDescription {
  std::string name;      // "store" (long), or "h" when it has only a short name
  char short_name = 0;   // 'h', 'v'
  std::string argument;  // "DIR" when it takes a value; "" for a switch
  std::string description;
};
struct CommandDescription {
  std::string path;   // "verify", "hold add"
  std::string usage;  // the usage line(s), after "preserve PATH "
  std::string about;  // the text after the usage line(s)
  std::vector<OptionDescription> options;
};
// Runs every command and subcommand of `table` as `--help` would, with
// ParseCommand recording instead of parsing: what each takes, from the very
// option definitions it parses with.
std::vector<CommandDescription> DescribeCommands(const std::vector<CommandEntry>& table);
// `preserve __describe man|bash-completion|commands` (describe.cc): the man
// page (troff), the bash completion script, or every command path, one a line.
int CmdDescribe(const std::vector<CommandEntry>& table, const std::string& general_help, int argc, char** argv);

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

// "sealed N packages in batch B (time-stamp T)" on stderr, per batch, after
// the batch's TSA failovers (PrintTsaFailovers).
void PrintSeal(const std::vector<archive::SealOutcome>& sealed);
// One stderr line per failover between config.json's TSAs:
// "preserve: TSA failover: NAME failed (why); NAME answered".
void PrintTsaFailovers(const std::vector<archive::TsaFailover>& failovers);

// Certificates from each FILE or DIR given.
Result<std::vector<Bytes>> LoadAll(const std::vector<std::string>& paths);

// The commands, each `int Name(int argc, char** argv)` over the arguments after the command word.
int CmdInit(int argc, char** argv);
int CmdIngest(int argc, char** argv);
int CmdSeal(int argc, char** argv);
int CmdVerify(int argc, char** argv);
int CmdExport(int argc, char** argv);
int CmdList(int argc, char** argv);
int CmdIndex(int argc, char** argv);
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
int CmdCompact(int argc, char** argv);
int CmdRepair(int argc, char** argv);
// Retention, holds and deletion (retention_commands.cc).
int CmdHold(int argc, char** argv);
int CmdRetention(int argc, char** argv);
int CmdDelete(int argc, char** argv);

// The signers' trust list (trust_commands.cc).
int CmdTrust(int argc, char** argv);

// The accounts of `preserve serve` (user_commands.cc).
int CmdUser(int argc, char** argv);

int CmdTsa(int argc, char** argv);
int CmdServe(int argc, char** argv);

// The scheduled jobs: `jobs show`, `jobs run` (jobs_commands.cc).
int CmdJobs(int argc, char** argv);
// A job's last run under --json (`status`, `jobs`): time, outcome, ok,
// failed, and its figures (JobRun::counts); null when it never ran.
boost::json::value JobRunJson(const std::optional<archive::JobRun>& run);

}  // namespace preserve::cli
