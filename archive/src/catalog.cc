// Finding packages and reporting on what was submitted: `List` with its
// record-metadata filters, and the signature-use report from the audit trail.

#include <boost/json.hpp>

#include "archive_impl.h"
#include "lifecycle.h"
#include "preserve/ingest/manifest.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return needle.empty() || haystack.find(needle) != std::string_view::npos;
}

bool Matches(const PackageSummary& p, const ListFilter& f) {
  if (f.empty()) return true;
  if (!p.metadata) return false;  // a filter asks about record metadata this package does not have
  const ingest::RecordMetadata& m = *p.metadata;
  if (!f.organ.empty() && !Contains(m.organ_name, f.organ) && !Contains(m.organ_id, f.organ)) return false;
  if (!Contains(m.type_name, f.type_name)) return false;
  // ISO dates compare as text.
  if (!f.issued_from.empty() && m.issued_date < f.issued_from) return false;
  if (!f.issued_to.empty() && m.issued_date > f.issued_to) return false;
  if (!f.signer_organization.empty()) {
    bool any = false;
    for (const auto& o : p.signer_organizations) any = any || Contains(o, f.signer_organization);
    if (!any) return false;
  }
  return true;
}

std::string MonthOf(std::string_view time) { return std::string(time.substr(0, 7)); }

}  // namespace

Result<std::vector<PackageSummary>> Archive::List(const std::string& after, std::size_t limit,
                                                  const ListFilter& filter) {
  std::vector<PackageSummary> out;
  constexpr std::size_t kPage = 1024;
  std::string cursor = after;
  while (out.size() < limit) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(cursor, filter.empty() ? limit : kPage));
    if (page.empty()) break;
    cursor = page.back().first;
    for (const auto& [id, bytes] : page) {
      PRESERVE_ASSIGN_OR_RETURN(PackageRecord r, DecodePackageRecord(bytes, *impl_->store));
      PackageSummary summary;
      summary.id = r.id;
      summary.created = r.created;
      summary.state = r.state;
      summary.next_renewal = r.next_renewal;
      for (const auto& o : r.objects) {
        if (o.path.rfind(ingest::kDocumentsDir, 0) == 0) summary.documents.push_back(o.path);
        // A deleted package's manifest is gone with its content; its tombstone remains.
        if (o.path == ingest::kManifestPath && r.state != kStateDeleted) {
          PRESERVE_ASSIGN_OR_RETURN(Bytes json_bytes, impl_->store->GetContent(o.sha256));
          PRESERVE_ASSIGN_OR_RETURN(ingest::Manifest manifest, ingest::ManifestFromJson(json_bytes));
          summary.metadata = manifest.metadata;
          for (const auto& s : manifest.signatures) {
            auto& orgs = summary.signer_organizations;
            if (!s.signer_organization.empty() &&
                std::find(orgs.begin(), orgs.end(), s.signer_organization) == orgs.end())
              orgs.push_back(s.signer_organization);
          }
        }
      }
      if (!Matches(summary, filter)) continue;
      out.push_back(std::move(summary));
      if (out.size() == limit) break;
    }
    if (filter.empty()) break;
  }
  return out;
}

Result<SignatureUseReport> Archive::ReportSignatureUse(TimePoint from, TimePoint to, ReportGrouping grouping) {
  SignatureUseReport report;
  report.from = from;
  report.to = to;
  report.grouping = grouping;
  std::map<std::string, SignatureUseRow> rows;
  Status parse_error = Status::Ok();
  PRESERVE_RETURN_IF_ERROR(ScanAuditLog(0, [&](const AuditLogEvent& e) {
    json::error_code ec;
    json::value v = json::parse(e.json, ec);
    if (ec || !v.is_object()) {
      parse_error = Status::Corruption("audit event " + std::to_string(e.sequence) + " is not a JSON object");
      return false;
    }
    const json::object& o = v.as_object();
    auto text = [&](std::string_view key) -> std::string {
      const json::value* f = o.if_contains(key);
      return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    std::string type = text("event");
    if (type != "ingest" && type != "refused") return true;
    auto time = ParseUtcTime(text("time"));
    if (!time.ok() || time.value() < from || !(time.value() < to)) return true;
    std::string group;
    switch (grouping) {
      case ReportGrouping::kNone: break;
      case ReportGrouping::kOrgan: group = text("organ"); break;
      case ReportGrouping::kSignerOrganization: group = text("signer_organization"); break;
      case ReportGrouping::kMonth: group = MonthOf(text("time")); break;
    }
    if (grouping != ReportGrouping::kNone && group.empty()) group = "(none)";
    for (SignatureUseRow* row : {&rows[group], &report.total}) {
      ++row->submitted;
      if (type == "ingest") {
        ++row->accepted;
      } else {
        ++row->refused;
        std::string category = text("category");
        ++row->refused_by_reason[category.empty() ? "(unrecorded)" : category];
      }
    }
    return true;
  }));
  PRESERVE_RETURN_IF_ERROR(parse_error);
  for (auto& [group, row] : rows) {
    row.group = group;
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace preserve::archive
