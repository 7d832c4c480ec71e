// The administrator's pages: the dashboard (what `preserve status` says, and
// when the scheduled jobs run next) and the algorithm policy with the
// signers' trust list. Accounts are in account_pages.cc; retention, holds and
// deletion of a package in package_admin.cc.
#include <chrono>
#include <cstdio>

#include "admin_pages.h"
#include "view.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/jobs.h"
#include "preserve/policy/algorithm_catalogue.h"

namespace preserve::web {

std::size_t CodePoints(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> PathParts(std::string_view path, std::string_view prefix) {
  std::vector<std::string> parts;
  if (path.substr(0, prefix.size()) != prefix) return parts;
  std::string_view rest = path.substr(prefix.size());
  while (true) {
    const std::size_t slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

namespace {

using boost::json::array;
using boost::json::object;

// "1,5 GB" (vi) or "1.5 GB" (en): the store's size as people read it.
std::string Size(const Page& page, std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char out[32];
  std::snprintf(out, sizeof out, unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  std::string text = out;
  if (page.lang == Lang::kVi)
    for (char& c : text)
      if (c == '.') c = ',';
  return text;
}

// ---- Dashboard ----

// An evidence deadline's subject, for dashboard_subject.html: a package (a
// link to it), or the audit trail's head sealed by a batch (subject ids
// "audit-head:<batch>", as `preserve restart-evidence` takes them).
object Subject(const std::string& subject) {
  constexpr std::string_view kHead = "audit-head:";
  object o;
  if (subject.rfind(kHead, 0) == 0) {
    o["subject_batch"] = subject.substr(kHead.size());
    o["subject_link"] = "";
  } else {
    o["subject_batch"] = "";
    o["subject_link"] = PackageLink(subject);
  }
  return o;
}

// Lapsed evidence, as an error that says what to do; "" when none lapsed.
std::string LapsedNotice(const Page& page, const archive::StoreStatus& s) {
  if (s.lapsed == 0) return "";
  array first;
  for (const auto& d : s.first_lapsed) {
    object o = Subject(d.subject);
    o["when"] = page.DateTime(d.due);
    first.push_back(std::move(o));
  }
  return Notice("error", Render(page, "dashboard_lapsed",
                                {{"count", page.Number(s.lapsed)}, {"first_lapsed", std::move(first)}}));
}

// A run's outcome in the page's language, worded from its figures
// (JobRun::counts); as recorded where it has none of its job's: a failed
// run's error, or a run recorded before the figures were kept.
std::string JobOutcome(const Page& page, std::string_view job, const archive::JobRun& run) {
  auto figure = [&run](const char* name) -> std::optional<std::uint64_t> {
    auto it = run.counts.find(name);
    if (it == run.counts.end()) return std::nullopt;
    return it->second;
  };
  auto number = [&](const char* name) { return page.Number(figure(name).value_or(0)); };
  std::string out;
  if (run.failed) return run.outcome;
  if (job == "seal" && figure("packages") && figure("batches")) {
    out = *figure("batches") == 0
              ? page.Text("dashboard.outcome.seal_nothing")
              : page.Text("dashboard.outcome.seal", {{"packages", number("packages")}, {"batches", number("batches")}});
  } else if (job == "renew" && figure("renewed") && figure("batches") && figure("lapsed")) {
    out = page.Text("dashboard.outcome.renew",
                    {{"renewed", number("renewed")}, {"batches", number("batches")}, {"lapsed", number("lapsed")}});
    if (figure("not_verified").value_or(0) > 0)
      out += page.Text("dashboard.outcome.not_verified", {{"count", number("not_verified")}});
    if (figure("left_out").value_or(0) > 0)
      out += page.Text("dashboard.outcome.left_out", {{"count", number("left_out")}});
  } else if (job == "fixity" && figure("checked") && figure("packages") && figure("damaged")) {
    out = page.Text("dashboard.outcome.fixity",
                    {{"checked", number("checked")}, {"packages", number("packages")}, {"damaged", number("damaged")}});
  } else {
    return run.outcome;
  }
  if (const auto late = figure("late_seconds")) {
    constexpr std::uint64_t kHour = 3600, kDay = 24 * kHour;
    out += *late >= 2 * kDay ? page.Text("dashboard.outcome.late_days", {{"n", page.Number(*late / kDay)}})
           : *late >= kHour  ? page.Text("dashboard.outcome.late_hours", {{"n", page.Number(*late / kHour)}})
                             : page.Text("dashboard.outcome.late_minutes", {{"n", page.Number(*late / 60)}});
  }
  return out;
}

object Job(const Page& page, std::string_view job, std::string_view name_key, const std::optional<archive::JobRun>& run,
           const Result<TimePoint>& next) {
  object o{{"name", page.Text(name_key)}, {"ran", run.has_value()}};
  if (run) {
    o["time"] = page.DateTime(run->time);
    o["outcome"] = JobOutcome(page, job, *run);
    o["kind"] = run->failed ? "error" : run->ok ? "ok" : "warn";
    o["state"] = page.Text(run->failed ? "dashboard.job_failed" : run->ok ? "dashboard.job_ok" : "dashboard.job_problems");
  }
  o["next"] = next.ok() ? page.DateTime(next.value()) : std::string(next.status().message());
  return o;
}

service::HttpResponse Dashboard(Page& page) {
  auto overview = archive::Catalogue(page.app.archive).Overview();
  if (!overview.ok()) return ErrorPage(page, 500, overview.status().message());
  const archive::StoreStatus& s = overview.value();
  object data{{"lapsed_notice", LapsedNotice(page, s)},
              {"packages", page.Number(s.packages)},
              {"versions", page.Number(s.versions)},
              {"sealed", page.Number(s.sealed)},
              {"queued", page.Number(s.queued)},
              {"deleted", page.Number(s.deleted)},
              {"size", Size(page, s.store_bytes)},
              {"tsa_until", "—"},
              {"tsa_soon", false},
              {"policy", s.policy},
              {"trust_anchors", page.Number(s.trust_anchors)},
              {"lapsed", s.lapsed == 0 ? std::string() : page.Number(s.lapsed)},
              {"deadlines", !s.next_deadlines.empty()}};
  if (s.tsa_certificate_not_after) {
    data["tsa_until"] = page.Date(*s.tsa_certificate_not_after);
    data["tsa_soon"] = *s.tsa_certificate_not_after - page.app.clock.Now() < std::chrono::days(90);
  }
  array rows;
  for (const auto& d : s.next_deadlines) {
    object o = Subject(d.subject);
    o["due"] = page.DateTime(d.due);
    rows.push_back(std::move(o));
  }
  data["rows"] = std::move(rows);
  archive::ScheduledJobs jobs(page.app.archive);
  array job_rows;
  job_rows.push_back(Job(page, "seal", "dashboard.job_seal", s.last_seal, jobs.NextDue("seal")));
  job_rows.push_back(Job(page, "renew", "dashboard.job_renew", s.last_renewal, jobs.NextDue("renew")));
  job_rows.push_back(Job(page, "fixity", "dashboard.job_fixity", s.last_fixity, jobs.NextDue("fixity")));
  data["jobs"] = std::move(job_rows);
  return HtmlPage(page, page.Text("dashboard.title"), Render(page, "dashboard_page", data));
}

// ---- Policy ----

// An algorithm's end as the catalogue gives it: none known, not approved (the
// epoch), or a date; into `row` as "end", "kind" and "state".
void AddEnd(const Page& page, const std::optional<TimePoint>& end, object& row) {
  std::string_view state = "policy.state_in_force";
  if (!end) {
    row["end"] = page.Text("policy.no_end");
  } else if (*end == TimePoint{}) {
    row["end"] = "—";
    state = "policy.state_not_approved";
  } else {
    row["end"] = page.Date(*end);
    if (page.app.clock.Now() >= *end) state = "policy.state_retired";
  }
  row["kind"] = state == "policy.state_in_force" ? "ok" : state == "policy.state_retired" ? "warn" : "error";
  row["state"] = page.Text(state);
}

service::HttpResponse Policy(Page& page) {
  const policy::AlgorithmCatalogue& catalogue = page.app.archive.policy();
  object data{{"name", catalogue.name()}};
  array hashes;
  for (const policy::HashRule& r : catalogue.hash_rules()) {
    object row{{"name", HashAlgorithmName(r.algorithm)}, {"source", r.source}};
    AddEnd(page, r.end, row);
    hashes.push_back(std::move(row));
  }
  data["hash_rules"] = std::move(hashes);
  auto preferred = catalogue.PreferredHash(page.app.clock.Now());
  data["preferred"] = preferred.ok() ? std::string(HashAlgorithmName(preferred.value())) : std::string();
  array signatures;
  const auto& rules = catalogue.signature_rules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const policy::SignatureRule& r = rules[i];
    const bool last_of_key = i + 1 == rules.size() || rules[i + 1].key != r.key;
    object row{{"key", policy::SignatureKeyTypeName(r.key)},
               {"bits", std::to_string(r.min_bits) +
                            (last_of_key ? "+" : "–" + std::to_string(rules[i + 1].min_bits - 1))},
               {"source", r.source}};
    AddEnd(page, r.end, row);
    signatures.push_back(std::move(row));
  }
  data["signature_rules"] = std::move(signatures);
  auto anchors = archive::Catalogue(page.app.archive).TrustList();
  if (!anchors.ok()) {
    data["trust_error"] = anchors.status().message();
  } else {
    data["trust_error"] = "";
    array list;
    for (const archive::TrustListEntry& a : anchors.value())
      list.push_back(object{{"subject", a.subject},
                            {"fingerprint", a.fingerprint},
                            {"added", page.Date(a.added)},
                            {"added_by", a.added_by},
                            {"reason", a.reason}});
    data["anchors"] = std::move(list);
  }
  array profiles;
  for (std::string_view p : policy::AlgorithmCatalogue::BuiltinProfiles())
    profiles.push_back(object{{"name", p}, {"first", profiles.empty()}});
  data["profiles"] = std::move(profiles);
  return HtmlPage(page, page.Text("policy.title"), Render(page, "policy_page", data));
}

}  // namespace

void AddAdminPages(Routes& routes) {
  routes.Add({"GET", "/dashboard", false, kAdmin, "web dashboard", Dashboard});
  routes.Add({"GET", "/policy", false, kAdmin, "web policy", Policy});
  AddAccountPages(routes);
  AddPackageAdminPages(routes);
}

}  // namespace preserve::web
