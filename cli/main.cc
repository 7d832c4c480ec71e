// preserve: keeps digitally signed records provably authentic for decades.
#include <cstring>
#include <iostream>
#include <string>

#include "cli_common.h"

namespace {

constexpr const char* kUsage = R"(Usage: preserve COMMAND [options]

Keeps digitally signed records provably authentic for decades: validates signed
documents at ingest, seals them under RFC 3161 time-stamps through RFC 4998
evidence records, and proves them authentic years later.

Commands:
  init            make a new store: RocksDB database and embedded TSA with its local CA
  ingest          validate signed documents (CAdES .p7s/.p7m, PAdES PDFs, ASiC-S/E; one file, a directory or a
                  zip/tar bundle; with revocation and record metadata) and store the trustworthy ones
  seal            time-stamp every queued package (one TSA request per batch)
  renew           re-time-stamp what is about to weaken (timestamp or hash-tree renewal, RFC 4998); --dry-run plans;
                  exit 5 when evidence had already lapsed
  restart-evidence  start a new evidence chain for lapsed packages (audited; the lapsed chain is kept)
  status          holdings, queued and sealed, nearest deadlines, lapsed evidence, last renewal and fixity runs
  policy          show or set the dated algorithm catalogue in force (policy show | policy set PROFILE|FILE)
  list            list the packages in the store (filters: --organ, --type, --issued-from/--issued-to, --signer-org)
  versions        list a package's versions (a new one: ingest --new-version-of; get/verify/export --version N)
  report          report signatures: documents submitted, accepted and refused by reason, per organ/signer/month
  verify          prove a stored package authentic: data, evidence record, signatures
  export          write a package as a zip that can be verified offline
  verify-package  verify an exported zip with nothing else
  verify-er       check an RFC 4998 evidence record against data objects taken as one group
  get             write a package's data objects and evidence record into a directory
  fixity          re-read and re-hash stored content (all packages or --sample FRACTION); exit 1 if damaged
  check           check that records, evidence, batches, seal queue and schedule agree; exit 1 if not
  gc              erase content no package refers to (what check counts as unreferenced); --dry-run counts it
  repair          rewrite records that hold bytes that are not UTF-8, keeping the originals; --dry-run lists them
  audit-log       show the audit trail, or verify its hash chain (audit-log show | audit-log verify)
  backup          copy the store, while in use, to a new directory (RocksDB checkpoint + checksums)
  restore         make a new store from a backup, checking every file
  retention       show or set a package's retention period (retention show | retention set)
  hold            place, lift or list holds that stop a package's deletion (hold add | remove | list)
  delete          delete a package whose retention has passed and that has no hold; a tombstone stays
  trust           the signers' trust anchors this archive accepts (trust list | add | remove)
  tsa serve       run the embedded TSA as an RFC 3161 HTTP time-stamping service

Every command takes --help. The store comes from --store DIR or $PRESERVE_STORE;
--now / $PRESERVE_NOW simulates the time (tests, renewal drills).

Exit codes:
  0   success; VALID
  1   INVALID: a check failed; or a listing (list, versions, report, hold list, audit-log show) met
      rows it could not read, named on stderr
  2   INDETERMINATE: nothing failed, but trust could not be established
  3   ingest refused at least one document (the reasons are on stderr)
  4   error: unreadable input, no such store or package, store busy, TSA failure
  5   renew, status: evidence lapsed (its renewal came too late), or a renewal does not verify
  64  usage error
)";

struct Command {
  const char* name;
  int (*run)(int, char**);
};

constexpr Command kCommands[] = {
    {"init", preserve::cli::CmdInit},
    {"ingest", preserve::cli::CmdIngest},
    {"seal", preserve::cli::CmdSeal},
    {"renew", preserve::cli::CmdRenew},
    {"restart-evidence", preserve::cli::CmdRestartEvidence},
    {"status", preserve::cli::CmdStatus},
    {"policy", preserve::cli::CmdPolicy},
    {"list", preserve::cli::CmdList},
    {"versions", preserve::cli::CmdVersions},
    {"report", preserve::cli::CmdReport},
    {"verify", preserve::cli::CmdVerify},
    {"export", preserve::cli::CmdExport},
    {"verify-package", preserve::cli::CmdVerifyPackage},
    {"verify-er", preserve::cli::CmdVerifyEr},
    {"get", preserve::cli::CmdGet},
    {"fixity", preserve::cli::CmdFixity},
    {"check", preserve::cli::CmdCheck},
    {"gc", preserve::cli::CmdGc},
    {"repair", preserve::cli::CmdRepair},
    {"audit-log", preserve::cli::CmdAuditLog},
    {"backup", preserve::cli::CmdBackup},
    {"restore", preserve::cli::CmdRestore},
    {"retention", preserve::cli::CmdRetention},
    {"hold", preserve::cli::CmdHold},
    {"delete", preserve::cli::CmdDelete},
    {"trust", preserve::cli::CmdTrust},
    {"tsa", preserve::cli::CmdTsa},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return preserve::cli::kExitUsage;
  }
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return preserve::cli::kExitOk;
  }
  if (command == "--version") {
    std::cout << "preserve 0.1.0\n";
    return preserve::cli::kExitOk;
  }
  for (const auto& c : kCommands) {
    if (command == c.name) {
      // Boost and the standard library may throw (bad_alloc, filesystem errors):
      // whatever escapes a command is reported, never a crash.
      try {
        return c.run(argc - 1, argv + 1);
      } catch (const std::exception& e) {
        std::cerr << "preserve: error: " << e.what() << "\n";
        return preserve::cli::kExitError;
      }
    }
  }
  std::cerr << "preserve: unknown command '" << command << "'\n" << kUsage;
  return preserve::cli::kExitUsage;
}
