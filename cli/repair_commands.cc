// gc, compact and repair: collecting content no package refers to,
// compacting the database, and rewriting rows that hold bytes JSON cannot
// (keeping the originals). Parse, call the library, print.
#include <iostream>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/maintenance.h"

namespace preserve::cli {

namespace json = boost::json;

int CmdGc(int argc, char** argv) {
  CommonOptions common;
  bool dry_run = false;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("dry-run", po::bool_switch(&dry_run), "say what would be collected and erase nothing");
  po::variables_map vm;
  if (auto done = ParseCommand("gc", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--dry-run] [--json]\n\n"
                               "Erases content no package record refers to (chunks left by an ingest killed while it\n"
                               "stored a document, or by refusals in earlier versions), in one atomic write recorded\n"
                               "in the audit trail, then compacts so the space is given back. 'preserve check' counts\n"
                               "the same content. Erases nothing while any package record cannot be read.\n"
                               "With content in an S3 object store, also deletes the objects there that no content\n"
                               "row refers to (uploaded for an ingest that never committed), except those Object\n"
                               "Lock still keeps, which a later gc deletes once their retention has passed.\n"
                               "Also erases the hash trees no batch names (stored by a seal or renewal killed\n"
                               "before it committed its batch)."))
    return *done;
  Session session;
  // A dry run only reads: it works on a read-only store, and beside a writer.
  if (auto failed = OpenSession(common, dry_run ? archive::OpenMode::kReadOnly : archive::OpenMode::kWritable, session))
    return *failed;
  auto found = archive::Maintenance(*session.archive).CollectGarbage(dry_run);
  if (!found.ok()) return ExitFor(found.status());
  if (common.json) {
    std::cout << json::serialize(json::object{{"values", found->values},
                                              {"bytes", found->bytes},
                                              {"erased", found->erased},
                                              {"unreferenced_objects", found->unreferenced_objects},
                                              {"unreferenced_object_bytes", found->unreferenced_object_bytes},
                                              {"objects_kept_by_lock", found->objects_kept_by_lock},
                                              {"tree_chunks", found->tree_chunks},
                                              {"tree_bytes", found->tree_bytes}})
              << "\n";
  } else if (found->values == 0 && found->unreferenced_objects == 0 && found->tree_chunks == 0) {
    std::cout << "gc: no unreferenced content\n";
  } else {
    if (found->values > 0)
      std::cout << "gc: " << found->values << " unreferenced content values (objects, chunks or chunk lists), "
                << found->bytes << " bytes" << (dry_run ? ": a dry run, nothing erased\n" : ": erased\n");
    if (found->tree_chunks > 0)
      std::cout << "gc: " << found->tree_chunks << " chunks of hash trees no batch names, " << found->tree_bytes
                << " bytes" << (dry_run ? ": a dry run, nothing erased\n" : ": erased\n");
    if (found->unreferenced_objects > 0)
      std::cout << "gc: " << found->unreferenced_objects << " unreferenced objects in the object store, "
                << found->unreferenced_object_bytes << " bytes"
                << (dry_run ? ": a dry run, nothing deleted\n"
                            : ": deleted, but for " + std::to_string(found->objects_kept_by_lock) +
                                  " that Object Lock still keeps\n");
  }
  return kExitOk;
}

int CmdCompact(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("compact", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--json]\n\n"
                               "Compacts the whole database: every table is written again in the current format and\n"
                               "overwritten values (evidence superseded by renewals, erased content) are dropped.\n"
                               "Run it once after upgrading a large store from an earlier version, whose tables keep\n"
                               "whole index and filter blocks that the block cache (config.json cache_mib) would read\n"
                               "again and again. It rewrites every byte of db/: minutes at millions of packages, and\n"
                               "up to the database's size again in free space while it runs. Recorded in the audit\n"
                               "trail with the sizes before and after."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  auto compacted = archive::Maintenance(*session.archive).Compact();
  if (!compacted.ok()) return ExitFor(compacted.status());
  if (common.json) {
    std::cout << json::serialize(
                     json::object{{"bytes_before", compacted->bytes_before}, {"bytes_after", compacted->bytes_after}})
              << "\n";
  } else {
    std::cout << "compact: db/ " << compacted->bytes_before << " bytes before, " << compacted->bytes_after
              << " bytes after\n";
  }
  return kExitOk;
}

int CmdRepair(int argc, char** argv) {
  CommonOptions common;
  bool dry_run = false;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("dry-run", po::bool_switch(&dry_run), "list the rows that would be repaired and change nothing");
  po::variables_map vm;
  if (auto done = ParseCommand(
          "repair", argc, argv, desc, {}, {}, vm,
          "[--store DIR] [--dry-run] [--json]\n\n"
          "Rewrites the package records, lifecycle records and trust list entries that hold bytes that are\n"
          "not UTF-8 (written before ingest refused such file names): each becomes valid JSON, its bad bytes\n"
          "written as %XX, exactly as every reader already showed it. The original bytes are kept in the\n"
          "store, under the setting each line names, and one 'repair' audit event names every row and the\n"
          "SHA-256 of its original. Sealed data (manifests) and the audit trail are never rewritten: readers\n"
          "show their bad bytes as %XX. Exit 0 when every such row was repaired, 1 when some cannot be."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, dry_run ? archive::OpenMode::kReadOnly : archive::OpenMode::kWritable, session))
    return *failed;
  auto outcome = archive::Maintenance(*session.archive).Repair(dry_run);
  if (!outcome.ok()) return ExitFor(outcome.status());
  if (common.json) {
    json::array repaired, unrepairable;
    for (const auto& r : outcome->repaired)
      repaired.push_back(json::object{{"row", r.row}, {"original_sha256", ToHex(r.original_sha256)},
                                      {"kept_as", r.kept_as}});
    for (const auto& u : outcome->unrepairable) unrepairable.emplace_back(u);
    std::cout << json::serialize(json::object{{"dry_run", dry_run},
                                              {"repaired", std::move(repaired)},
                                              {"unrepairable", std::move(unrepairable)}})
              << "\n";
  } else {
    for (const auto& r : outcome->repaired)
      std::cout << (dry_run ? "would repair  " : "repaired  ") << r.row << "  (original SHA-256 "
                << ToHex(r.original_sha256) << ", kept as " << r.kept_as << ")\n";
    for (const auto& u : outcome->unrepairable) std::cout << "cannot repair  " << u << "\n";
    std::cout << "repair: " << outcome->repaired.size() << (outcome->repaired.size() == 1 ? " row" : " rows")
              << (dry_run ? " to repair" : " repaired");
    if (!outcome->unrepairable.empty()) std::cout << ", " << outcome->unrepairable.size() << " that cannot be";
    std::cout << "\n";
  }
  return outcome->unrepairable.empty() ? kExitOk : kExitInvalid;
}

}  // namespace preserve::cli
