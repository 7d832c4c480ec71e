// Retention, holds and deletion: hold, retention, delete. Parse, call the
// library, print. A refused deletion is an error (exit 4) with the reason.
#include <iostream>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/lifecycle.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

json::object HoldJson(const std::string& package_id, const archive::Hold& h) {
  return {{"package", package_id},
          {"hold", h.number},
          {"reason", h.reason},
          {"by", h.placed_by},
          {"at", FormatUtcTime(h.placed_at)}};
}

void PrintHoldText(const std::string& package_id, const archive::Hold& h) {
  std::cout << package_id << "  hold " << h.number << "  " << FormatUtcTime(h.placed_at) << "  by " << h.placed_by
            << "  " << h.reason << "\n";
}

int HoldAdd(int argc, char** argv) {
  CommonOptions common;
  std::string id, reason, by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddActorOptions(desc, reason, by);
  po::variables_map vm;
  if (auto done =
          ParseCommandWithArgument("hold add", argc, argv, desc, "PACKAGE_ID", id, vm,
                                   "[--store DIR] PACKAGE_ID --reason TEXT [--by NAME] [--json]\n\n"
                                   "Places a hold: the package may not be deleted while it is in force, whatever its\n"
                                   "retention. Prints the hold's number."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  if (auto failed = ResolvePackageArgument(*session.archive, id)) return *failed;
  auto hold = archive::Lifecycle(*session.archive).AddHold(id, reason, Actor(by));
  if (!hold.ok()) return ExitFor(hold.status());
  if (common.json) {
    std::cout << json::serialize(HoldJson(id, hold.value())) << "\n";
  } else {
    std::cout << "hold " << hold->number << " placed on " << id << "\n";
  }
  return kExitOk;
}

int HoldRemove(int argc, char** argv) {
  CommonOptions common;
  std::string id, reason, by;
  std::uint32_t number = 0;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddActorOptions(desc, reason, by);
  desc.add_options()("hold", po::value(&number), "the hold to lift (needed when several are in force)");
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument("hold remove", argc, argv, desc, "PACKAGE_ID", id, vm,
                                           "[--store DIR] PACKAGE_ID [--hold N] --reason TEXT [--by NAME] [--json]"))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  if (auto failed = ResolvePackageArgument(*session.archive, id)) return *failed;
  auto lifted = archive::Lifecycle(*session.archive).RemoveHold(id, number, reason, Actor(by));
  if (!lifted.ok()) return ExitFor(lifted.status());
  if (common.json) {
    std::cout << json::serialize(HoldJson(id, lifted.value())) << "\n";
  } else {
    std::cout << "hold " << lifted->number << " on " << id << " lifted\n";
  }
  return kExitOk;
}

int HoldList(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("hold list", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--json]\n\nEvery hold in force, one per line."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto held = archive::Lifecycle(*session.archive).Held();
  if (!held.ok()) return ExitFor(held.status());
  bool skipped = false;
  for (const auto& lifecycle : held.value()) {
    if (!lifecycle.unreadable.empty()) {
      // It may hold a hold: named on stderr, and the exit status says so.
      std::cout.flush();
      std::cerr << "preserve hold list: "
                << (lifecycle.package_id.empty() ? "" : "package " + lifecycle.package_id + ": ")
                << lifecycle.unreadable << "\n";
      skipped = true;
      continue;
    }
    for (const auto& h : lifecycle.holds) {
      if (common.json) {
        std::cout << json::serialize(HoldJson(lifecycle.package_id, h)) << "\n";
      } else {
        PrintHoldText(lifecycle.package_id, h);
      }
    }
  }
  return skipped ? kExitInvalid : kExitOk;
}

json::object LifecycleJson(const archive::PackageLifecycle& l) {
  json::array holds;
  for (const auto& h : l.holds) holds.push_back(HoldJson(l.package_id, h));
  json::object out{{"package", l.package_id},
                   {"retention", l.retention.permanent ? json::value("permanent") : json::value(l.retention.years)},
                   {"retain_until", l.retain_until ? FormatUtcTime(*l.retain_until) : ""},
                   {"holds", std::move(holds)}};
  if (l.tombstone) {
    json::array objects;
    for (const auto& o : l.tombstone->objects) {
      json::object digests;
      for (const auto& [alg, digest] : o.digests) digests[HashAlgorithmName(alg)] = ToHex(digest);
      objects.push_back(json::object{{"path", o.path}, {"size", o.size}, {"digests", std::move(digests)}});
    }
    out["deleted"] = json::object{{"at", FormatUtcTime(l.tombstone->deleted_at)},
                                  {"by", l.tombstone->deleted_by},
                                  {"reason", l.tombstone->reason},
                                  {"objects", std::move(objects)}};
  }
  return out;
}

int RetentionShow(int argc, char** argv) {
  CommonOptions common;
  std::string id;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done =
          ParseCommandWithArgument("retention show", argc, argv, desc, "PACKAGE_ID", id, vm,
                                   "[--store DIR] PACKAGE_ID [--json]\n\n"
                                   "The package's retention, the holds in force and, once deleted, its tombstone."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  if (auto failed = ResolvePackageArgument(*session.archive, id)) return *failed;
  auto lifecycle = archive::Lifecycle(*session.archive).Of(id);
  if (!lifecycle.ok()) return ExitFor(lifecycle.status());
  const archive::PackageLifecycle& l = lifecycle.value();
  if (common.json) {
    std::cout << json::serialize(LifecycleJson(l)) << "\n";
    return kExitOk;
  }
  std::cout << "package " << l.package_id << "\nretention: ";
  if (l.retention.permanent) {
    std::cout << "permanent\n";
  } else {
    std::cout << l.retention.years << " years, until " << FormatUtcTime(*l.retain_until) << "\n";
  }
  if (l.holds.empty()) std::cout << "holds: none\n";
  for (const auto& h : l.holds) PrintHoldText(l.package_id, h);
  if (l.tombstone) {
    std::cout << "deleted: " << FormatUtcTime(l.tombstone->deleted_at) << " by " << l.tombstone->deleted_by << " ("
              << l.tombstone->reason << ")\n";
    for (const auto& o : l.tombstone->objects)
      std::cout << "  " << o.path << "  SHA-256 " << ToHex(o.digests.at(HashAlgorithm::kSha256)) << "  " << o.size
                << " bytes\n";
  }
  return kExitOk;
}

int RetentionSet(int argc, char** argv) {
  CommonOptions common;
  std::string id, reason, by;
  int years = 0;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddActorOptions(desc, reason, by);
  desc.add_options()("years", po::value(&years), "keep for this many years from the package's creation (1 to 1000)")(
      "permanent", "keep permanently");
  po::variables_map vm;
  const std::string usage = "[--store DIR] PACKAGE_ID (--years N | --permanent) --reason TEXT [--by NAME]";
  if (auto done =
          ParseCommandWithArgument("retention set", argc, argv, desc, "PACKAGE_ID", id, vm,
                                   usage + "\n\nReplaces the package's retention (an appraisal decision, or corrected "
                                           "record metadata)."))
    return *done;
  if ((vm.count("years") > 0) == (vm.count("permanent") > 0)) {
    std::cerr << "preserve retention set: give exactly one of --years N and --permanent\n"
              << "Usage: preserve retention set " << usage << "\n";
    return kExitUsage;
  }
  archive::Retention retention;
  retention.permanent = vm.count("permanent") > 0;
  retention.years = years;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  if (auto failed = ResolvePackageArgument(*session.archive, id)) return *failed;
  if (Status s = archive::Lifecycle(*session.archive).SetRetention(id, retention, reason, Actor(by)); !s.ok())
    return ExitFor(s);
  auto lifecycle = archive::Lifecycle(*session.archive).Of(id);
  if (!lifecycle.ok()) return ExitFor(lifecycle.status());
  if (common.json) {
    std::cout << json::serialize(LifecycleJson(lifecycle.value())) << "\n";
  } else if (lifecycle->retention.permanent) {
    std::cout << id << ": kept permanently\n";
  } else {
    std::cout << id << ": kept until " << FormatUtcTime(*lifecycle->retain_until) << "\n";
  }
  return kExitOk;
}

}  // namespace

int CmdHold(int argc, char** argv) {
  return Dispatch(argc, argv,
                  "Usage: preserve hold add PACKAGE_ID --reason TEXT [--by NAME] [--json]\n"
                  "       preserve hold remove PACKAGE_ID [--hold N] --reason TEXT [--by NAME] [--json]\n"
                  "       preserve hold list [--json]\n\n"
                  "A package under a hold may not be deleted, whatever its retention. Each change is\n"
                  "recorded in the audit trail with its reason and who asked. Each subcommand takes --help.\n",
                  {{"add", HoldAdd}, {"remove", HoldRemove}, {"list", HoldList}});
}

int CmdRetention(int argc, char** argv) {
  return Dispatch(argc, argv,
                  "Usage: preserve retention show PACKAGE_ID [--json]\n"
                  "       preserve retention set PACKAGE_ID (--years N | --permanent) --reason TEXT [--by NAME]\n\n"
                  "A package without recorded retention is kept permanently. Each subcommand takes --help.\n",
                  {{"show", RetentionShow}, {"set", RetentionSet}});
}

int CmdDelete(int argc, char** argv) {
  CommonOptions common;
  std::string id, reason, by, duplicate_of;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddActorOptions(desc, reason, by);
  desc.add_options()("duplicate-of", po::value(&duplicate_of),
                     "delete an accidental duplicate of this (sealed) package, which holds every signed document "
                     "PACKAGE_ID holds: allowed before the retention date (the records stay in it), not under a hold");
  po::variables_map vm;
  if (auto done =
          ParseCommandWithArgument("delete", argc, argv, desc, "PACKAGE_ID", id, vm,
                                   "[--store DIR] PACKAGE_ID --reason TEXT [--by NAME] [--duplicate-of ID] [--json]\n\n"
                                   "Deletes a sealed package whose retention has passed and that has no hold: erases\n"
                                   "the content no other package uses, keeps its record, evidence record and a\n"
                                   "tombstone (every data object's digests) as proof that it existed and was\n"
                                   "lawfully deleted. Refused (exit 4, with the reason) before the retention date or\n"
                                   "under a hold."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  if (auto failed = ResolvePackageArgument(*session.archive, id)) return *failed;
  if (!duplicate_of.empty())
    if (auto failed = ResolvePackageArgument(*session.archive, duplicate_of)) return *failed;
  archive::Lifecycle lifecycle(*session.archive);
  auto deleted = duplicate_of.empty() ? lifecycle.Delete(id, reason, Actor(by))
                                      : lifecycle.DeleteDuplicate(id, duplicate_of, reason, Actor(by));
  if (!deleted.ok()) return ExitFor(deleted.status());
  const archive::DeletionOutcome& d = deleted.value();
  if (common.json) {
    std::cout << json::serialize(json::object{{"package", d.package_id},
                                              {"deleted_at", FormatUtcTime(d.deleted_at)},
                                              {"objects", d.objects},
                                              {"erased", d.erased},
                                              {"shared", d.shared},
                                              {"bytes_erased", d.bytes_erased}})
              << "\n";
  } else {
    std::cout << "deleted " << d.package_id << ": " << d.objects << " data objects; " << d.erased
              << " erased from the store (" << d.bytes_erased << " bytes), " << d.shared
              << " kept for other packages that hold the same content; its record, evidence and tombstone stay\n";
  }
  return kExitOk;
}

}  // namespace preserve::cli
