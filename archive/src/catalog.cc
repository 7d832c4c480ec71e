// Finding packages and reporting on what was submitted: `List` with its
// record-metadata filters, and the signature-use report from the audit trail.

#include <unordered_map>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "damage.h"
#include "lifecycle.h"
#include "search_index.h"
#include "preserve/package/manifest.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

// A package read from its records, as the search index would hold it: the
// index's matching then applies to stores whose index is not built yet.
IndexEntry AsIndexEntry(const PackageSummary& p) {
  IndexEntry e;
  e.id = p.id;
  e.latest_id = p.latest_id;
  e.versions = p.versions;
  e.created = p.created;
  e.deleted = p.state == PackageState::kDeleted;
  e.metadata = p.metadata;
  e.signer_organizations = p.signer_organizations;
  e.documents = p.documents;
  return e;
}

bool Matches(const PackageSummary& p, const ListFilter& f) {
  if (f.empty()) return true;
  if (f.state && p.state != *f.state) return false;
  return MatchesFilter(AsIndexEntry(p), f);
}

std::string MonthOf(std::string_view time) { return std::string(time.substr(0, 7)); }

}  // namespace

Result<std::vector<std::pair<std::string, Bytes>>> Archive::Impl::VersionRecords(const std::string& package_id) const {
  if (auto [base, version] = SplitVersionId(package_id); version > 1)
    return Status::InvalidArgument("'" + package_id + "' is version " + std::to_string(version) + " of package " +
                                   std::string(base) + ": name the package");
  std::vector<std::pair<std::string, Bytes>> out;
  PRESERVE_ASSIGN_OR_RETURN(Bytes first, store->GetPackage(package_id));
  out.emplace_back(package_id, std::move(first));
  // Later versions' ids sort right after the package's own.
  constexpr std::size_t kPage = 16;
  std::string cursor = package_id + ".v";  // before "ID.v0002", after any other id "ID" starts
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, store->ListPackages(cursor, kPage));
    for (auto& [id, bytes] : page) {
      auto [base, version] = SplitVersionId(id);
      if (base != package_id || version < 2) return out;
      out.emplace_back(id, std::move(bytes));
    }
    if (page.size() < kPage) return out;
    cursor = out.back().first;
  }
}

namespace {

// A package's summary from one of its stored records.
Result<PackageSummary> Summarize(const PackageRecord& r, const storage::Store& store) {
  PackageSummary summary;
  summary.id = r.id;
  summary.latest_id = r.id;
  summary.versions = r.version;
  summary.created = r.created;
  summary.state = r.state;
  summary.next_renewal = r.next_renewal;
  for (const auto& o : r.objects) {
    if (o.path.rfind(package::kDocumentsDir, 0) == 0) summary.documents.push_back(o.path);
    // A deleted package's manifest is gone with its content; its tombstone remains.
    if (o.path == package::kManifestPath && r.state != PackageState::kDeleted) {
      PRESERVE_ASSIGN_OR_RETURN(Bytes json_bytes, store.GetContent(o.sha256));
      PRESERVE_ASSIGN_OR_RETURN(package::Manifest manifest, package::ManifestFromJson(json_bytes));
      summary.metadata = manifest.metadata;
      for (const auto& s : manifest.signatures) {
        auto& orgs = summary.signer_organizations;
        if (!s.signer_organization.empty() &&
            std::find(orgs.begin(), orgs.end(), s.signer_organization) == orgs.end())
          orgs.push_back(s.signer_organization);
      }
    }
  }
  return summary;
}

}  // namespace

Catalogue::Catalogue(Archive& archive) : archive_(&archive), impl_(archive.impl_.get()) {}

Result<std::string> Catalogue::ResolvePackageId(std::string_view prefix) const {
  const std::string given(prefix);
  if (prefix.size() < kMinIdPrefix)
    return Status::InvalidArgument("'" + given + "' is too short for a package id: give at least " +
                                   std::to_string(kMinIdPrefix) + " characters of it");
  // A whole id (a UUID, perhaps with its version suffix) stands for itself:
  // the command then reads it, and reports damage under it as damage, where a
  // prefix scan would stop at the first unreadable block of the family.
  constexpr std::size_t kWholeId = 36;
  if (prefix.size() == kWholeId || SplitVersionId(prefix).second > 1) return given;
  // A few more than are named, to say that there are more.
  constexpr std::size_t kNamed = 5;
  PRESERVE_ASSIGN_OR_RETURN(std::vector<std::string> ids, impl_->store->PackageIdsWithPrefix(prefix, kNamed + 1));
  if (ids.empty()) {
    // Said as for any id the store does not hold.
    Status missing = impl_->store->GetPackage(given).status();
    return missing.ok() ? Status::NotFound("no package " + given) : missing;
  }
  if (ids.size() == 1 || ids.front() == given) return ids.front();
  std::string named;
  for (std::size_t i = 0; i < ids.size() && i < kNamed; ++i) named += "\n  " + ids[i];
  return Status::InvalidArgument("the package id prefix " + given + " is ambiguous; it starts " +
                                 (ids.size() > kNamed ? "more than " + std::to_string(kNamed) + " ids, among them"
                                                      : std::to_string(ids.size()) + " ids") +
                                 ":" + named);
}

namespace {

// The state and next renewal of the package `entry` describes, from its latest version's evidence.
Status ReadState(const storage::Store& store, const IndexEntry& entry, PackageSummary& summary) {
  summary.state = PackageState::kQueued;
  if (entry.deleted) summary.state = PackageState::kDeleted;
  auto evidence = store.GetEvidence(entry.latest_id);
  if (!evidence.ok() && evidence.status().code() == StatusCode::kNotFound) return Status::Ok();
  PRESERVE_RETURN_IF_ERROR(evidence.status());
  PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, DecodeEvidenceSkeleton(evidence.value()));
  if (!entry.deleted) summary.state = PackageState::kSealed;
  summary.next_renewal = skeleton.next_renewal;
  return Status::Ok();
}

// A listing from the search index: a few seeks per package listed.
Result<std::vector<PackageSummary>> ListFromIndex(const storage::Store& store, const std::string& after,
                                                  std::size_t limit, const ListFilter& filter) {
  auto summarize = [&store](const IndexEntry& e) -> Result<PackageSummary> {
    PackageSummary s;
    s.id = e.id;
    s.latest_id = e.latest_id;
    s.versions = e.versions;
    s.created = e.created;
    s.metadata = e.metadata;
    s.signer_organizations = e.signer_organizations;
    s.documents = e.documents;
    PRESERVE_RETURN_IF_ERROR(ReadState(store, e, s));
    return s;
  };
  // A state filter summarizes each candidate (its evidence tells the state): those listed are kept, not read again.
  std::unordered_map<std::string, PackageSummary> in_state_summaries;
  auto in_state = [&](const IndexEntry& e) -> Result<bool> {
    if (!filter.state) return true;
    PRESERVE_ASSIGN_OR_RETURN(PackageSummary s, summarize(e));
    if (s.state != *filter.state) return false;
    in_state_summaries.emplace(e.id, std::move(s));
    return true;
  };
  PRESERVE_ASSIGN_OR_RETURN(auto hits, SearchIndex(store, filter, after, limit, in_state));
  std::vector<PackageSummary> out;
  for (auto& hit : hits) {
    if (auto kept = in_state_summaries.find(hit.id); kept != in_state_summaries.end()) {
      out.push_back(std::move(kept->second));
      continue;
    }
    auto summary = hit.entry.ok() ? summarize(hit.entry.value()) : Result<PackageSummary>(hit.entry.status());
    if (!summary.ok() && summary.status().code() == StatusCode::kIOError) return summary.status();
    if (!summary.ok()) {
      PackageSummary named;
      named.id = hit.id;
      named.unreadable = summary.status().message();
      out.push_back(std::move(named));
      continue;
    }
    out.push_back(std::move(summary).value());
  }
  return out;
}

}  // namespace

// Over 60 lines: paging, the filter and what damage hides, in one listing loop.
Result<std::vector<PackageSummary>> Catalogue::List(const std::string& after, std::size_t limit,
                                                    const ListFilter& filter) {
  if (!filter.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(SearchIndexProgress index, ReadSearchIndexProgress(*impl_->store));
    if (index.complete) return ListFromIndex(*impl_->store, after, limit, filter);
  }
  std::vector<PackageSummary> out;
  constexpr std::size_t kPage = 1024;
  // A package's later versions follow its own record in id order: it is
  // summarized, as its latest version, once a record of another package (or
  // the end) shows that no more follow. Only that record's manifest is read.
  struct Pending {
    std::string id;
    Bytes first;   // version 1's record: its creation is the package's
    Bytes latest;  // empty while version 1 is the latest
  };
  std::optional<Pending> pending;
  // The rows listed so far that count towards `limit`: those read (an
  // unreadable one is listed whatever the filter, so it does not count).
  std::size_t listed = 0;
  auto settle = [&]() -> Status {
    if (!pending) return Status::Ok();
    auto summary = [&]() -> Result<PackageSummary> {
      const Bytes& latest = pending->latest.empty() ? pending->first : pending->latest;
      PRESERVE_ASSIGN_OR_RETURN(PackageRecord r, DecodePackageRecord(latest, *impl_->store));
      PRESERVE_ASSIGN_OR_RETURN(PackageSummary s, Summarize(r, *impl_->store));
      if (!pending->latest.empty()) {
        PRESERVE_ASSIGN_OR_RETURN(PackageRecord first, DecodeStoredPackageRecord(pending->first));
        s.id = pending->id;
        s.created = first.created;
      }
      return s;
    }();
    // One package that cannot be read (damage, a record or manifest that is
    // not JSON, content gone) is named, and the listing goes on.
    if (!summary.ok() && summary.status().code() == StatusCode::kIOError) return summary.status();
    if (!summary.ok()) {
      PackageSummary named;
      named.id = pending->id;
      named.unreadable = summary.status().message();
      out.push_back(std::move(named));
    } else if (Matches(summary.value(), filter)) {
      out.push_back(std::move(summary).value());
      ++listed;
    }
    pending.reset();
    return Status::Ok();
  };
  std::vector<std::string> skipped;  // stretches of records a page could not read
  const storage::ScanGapSink gaps = [&skipped](const storage::ScanGap& gap) {
    skipped.push_back(DescribeGap("package records", gap));
  };
  std::string cursor = after;
  bool full = false;
  while (!full) {
    const std::size_t page_size = filter.empty() ? std::min(limit, kPage) + 1 : kPage;
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(cursor, page_size, &gaps));
    for (auto& what : skipped) {
      PackageSummary stretch;
      stretch.unreadable = std::move(what);
      out.push_back(std::move(stretch));
    }
    skipped.clear();
    if (page.empty()) break;
    cursor = page.back().first;
    for (auto& [id, bytes] : page) {
      auto [base, version] = SplitVersionId(id);
      if (version > 1) {
        // Versions of a package before `after` (the previous page's last) were listed with it.
        if (pending && pending->id == base) pending->latest = std::move(bytes);
        continue;
      }
      PRESERVE_RETURN_IF_ERROR(settle());
      if (listed >= limit) {
        full = true;
        break;
      }
      pending = Pending{id, std::move(bytes), {}};
    }
  }
  if (!full) PRESERVE_RETURN_IF_ERROR(settle());
  return out;
}

Result<std::vector<VersionSummary>> Lifecycle::Versions(const std::string& package_id) {
  PRESERVE_ASSIGN_OR_RETURN(auto records, impl_->VersionRecords(package_id));
  std::vector<VersionSummary> out;
  for (const auto& [id, bytes] : records) {
    auto version = [&]() -> Result<VersionSummary> {
      PRESERVE_ASSIGN_OR_RETURN(PackageRecord r, DecodePackageRecord(bytes, *impl_->store));
      PRESERVE_ASSIGN_OR_RETURN(PackageSummary summary, Summarize(r, *impl_->store));
      VersionSummary v{"", r.version, id, r.created, r.state, std::move(summary.documents), ""};
      if (r.version > 1 && r.state != PackageState::kDeleted) {
        for (const auto& o : r.objects) {
          if (o.path != package::kManifestPath) continue;
          PRESERVE_ASSIGN_OR_RETURN(Bytes json_bytes, impl_->store->GetContent(o.sha256));
          PRESERVE_ASSIGN_OR_RETURN(package::Manifest manifest, package::ManifestFromJson(json_bytes));
          v.change = manifest.decision;
        }
      }
      return v;
    }();
    if (!version.ok() && version.status().code() == StatusCode::kIOError) return version.status();
    if (!version.ok()) {
      VersionSummary named;
      named.unreadable = version.status().message();
      named.version = SplitVersionId(id).second;
      named.id = id;
      out.push_back(std::move(named));
      continue;
    }
    out.push_back(std::move(version).value());
  }
  return out;
}

Result<std::string> Lifecycle::VersionId(const std::string& package_id, std::uint32_t version) {
  // A version's own id names it already.
  if (auto [base, stored] = SplitVersionId(package_id); stored > 1) {
    if (version != 0 && version != stored)
      return Status::InvalidArgument("'" + package_id + "' is version " + std::to_string(stored) + " of package " +
                                     std::string(base) + ", not version " + std::to_string(version));
    PRESERVE_RETURN_IF_ERROR(impl_->store->GetPackage(package_id).status());
    return package_id;
  }
  auto found = impl_->VersionRecords(package_id);
  // Records that cannot be read: the id given stands for the latest, so that
  // 'verify' reports the damage (INVALID) rather than stopping at the lookup.
  if (!found.ok() && version == 0 && IsDamage(found.status())) return package_id;
  PRESERVE_ASSIGN_OR_RETURN(auto records, std::move(found));
  if (version == 0) return records.back().first;
  if (version > records.size())
    return Status::NotFound("package " + package_id + " has " + std::to_string(records.size()) +
                            (records.size() == 1 ? " version" : " versions") + ", not a version " +
                            std::to_string(version));
  return records[version - 1].first;
}

namespace {

// The type of an audit event as AuditEvent writes it ({"event":"TYPE",...}),
// read without parsing the event; "" when it is not written so.
std::string_view EventTypeOf(std::string_view event) {
  constexpr std::string_view kStart = "{\"event\":\"";
  if (event.substr(0, kStart.size()) != kStart) return {};
  const std::size_t end = event.find('"', kStart.size());
  return end == std::string_view::npos ? std::string_view() : event.substr(kStart.size(), end - kStart.size());
}

}  // namespace

// Over 60 lines: each event's tally into its class and group, from the index or from the trail.
Result<SignatureUseReport> Catalogue::ReportSignatureUse(TimePoint from, TimePoint to, ReportGrouping grouping) {
  SignatureUseReport report;
  report.from = from;
  report.to = to;
  report.grouping = grouping;
  std::map<std::string, SignatureUseRow> rows;
  // A refusal is for good or not only once the trail after it is known.
  struct Refusal {
    std::string group;
    std::string category;
    bool later_accepted = false;
  };
  std::vector<Refusal> refusals;
  // Counts a tally of the period; a refusal waits, and its index is returned.
  auto count = [&](const SubmissionTally& t) -> std::optional<std::size_t> {
    std::string group;
    switch (grouping) {
      case ReportGrouping::kNone: break;
      case ReportGrouping::kOrgan: group = t.organ; break;
      case ReportGrouping::kSignerOrganization: group = t.signer_organization; break;
      case ReportGrouping::kMonth: group = MonthOf(t.time); break;
    }
    if (grouping != ReportGrouping::kNone && group.empty()) group = "(none)";
    if (t.kind == SubmissionTally::Kind::kRefused) {
      refusals.push_back({std::move(group), t.category});
      return refusals.size() - 1;
    }
    for (SignatureUseRow* row : {&rows[group], &report.total}) {
      ++row->submitted;
      if (t.kind == SubmissionTally::Kind::kAccepted) ++row->accepted;
      else if (t.kind == SubmissionTally::Kind::kDuplicate) ++row->duplicate;
      else ++row->not_signed;
    }
    return std::nullopt;
  };
  // Stored times are FormatUtcTime's: compared as text.
  const std::string from_text = FormatUtcTime(from);
  const std::string to_text = FormatUtcTime(to);
  PRESERVE_ASSIGN_OR_RETURN(SearchIndexProgress index, ReadSearchIndexProgress(*impl_->store));
  if (index.complete) {
    PRESERVE_RETURN_IF_ERROR(ScanTallies(*impl_->store, from_text, to_text,
                                         [&](const SubmissionTally& t, bool later_accepted) {
                                           if (auto i = count(t)) refusals[*i].later_accepted = later_accepted;
                                         },
                                         report.unreadable));
  } else {
    // A store whose index is not built: the whole trail, in order. An
    // acceptance settles the refusals of the same signed object before it.
    std::unordered_map<std::string, std::vector<std::size_t>> waiting;  // submission key -> its refusals
    unsigned char buffer[8192];
    json::monotonic_resource resource(buffer, sizeof buffer);
    const auto skipped = [&report](const std::string& what) { report.unreadable.push_back(what); };
    PRESERVE_RETURN_IF_ERROR(Maintenance(*archive_).ScanAuditLog(0, [&](const AuditLogEvent& e) {
      // Most events (access, seal, renew...) are told apart by their first bytes.
      const std::string_view written_type = EventTypeOf(e.json);
      if (!written_type.empty() && written_type != "ingest" && written_type != "refused" &&
          written_type != "duplicate" && written_type != "version")
        return true;
      // Events are read leniently (AuditLogEvent::json); one that is not JSON
      // even so (damage, or an edit) is named, and the rest counted.
      resource.release();
      json::error_code ec;
      json::value v = json::parse(e.json, ec, &resource);
      if (ec || !v.is_object()) {
        report.unreadable.push_back("audit event " + std::to_string(e.sequence) + " is not a JSON object");
        return true;
      }
      const std::optional<SubmissionTally> tally = TallyOfEvent(v.as_object());
      if (!tally) return true;
      if (tally->kind == SubmissionTally::Kind::kAccepted && !tally->submission.empty()) {
        if (auto w = waiting.find(tally->submission); w != waiting.end()) {
          for (std::size_t i : w->second) refusals[i].later_accepted = true;
          waiting.erase(w);
        }
      }
      const std::string& time = tally->time;
      if (time.size() == from_text.size() && time.back() == 'Z') {
        if (time < from_text || !(time < to_text)) return true;
      } else if (auto t = ParseUtcTime(time); !t.ok() || t.value() < from || !(t.value() < to)) {
        return true;
      }
      if (auto i = count(*tally); i && !tally->submission.empty()) waiting[tally->submission].push_back(*i);
      return true;
    }, skipped));
  }
  for (const Refusal& r : refusals) {
    for (SignatureUseRow* row : {&rows[r.group], &report.total}) {
      ++row->submitted;
      if (r.later_accepted) {
        ++row->refused_then_accepted;
      } else {
        ++row->refused;
        ++row->refused_by_reason[r.category.empty() ? "(unrecorded)" : r.category];
      }
    }
  }
  for (auto& [group, row] : rows) {
    row.group = group;
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace preserve::archive
