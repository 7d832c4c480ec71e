// preserve list and preserve report: finding packages and reporting on use.
#include <functional>
#include <iostream>
#include <set>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/package/manifest.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

json::value MetadataJson(const std::optional<package::RecordMetadata>& m) {
  if (!m) return nullptr;
  return json::parse(package::RecordMetadataToJson(*m));
}

// CSV field per RFC 4180: quoted when it holds a comma, quote or line break.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The signature-use report as CSV for spreadsheet programs: UTF-8 with a byte
// order mark (without it, Excel reads the organs' Vietnamese names as a
// Windows code page), and one column per refusal reason met in the report.
void PrintReportCsv(const std::vector<const archive::SignatureUseRow*>& rows,
                    const std::function<std::string(const archive::SignatureUseRow*)>& group_name) {
  std::set<std::string> reasons;
  for (const auto* r : rows)
    for (const auto& [reason, n] : r->refused_by_reason) reasons.insert(reason);
  std::cout << "\xEF\xBB\xBF"
            << "group,submitted,accepted,duplicate,refused,refused_then_accepted,not_signed";
  for (const auto& reason : reasons) std::cout << "," << CsvField("refused " + reason);
  std::cout << "\r\n";
  for (const auto* r : rows) {
    std::cout << CsvField(group_name(r)) << "," << r->submitted << "," << r->accepted << "," << r->duplicate << ","
              << r->refused << "," << r->refused_then_accepted << "," << r->not_signed;
    for (const auto& reason : reasons) {
      auto n = r->refused_by_reason.find(reason);
      std::cout << "," << (n == r->refused_by_reason.end() ? 0 : n->second);
    }
    std::cout << "\r\n";
  }
}

}  // namespace

// Over 60 lines: its option table and both renderings (text, --json) of one page.
int CmdList(int argc, char** argv) {
  CommonOptions common;
  std::string after;
  std::size_t limit = 100;
  archive::ListFilter filter;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("after", po::value(&after), "start after this package id (paging: pass the last id of the previous page)")
      ("limit", po::value(&limit), "most packages to list (default 100)")
      ("organ", po::value(&filter.organ), "issuing organ: its name or organ id has the words of TEXT")
      ("type", po::value(&filter.type_name), "document type name has the words of TEXT (\"công văn\")")
      ("number", po::value(&filter.number), "number and symbol has the words of TEXT (\"6587/UBND-CNXD\")")
      ("subject", po::value(&filter.subject), "subject (trích yếu) has the words of TEXT")
      ("issued-from", po::value<DateArg>()->notifier([&filter](const DateArg& d) { filter.issued_from = d.Iso(); }),
       "issued on or after this day (YYYY-MM-DD or dd/mm/yyyy)")
      ("issued-to", po::value<DateArg>()->notifier([&filter](const DateArg& d) { filter.issued_to = d.Iso(); }),
       "issued on or before this day (YYYY-MM-DD or dd/mm/yyyy)")
      ("ingested-from",
       po::value<DateArg>()->notifier([&filter](const DateArg& d) { filter.ingested_from = d.Iso(); }),
       "ingested on or after this day (UTC)")
      ("ingested-to", po::value<DateArg>()->notifier([&filter](const DateArg& d) { filter.ingested_to = d.Iso(); }),
       "ingested on or before this day (UTC)")
      ("signer-org", po::value(&filter.signer_organization), "a signer's organization (O=) has the words of TEXT")
      ("state", po::value<std::string>()->notifier([&filter](const std::string& name) {
         filter.state = archive::PackageStateFromName(name);
         if (!filter.state) throw po::validation_error(po::validation_error::invalid_option_value, "state", name);
       }),
       "queued, sealed or deleted");
  po::variables_map vm;
  if (auto done = ParseCommand("list", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--after ID] [--limit N] [--organ TEXT] [--type TEXT] "
                               "[--number TEXT] [--subject TEXT] [--issued-from DAY] [--issued-to DAY] "
                               "[--ingested-from DAY] [--ingested-to DAY] [--signer-org TEXT] [--state STATE]\n\n"
                               "Text filters match words, whatever their case and diacritics (\"dak nong\" finds\n"
                               "\"Đắk Nông\"); the last word may be the beginning of one (\"6587/UBND-CN\"). They\n"
                               "are looked up in the search index; a store made before it has it built by\n"
                               "'preserve index build'."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto page = archive::Catalogue(*session.archive).List(after, limit, filter);
  if (!page.ok()) return ExitFor(page.status());
  std::size_t listed = 0;
  std::string last_id;  // where the next page starts
  bool skipped = false;
  for (const auto& p : page.value()) {
    if (!p.id.empty()) last_id = p.id;
    if (!p.unreadable.empty()) {
      // Named on stderr, so that stdout stays a listing; the exit status says so.
      std::cout.flush();
      std::cerr << "preserve list: " << (p.id.empty() ? "" : "package " + p.id + ": ") << p.unreadable << "\n";
      skipped = true;
      continue;
    }
    ++listed;
    if (common.json) {
      json::array docs, orgs;
      for (const auto& d : p.documents) docs.emplace_back(d);
      for (const auto& o : p.signer_organizations) orgs.emplace_back(o);
      std::cout << json::serialize(json::object{{"id", p.id},
                                                {"created", FormatUtcTime(p.created)},
                                                {"state", archive::PackageStateName(p.state)},
                                                {"versions", p.versions},
                                                {"latest_id", p.latest_id},
                                                {"documents", std::move(docs)},
                                                {"signer_organizations", std::move(orgs)},
                                                {"metadata", MetadataJson(p.metadata)},
                                                {"next_renewal", p.next_renewal ? FormatUtcTime(*p.next_renewal) : ""}})
                << "\n";
    } else {
      std::cout << p.id << "  " << FormatUtcTime(p.created) << "  " << archive::PackageStateName(p.state);
      if (p.versions > 1) std::cout << "  v" << p.versions;
      if (p.metadata) std::cout << "  " << p.metadata->Citation() << " " << p.metadata->issued_date;
      for (const auto& d : p.documents) std::cout << "  " << d.substr(std::string(package::kDocumentsDir).size());
      std::cout << "\n";
    }
  }
  if (listed == limit && !common.json) std::cerr << "more may follow: --after " << last_id << "\n";
  return skipped ? kExitInvalid : kExitOk;
}

int CmdVersions(int argc, char** argv) {
  CommonOptions common;
  std::string id;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument("versions", argc, argv, desc, "PACKAGE_ID", id, vm,
                                           "[--store DIR] PACKAGE_ID\n\n"
                                           "Lists the package's versions, oldest first: number, the id that verify,\n"
                                           "export and get take for it (or --version N), creation time, state,\n"
                                           "documents and what the version changed. A new version is made with\n"
                                           "'preserve ingest --new-version-of PACKAGE_ID'."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  if (auto failed = ResolvePackageArgument(*session.archive, id)) return *failed;
  auto versions = archive::Lifecycle(*session.archive).Versions(id);
  if (!versions.ok()) return ExitFor(versions.status());
  bool skipped = false;
  for (const auto& v : versions.value()) {
    if (!v.unreadable.empty()) {
      std::cout.flush();
      std::cerr << "preserve versions: version " << v.version << " (" << v.id << "): " << v.unreadable << "\n";
      skipped = true;
      continue;
    }
    if (common.json) {
      json::array docs;
      for (const auto& d : v.documents) docs.emplace_back(d);
      std::cout << json::serialize(json::object{{"version", v.version},
                                                {"id", v.id},
                                                {"created", FormatUtcTime(v.created)},
                                                {"state", archive::PackageStateName(v.state)},
                                                {"documents", std::move(docs)},
                                                {"change", v.change}})
                << "\n";
    } else {
      std::cout << v.version << "  " << v.id << "  " << FormatUtcTime(v.created) << "  "
                << archive::PackageStateName(v.state);
      for (const auto& d : v.documents) std::cout << "  " << d.substr(std::string(package::kDocumentsDir).size());
      if (!v.change.empty()) std::cout << "  (" << v.change << ")";
      std::cout << "\n";
    }
  }
  return skipped ? kExitInvalid : kExitOk;
}

// Over 60 lines: its option table and both renderings (text, --json) of one report.
int CmdReport(int argc, char** argv) {
  CommonOptions common;
  std::string kind, by = "none";
  std::optional<TimeArg> from, to;
  bool csv = false;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("from", po::value<TimeArg>()->notifier([&from](const TimeArg& t) { from = t; }),
       "first day (YYYY-MM-DD or dd/mm/yyyy) or UTC time counted (default: the beginning)")
      ("to", po::value<TimeArg>()->notifier([&to](const TimeArg& t) { to = t; }),
       "last day (YYYY-MM-DD or dd/mm/yyyy, inclusive) or UTC time (exclusive); default: now")
      ("by", po::value(&by), "group by: organ, signer-org, month, or none (default)")
      ("csv", po::bool_switch(&csv), "CSV instead of text");
  po::options_description hidden;
  hidden.add_options()("kind", po::value(&kind), "signatures");
  po::positional_options_description positional;
  positional.add("kind", 1);
  po::variables_map vm;
  if (auto done = ParseCommand("report", argc, argv, desc, hidden, positional, vm,
                               "signatures [--from DAY] [--to DAY] [--by organ|signer-org|month] [--json|--csv]"))
    return *done;
  if (kind != "signatures") {
    std::cerr << "preserve report: the one report is 'signatures' (preserve report signatures --help)\n";
    return kExitUsage;
  }
  archive::ReportGrouping grouping;
  if (by == "none") {
    grouping = archive::ReportGrouping::kNone;
  } else if (by == "organ") {
    grouping = archive::ReportGrouping::kOrgan;
  } else if (by == "signer-org") {
    grouping = archive::ReportGrouping::kSignerOrganization;
  } else if (by == "month") {
    grouping = archive::ReportGrouping::kMonth;
  } else {
    std::cerr << "preserve report: --by must be organ, signer-org, month or none\n";
    return kExitUsage;
  }
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  // A day given as --to counts whole.
  const TimePoint from_time = from ? from->time : TimePoint();
  const TimePoint to_time = !to ? session.clock->Now() + std::chrono::seconds(1)
                                : to->time + (to->date_only ? std::chrono::days(1) : std::chrono::days(0));
  auto report = archive::Catalogue(*session.archive).ReportSignatureUse(from_time, to_time, grouping);
  if (!report.ok()) return ExitFor(report.status());
  // What could not be read is not counted: said on stderr, and by the exit status.
  for (const auto& what : report->unreadable) std::cerr << "preserve report: not counted: " << what << "\n";
  std::vector<const archive::SignatureUseRow*> rows;
  for (const auto& r : report->rows) rows.push_back(&r);
  if (grouping != archive::ReportGrouping::kNone) rows.push_back(&report->total);
  auto group_name = [&](const archive::SignatureUseRow* r) -> std::string {
    return r == &report->total ? "TOTAL" : r->group;
  };

  if (common.json) {
    json::array out;
    for (const auto* r : rows) {
      json::object reasons;
      for (const auto& [reason, n] : r->refused_by_reason) reasons[reason] = n;
      out.push_back(json::object{{"group", group_name(r)},
                                 {"submitted", r->submitted},
                                 {"accepted", r->accepted},
                                 {"duplicate", r->duplicate},
                                 {"refused", r->refused},
                                 {"refused_then_accepted", r->refused_then_accepted},
                                 {"not_signed", r->not_signed},
                                 {"refused_by_reason", std::move(reasons)}});
    }
    std::cout << json::serialize(json::object{{"report", "signatures"},
                                              {"from", FormatUtcTime(report->from)},
                                              {"to", FormatUtcTime(report->to)},
                                              {"by", by},
                                              {"rows", std::move(out)}})
              << "\n";
  } else if (csv) {
    PrintReportCsv(rows, group_name);
  } else {
    std::cout << "Signature use from " << FormatUtcTime(report->from) << " to " << FormatUtcTime(report->to)
              << (grouping == archive::ReportGrouping::kNone ? "" : ", by " + by) << "\n";
    for (const auto* r : rows) {
      if (grouping != archive::ReportGrouping::kNone) std::cout << "\n" << group_name(r) << "\n";
      std::cout << "  submitted " << r->submitted << ": accepted " << r->accepted << ", already archived "
                << r->duplicate << ", refused " << r->refused << ", refused then accepted later "
                << r->refused_then_accepted << ", not signed " << r->not_signed << "\n";
      for (const auto& [reason, n] : r->refused_by_reason) std::cout << "    refused " << reason << ": " << n << "\n";
    }
  }
  return report->unreadable.empty() ? kExitOk : kExitInvalid;
}

}  // namespace preserve::cli

namespace preserve::cli {

namespace {

int IndexStatus(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("index status", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--json]\n\nWhether the search index covers every package."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto status = archive::Catalogue(*session.archive).IndexStatus();
  if (!status.ok()) return ExitFor(status.status());
  const std::string state = status->complete ? "complete" : status->started ? "building" : "absent";
  if (common.json) {
    json::object o{{"state", state}, {"built_through", status->built_through}};
    if (status->events_through) o["events_through"] = *status->events_through;
    std::cout << json::serialize(o) << "\n";
  } else if (status->complete) {
    std::cout << "search index: complete\n";
  } else if (status->events_through) {
    std::cout << "search index: being built, every package done, the audit trail from event "
              << *status->events_through << "; 'preserve index build' goes on from there\n";
  } else if (status->started) {
    std::cout << "search index: being built, through package "
              << (status->built_through.empty() ? "(none yet)" : status->built_through)
              << "; 'preserve index build' goes on from there\n";
  } else {
    std::cout << "search index: absent (a store made before it); 'preserve index build' makes it\n";
  }
  return kExitOk;
}

int IndexBuild(int argc, char** argv) {
  CommonOptions common;
  bool rebuild = false;
  std::string by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("rebuild", po::bool_switch(&rebuild), "start over from the first package, rewriting every entry")
      ("by", po::value(&by), "who runs it, for the audit trail (default: the user running preserve)");
  po::variables_map vm;
  if (auto done = ParseCommand("index build", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--rebuild] [--by NAME] [--json]\n\n"
                               "Indexes every package not indexed yet, for list's filters, the service's\n"
                               "Search and the web application's search. Commits every 10,000 packages with\n"
                               "how far it got: run again after an interruption, it goes on from there.\n"
                               "Its start and its end are audit events."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  auto progress = [&common](std::size_t done) {
    if (!common.json) std::cerr << "indexed " << done << " packages\n";
  };
  auto build = archive::Catalogue(*session.archive).BuildSearchIndex(rebuild, Actor(by), progress);
  if (!build.ok()) return ExitFor(build.status());
  for (const auto& u : build->unreadable) std::cerr << "preserve index build: not indexed: " << u << "\n";
  if (common.json) {
    json::array unreadable(build->unreadable.begin(), build->unreadable.end());
    std::cout << json::serialize(json::object{{"indexed", build->packages},
                                              {"events", build->events},
                                              {"resumed_after", build->resumed_after},
                                              {"unreadable", std::move(unreadable)}})
              << "\n";
  } else if (build->packages == 0 && !build->resumed && build->unreadable.empty()) {
    std::cout << "search index: complete already (--rebuild starts over)\n";
  } else {
    std::cout << "search index: complete; indexed " << build->packages << " packages and " << build->events
              << " audit events"
              << (build->resumed ? " after " + build->resumed_after : std::string()) << "\n";
  }
  return build->unreadable.empty() ? kExitOk : kExitInvalid;
}

}  // namespace

int CmdIndex(int argc, char** argv) {
  return Dispatch(argc, argv,
                  "Usage: preserve index status [--json]\n"
                  "       preserve index build [--rebuild] [--by NAME] [--json]\n\n"
                  "The search index that list's filters, the service's Search and the web\n"
                  "application's search read. New stores keep it as they go; a store made before\n"
                  "it has it built once by 'index build'. Each subcommand takes --help.\n",
                  {{"status", IndexStatus}, {"build", IndexBuild}});
}

}  // namespace preserve::cli
