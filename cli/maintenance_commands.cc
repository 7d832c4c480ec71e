// The maintenance subcommands: audit-log, fixity, check, backup, restore, get.
// Parse, call the library, print.
#include <iostream>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/verification.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

// Said of an event whose stored bytes are not UTF-8 (AuditLogEvent::escaped).
constexpr const char* kEscapedNote = "(stored bytes that are not UTF-8 shown as %XX)";

// "2024-05-01T00:00:00Z  seal  batch=... packages=3"; an event that is not a
// JSON object (the trail was tampered with) is printed as it is.
void PrintEventText(const archive::AuditLogEvent& e) {
  std::cout << e.sequence << "  ";
  json::error_code ec;
  json::value parsed = json::parse(e.json, ec);
  if (ec || !parsed.is_object()) {
    std::cout << "(not a JSON event)  " << e.json << (e.escaped ? std::string("  ") + kEscapedNote : "") << "\n";
    return;
  }
  const json::object& event = parsed.as_object();
  auto text = [](const json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
  };
  const json::value* time = event.if_contains("time");
  const json::value* type = event.if_contains("event");
  std::cout << (time ? text(*time) : "-") << "  " << (type ? text(*type) : "-");
  for (const auto& [key, value] : event) {
    if (key == "time" || key == "event") continue;
    std::cout << "  " << std::string_view(key) << "=" << text(value);
  }
  if (e.escaped) std::cout << "  " << kEscapedNote;
  std::cout << "\n";
}

void PrintEventJson(const archive::AuditLogEvent& e) {
  json::error_code ec;
  json::value parsed = json::parse(e.json, ec);
  json::object out{{"sequence", e.sequence}, {"hash", ToHex(e.hash)}};
  if (e.escaped) out["escaped"] = true;  // the text below is not the stored bytes: those are not UTF-8
  if (ec || !parsed.is_object()) {
    out["raw"] = e.json;
  } else {
    for (const auto& [key, value] : parsed.as_object()) out[key] = value;
  }
  std::cout << json::serialize(out) << "\n";
}

int AuditLogShow(int argc, char** argv) {
  CommonOptions common;
  std::uint64_t from = 0;
  std::uint64_t limit = UINT64_MAX;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("from", po::value(&from), "first sequence number to show (default 0)")
      ("limit", po::value(&limit), "most events to show (default: all)");
  po::variables_map vm;
  if (auto done = ParseCommand("audit-log show", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--json] [--from SEQ] [--limit N]"))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto& archive = session.archive;
  std::uint64_t shown = 0;
  bool skipped = false;
  Status s = archive::Maintenance(*archive).ScanAuditLog(
      from,
      [&](const archive::AuditLogEvent& e) {
        if (shown >= limit) return false;
        common.json ? PrintEventJson(e) : PrintEventText(e);
        return ++shown < limit;
      },
      [&skipped](const std::string& what) {
        std::cout.flush();
        std::cerr << "preserve audit-log show: " << what << "\n";
        skipped = true;
      });
  std::cout.flush();
  if (!s.ok()) return ExitFor(s);
  return skipped ? kExitInvalid : kExitOk;
}

int AuditLogVerify(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("audit-log verify", argc, argv, desc, {}, {}, vm, "[--store DIR] [--json]"))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto& archive = session.archive;
  auto report = archive::Maintenance(*archive).VerifyAuditLog();
  if (!report.ok()) return ExitFor(report.status());
  const auto& sealed = report->last_sealed_head;
  if (common.json) {
    json::object out{{"verdict", VerdictName(report->verdict)},
                     {"events", report->events},
                     {"head", ToHex(report->head)},
                     {"sealed_heads", report->sealed_heads}};
    if (sealed) out["last_sealed_head"] = json::object{{"events", sealed->events}, {"sealed_by", sealed->sealed_by}};
    if (report->first_bad_sequence) out["first_bad_sequence"] = *report->first_bad_sequence;
    if (report->verdict != Verdict::kValid) out["reason"] = report->reason;
    std::cout << json::serialize(out) << "\n";
  } else if (report->verdict == Verdict::kValid) {
    std::cout << "audit trail: VALID, " << report->events << " events chained from the first; head "
              << ToHex(report->head) << "\n";
    if (sealed) {
      std::cout << "  its head was time-stamped in " << report->sealed_heads
                << (report->sealed_heads == 1 ? " batch" : " batches") << "; the last, " << sealed->sealed_by
                << ", covers its first " << sealed->events << " events\n";
    } else {
      std::cout << "  no time-stamp batch has sealed its head yet: a trail edited and re-chained would pass\n";
    }
  } else if (report->first_bad_sequence) {
    std::cout << "audit trail: " << VerdictName(report->verdict) << " from event " << *report->first_bad_sequence
              << ": " << report->reason << "\n";
  } else {
    std::cout << "audit trail: " << VerdictName(report->verdict) << ": " << report->reason << "\n";
  }
  return ExitFor(report->verdict);
}

}  // namespace

int CmdAuditLog(int argc, char** argv) {
  std::string action = argc >= 2 ? argv[1] : "";
  if (action == "show") return AuditLogShow(argc - 1, argv + 1);
  if (action == "verify") return AuditLogVerify(argc - 1, argv + 1);
  std::ostream& out = (action == "--help" || action == "-h") ? std::cout : std::cerr;
  out << "Usage: preserve audit-log show [--store DIR] [--json] [--from SEQ] [--limit N]\n"
         "       preserve audit-log verify [--store DIR] [--json]\n\n"
         "show prints the audit trail's events (sequence, time, type, fields; --json: one object per line).\n"
         "verify walks the hash chain from the first event and names the first event that was edited, deleted\n"
         "or moved. Every seal and renewal time-stamps the trail's head too: verify checks each sealed head's\n"
         "time-stamp and that the trail still passes through it, so events edited and re-chained, or cut from\n"
         "the end, before the last seal are found (exit 0 VALID, 1 INVALID, 2 INDETERMINATE: a sealing\n"
         "time-stamp cannot be checked). Each subcommand takes --help.\n";
  return (action == "--help" || action == "-h") ? kExitOk : kExitUsage;
}

int CmdFixity(int argc, char** argv) {
  CommonOptions common;
  double sample = 1.0;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("sample", po::value(&sample),
                     "re-read a random fraction of the packages, e.g. 0.05 (default 1: all)");
  po::variables_map vm;
  if (auto done = ParseCommand("fixity", argc, argv, desc, {}, {}, vm, "[--store DIR] [--sample FRACTION] [--json]"))
    return *done;
  if (!(sample > 0.0 && sample <= 1.0)) {
    std::cerr << "preserve fixity: --sample must be a fraction in (0, 1]\n";
    return kExitUsage;
  }
  // The result is recorded in the audit trail, when the store can be written
  // (not on read-only media, nor beside another writer: then said on stderr).
  Session session;
  if (auto failed = OpenSessionForAudit(common, "fixity", session)) return *failed;
  auto& archive = session.archive;
  auto summary = archive::Maintenance(*archive).Fixity({.sample = sample}, [&common](const archive::PackageFixity& p) {
    if (common.json) {
      json::array damage;
      for (const auto& d : p.damage) damage.push_back(json::object{{"object", d.object}, {"detail", d.detail}});
      std::cout << json::serialize(json::object{{"package", p.package_id},
                                                {"status", p.damage.empty() ? "OK" : "DAMAGED"},
                                                {"objects", p.objects},
                                                {"damage", std::move(damage)}})
                << "\n";
    } else if (p.damage.empty()) {
      std::cout << "OK       " << p.package_id << "  (" << p.objects << " data objects)\n";
    } else {
      // A stretch of records that cannot be read has no package id.
      const std::string who = p.package_id.empty() ? "(records)" : p.package_id;
      for (const auto& d : p.damage) std::cout << "DAMAGED  " << who << "  " << d.object << ": " << d.detail << "\n";
    }
  });
  std::cout.flush();
  if (!summary.ok()) return ExitFor(summary.status());
  if (common.json) {
    std::cout << json::serialize(json::object{{"summary", json::object{{"packages", summary->packages},
                                                                       {"checked", summary->checked},
                                                                       {"damaged", summary->damaged},
                                                                       {"objects", summary->objects}}}})
              << "\n";
  } else {
    std::cout << "fixity: checked " << summary->checked << " of " << summary->packages << " packages ("
              << summary->objects << " data objects): " << summary->damaged << " damaged\n";
  }
  return summary->damaged == 0 ? kExitOk : kExitInvalid;
}

int CmdCheck(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("check", argc, argv, desc, {}, {}, vm, "[--store DIR] [--json]")) return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto& archive = session.archive;
  auto report = archive::Maintenance(*archive).Check();
  if (!report.ok()) return ExitFor(report.status());
  if (common.json) {
    json::array problems;
    for (const auto& p : report->problems) problems.emplace_back(p);
    std::cout << json::serialize(json::object{{"consistent", report->problems.empty()},
                                              {"packages", report->packages},
                                              {"sealed", report->sealed},
                                              {"queued", report->queued},
                                              {"schedule_entries", report->schedule_entries},
                                              {"garbage_objects", report->garbage_objects},
                                              {"garbage_bytes", report->garbage_bytes},
                                              {"unreferenced_objects", report->unreferenced_objects},
                                              {"unreferenced_object_bytes", report->unreferenced_object_bytes},
                                              {"unnamed_tree_chunks", report->unnamed_tree_chunks},
                                              {"unnamed_tree_bytes", report->unnamed_tree_bytes},
                                              {"problems", std::move(problems)}})
              << "\n";
  } else {
    for (const auto& p : report->problems) std::cout << "problem: " << p << "\n";
    std::cout << (report->problems.empty() ? "consistent" : "INCONSISTENT") << ": packages " << report->packages
              << " (" << report->sealed << " sealed, " << report->queued << " queued), schedule entries "
              << report->schedule_entries;
    if (!report->problems.empty()) std::cout << ", " << report->problems.size() << " problems";
    std::cout << "\n";
    if (report->garbage_objects > 0)
      std::cout << "unreferenced content: " << report->garbage_objects << " objects or chunks, "
                << report->garbage_bytes
                << " bytes (left by an ingest killed while storing a document, or by an earlier preserve; "
                   "harmless: 'preserve gc' collects it)\n";
    if (report->unreferenced_objects > 0)
      std::cout << "unreferenced objects in the object store: " << report->unreferenced_objects << ", "
                << report->unreferenced_object_bytes
                << " bytes (uploaded for an ingest that did not commit; 'preserve gc' deletes them where Object "
                   "Lock allows)\n";
    if (report->unnamed_tree_chunks > 0)
      std::cout << "hash trees no batch names: " << report->unnamed_tree_chunks << " chunks, "
                << report->unnamed_tree_bytes
                << " bytes (stored by a seal or renewal killed before it committed its batch, or by one still "
                   "running; harmless: 'preserve gc' erases them)\n";
  }
  return report->problems.empty() ? kExitOk : kExitInvalid;
}

namespace {

void PrintBackup(const char* what, const archive::BackupOutcome& b, bool as_json) {
  if (as_json) {
    std::cout << json::serialize(json::object{{"destination", b.destination.string()},
                                              {"files", b.files},
                                              {"bytes", b.bytes},
                                              {"audit_events", b.audit_events},
                                              {"audit_head", ToHex(b.audit_head)}})
              << "\n";
    return;
  }
  std::cout << what << " " << b.destination.string() << ": " << b.files << " files, " << b.bytes
            << " bytes; audit trail of " << b.audit_events << " events, head " << ToHex(b.audit_head) << "\n";
}

}  // namespace

int CmdBackup(int argc, char** argv) {
  CommonOptions common;
  std::string dest;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument(
          "backup", argc, argv, desc, "DEST", dest, vm,
          "[--store DIR] [--json] DEST\n\n"
          "Copies the store to DEST (new, or an empty directory) while it stays in use: a\n"
          "RocksDB checkpoint of db/ taken through a read-only view (writers go on), every\n"
          "file a real copy, plus tsa/, policy.json, config.json and backup.json (each file's\n"
          "SHA-256 and the audit trail's head). Restore with 'preserve restore'."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto& archive = session.archive;
  auto outcome = archive::Maintenance(*archive).Backup(dest);
  if (!outcome.ok()) return ExitFor(outcome.status());
  PrintBackup("backed up the store to", outcome.value(), common.json);
  return kExitOk;
}

int CmdRestore(int argc, char** argv) {
  CommonOptions common;
  std::string backup;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done =
          ParseCommandWithArgument("restore", argc, argv, desc, "BACKUP", backup, vm,
                                   "BACKUP --store NEW [--json]\n\n"
                                   "Makes the new store NEW from a backup made by 'preserve backup', checking every\n"
                                   "file against backup.json and the audit trail against its recorded head. Refuses\n"
                                   "to write into an existing, non-empty NEW."))
    return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto path = StorePath(common);
  if (!path.ok()) {
    std::cerr << "preserve restore: " << path.status().message() << "\n";
    return kExitUsage;
  }
  auto outcome = archive::Maintenance::Restore(backup, path.value(), *clock.value());
  if (!outcome.ok()) return ExitFor(outcome.status());
  PrintBackup("restored the store", outcome.value(), common.json);
  return kExitOk;
}

int CmdGet(int argc, char** argv) {
  CommonOptions common;
  std::string id, out;
  std::uint32_t version = 0;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("out", po::value(&out)->required(), "directory to write into (made if missing)");
  AddVersionOption(desc, version);
  po::variables_map vm;
  if (auto done =
          ParseCommandWithArgument("get", argc, argv, desc, "PACKAGE_ID", id, vm,
                                   "[--store DIR] PACKAGE_ID [--version N] --out DIR\n\n"
                                   "Writes the package's data objects (documents/, signatures/, validation/,\n"
                                   "manifest.json) and, once sealed, its evidence record evidence.ers into DIR.\n"
                                   "Each object is checked against its SHA-256 first; existing files are never\n"
                                   "overwritten."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto& archive = session.archive;
  if (auto failed = ResolveVersion(*archive, id, version)) return *failed;
  auto written = archive::Verification(*archive).Get(id, out);
  if (!written.ok()) return ExitFor(written.status());
  if (common.json) {
    json::array files;
    for (const auto& f : written.value()) files.emplace_back(f.string());
    std::cout << json::serialize(json::object{{"package", id}, {"files", std::move(files)}}) << "\n";
  } else {
    for (const auto& f : written.value()) std::cout << f.string() << "\n";
  }
  return kExitOk;
}

}  // namespace preserve::cli
