// preserve: keeps digitally signed records provably authentic for decades.
#include <iostream>
#include <string>
#include <vector>

#include "cli_common.h"

namespace {

using preserve::cli::CommandEntry;

constexpr const char* kHeader = R"(Usage: preserve [--store DIR] [--now TIME] [--json] COMMAND [options]
       preserve help [COMMAND [SUBCOMMAND]]

Keeps digitally signed records provably authentic for decades: validates signed
documents at ingest, seals them under RFC 3161 time-stamps through RFC 4998
evidence records, and proves them authentic years later.

Commands:
)";

constexpr const char* kFooter = R"(
Every command takes --help ('preserve help COMMAND' says the same). The store comes
from --store DIR or $PRESERVE_STORE; --now / $PRESERVE_NOW simulates the time (tests,
renewal drills); --json prints JSON, and on failure {"ok": false, "error": ..., "exit": N}.
--store, --now and --json may come before the command or after it. A package id may
be shortened to a unique prefix of at least 8 characters. Dates are YYYY-MM-DD or
dd/mm/yyyy.

Exit codes:
  0   success; VALID
  1   INVALID: a check failed; or a listing (list, versions, report, hold list, audit-log show) met
      rows it could not read, named on stderr
  2   INDETERMINATE: nothing failed, but trust could not be established
  3   ingest refused at least one document (one line per input says why)
  4   error: unreadable input, no such store or package, store busy, TSA failure
  5   renew, status, jobs run: evidence lapsed (its renewal came too late), a renewal does not verify,
      or a package was left out of a renewal because its content is damaged
  64  usage error, an ambiguous or too short package id prefix among them
)";

const std::vector<CommandEntry>& Commands() {
  using namespace preserve::cli;
  static const std::vector<CommandEntry> table = {
      {"init", CmdInit, "make a new store: RocksDB database and embedded TSA with its local CA", {}},
      {"ingest", CmdIngest,
       "validate signed documents (CAdES .p7s/.p7m, PAdES PDFs, ASiC-S/E; one file, a directory or a zip/tar "
       "bundle; with revocation and record metadata) and store the trustworthy ones",
       {}},
      {"seal", CmdSeal, "time-stamp every queued package (one TSA request per batch)", {}},
      {"renew", CmdRenew,
       "re-time-stamp what is about to weaken (timestamp or hash-tree renewal, RFC 4998); --dry-run plans; exit 5 "
       "when evidence had already lapsed",
       {}},
      {"restart-evidence", CmdRestartEvidence,
       "start a new evidence chain for lapsed packages (audited; the lapsed chain is kept)", {}},
      {"status", CmdStatus,
       "holdings, queued and sealed, nearest deadlines, lapsed evidence, last seal, renewal and fixity runs", {}},
      {"policy", CmdPolicy, "show or set the dated algorithm catalogue in force", {"show", "set"}},
      {"list", CmdList,
       "list the packages in the store (filters: --organ, --type, --number, --subject, --issued-from/--issued-to, "
       "--ingested-from/--ingested-to, --signer-org, --state)",
       {}},
      {"index", CmdIndex, "the search index list's filters read: its status, or build it for an older store",
       {"status", "build"}},
      {"versions", CmdVersions,
       "list a package's versions (a new one: ingest --new-version-of; get/verify/export --version N)", {}},
      {"report", CmdReport,
       "report signatures: documents submitted, accepted and refused by reason, per organ/signer/month", {}},
      {"verify", CmdVerify, "prove a stored package authentic: data, evidence record, signatures", {}},
      {"export", CmdExport, "write a package as a zip that can be verified offline", {}},
      {"verify-package", CmdVerifyPackage, "verify an exported zip with nothing else", {}},
      {"verify-er", CmdVerifyEr, "check an RFC 4998 evidence record against data objects taken as one group", {}},
      {"get", CmdGet, "write a package's data objects and evidence record into a directory", {}},
      {"fixity", CmdFixity, "re-read and re-hash stored content (all packages or --sample FRACTION); exit 1 if damaged",
       {}},
      {"check", CmdCheck, "check that records, evidence, batches, seal queue and schedule agree; exit 1 if not", {}},
      {"gc", CmdGc, "erase content no package refers to (what check counts as unreferenced); --dry-run counts it", {}},
      {"compact", CmdCompact,
       "rewrite the whole database in the current table format, dropping superseded values (once after an upgrade)",
       {}},
      {"repair", CmdRepair,
       "rewrite records that hold bytes that are not UTF-8, keeping the originals; --dry-run lists them", {}},
      {"audit-log", CmdAuditLog, "show the audit trail, or verify its hash chain", {"show", "verify"}},
      {"backup", CmdBackup, "copy the store, while in use, to a new directory (RocksDB checkpoint + checksums)", {}},
      {"restore", CmdRestore, "make a new store from a backup, checking every file", {}},
      {"retention", CmdRetention, "show or set a package's retention period", {"show", "set"}},
      {"hold", CmdHold, "place, lift or list holds that stop a package's deletion", {"add", "remove", "list"}},
      {"delete", CmdDelete,
       "delete a package whose retention has passed and that has no hold; a tombstone stays", {}},
      {"trust", CmdTrust, "the signers' trust anchors this archive accepts", {"list", "add", "remove"}},
      {"serve", CmdServe,
       "serve the archive over HTTPS: the ETSI TS 119 512 API, with accounts, roles and an access trail", {}},
      {"user", CmdUser,
       "the accounts of 'preserve serve' and their roles (officer, auditor, admin); add prints the API token once",
       {"add", "list", "disable", "enable", "token", "passwd", "certificate"}},
      {"jobs", CmdJobs,
       "the scheduled jobs (seal, renew, fixity): show their schedule and last runs, or run what is due (from a "
       "timer, without 'preserve serve')",
       {"show", "run"}},
      {"tsa", CmdTsa, "run the embedded TSA as an RFC 3161 HTTP time-stamping service", {"serve"}},
  };
  return table;
}

// Words of `text` in lines of at most `width`, each after `indent` spaces but the first.
std::string Wrap(const std::string& text, std::size_t indent, std::size_t width) {
  std::string out, line;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + line;
}

std::string GeneralHelp() {
  std::string out = kHeader;
  for (const auto& c : Commands()) {
    std::string name = c.name;
    for (const char* sub : c.subcommands) name += std::string(name == c.name ? " " : "|") + sub;
    std::string line = "  " + name;
    line += name.size() + 2 < 20 ? std::string(20 - line.size(), ' ') : "\n" + std::string(20, ' ');
    out += line + Wrap(c.summary, 20, 110) + "\n";
  }
  return out + kFooter;
}

const CommandEntry* Find(const std::string& name) {
  for (const auto& c : Commands())
    if (name == c.name) return &c;
  return nullptr;
}

// Boost and the standard library may throw (bad_alloc, filesystem errors):
// whatever escapes a command is reported, never a crash.
int Run(const CommandEntry& c, std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  try {
    return c.run(static_cast<int>(words.size()), argv.data());
  } catch (const std::exception& e) {
    return preserve::cli::ReportFailure(preserve::cli::kExitError, e.what());
  }
}

// `preserve help [COMMAND [SUBCOMMAND]]`; global options given with it change nothing.
int Help(const std::vector<std::string>& given) {
  std::vector<std::string> words;
  for (std::size_t i = 0; i < given.size(); ++i) {
    if (given[i] == "--store" || given[i] == "--now") {
      ++i;
    } else if (given[i] != "--json" && given[i].rfind("--store=", 0) != 0 && given[i].rfind("--now=", 0) != 0) {
      words.push_back(given[i]);
    }
  }
  if (words.empty()) {
    std::cout << GeneralHelp();
    return preserve::cli::kExitOk;
  }
  const CommandEntry* c = Find(words[0]);
  bool known = c != nullptr && words.size() <= (c->subcommands.empty() ? 1u : 2u);
  if (known && words.size() == 2) {
    known = false;
    for (const char* sub : c->subcommands) known = known || words[1] == sub;
  }
  if (!known) {
    std::string asked;
    for (const auto& w : words) asked += (asked.empty() ? "" : " ") + w;
    std::cerr << "preserve help: no command '" << asked << "'\nSee 'preserve help' for the commands.\n";
    return preserve::cli::kExitUsage;
  }
  std::vector<std::string> argv = words;
  argv.push_back("--help");
  return Run(*c, argv);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << GeneralHelp();
    return preserve::cli::kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h") return Help({});
  if (args[0] == "--version") {
    std::cout << "preserve 0.1.0\n";
    return preserve::cli::kExitOk;
  }
  if (args[0] == "__describe") {
    return preserve::cli::CmdDescribe(Commands(), GeneralHelp(), argc - 1, argv + 1);
  }
  if (auto failed = preserve::cli::MoveGlobalOptions(args)) return *failed;
  const std::string command = args[0];
  if (command == "help") return Help(std::vector<std::string>(args.begin() + 1, args.end()));
  // --json anywhere before a "--": failures are said in JSON too.
  bool json = false;
  for (const auto& a : args) {
    if (a == "--") break;
    json = json || a == "--json";
  }
  preserve::cli::BeginCommand(command, json);
  const CommandEntry* c = Find(command);
  const int exit_code =
      c != nullptr ? Run(*c, args)
                   : preserve::cli::ReportFailure(preserve::cli::kExitUsage, "unknown command '" + command +
                                                                                 "' (see 'preserve help')");
  preserve::cli::FinishCommand(exit_code);
  return exit_code;
}
