// What `preserve status` shows (Catalogue::Overview), and the record of the
// scheduled jobs' last runs that it and the schedule (jobs.cc) read.
#include <boost/json.hpp>

#include "archive_impl.h"
#include "lifecycle.h"
#include "trust.h"
#include "preserve/util/certificates.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

std::string JobSetting(std::string_view job) { return "runs/" + std::string(job); }

}  // namespace

Result<std::optional<JobRun>> LoadJobRun(const storage::Store& store, std::string_view job) {
  auto stored = store.GetSetting(JobSetting(job));
  if (!stored.ok() && stored.status().code() == StatusCode::kNotFound) return std::optional<JobRun>();
  PRESERVE_RETURN_IF_ERROR(stored.status());
  json::error_code ec;
  json::value parsed = json::parse(ToString(stored.value()), ec);
  if (ec || !parsed.is_object()) return Status::Corruption("the record of the last " + std::string(job) + " run is malformed");
  const json::object& o = parsed.as_object();
  JobRun run;
  const json::value* time = o.if_contains("time");
  const json::value* outcome = o.if_contains("outcome");
  const json::value* ok = o.if_contains("ok");
  const json::value* failed = o.if_contains("failed");  // only in records of failed runs
  const json::value* counts = o.if_contains("counts");  // only in records that have figures
  if (time == nullptr || !time->is_string() || outcome == nullptr || !outcome->is_string() || ok == nullptr ||
      !ok->is_bool() || (failed != nullptr && !failed->is_bool()) || (counts != nullptr && !counts->is_object()))
    return Status::Corruption("the record of the last " + std::string(job) + " run is malformed");
  if (counts != nullptr) {
    for (const auto& [name, value] : counts->as_object()) {
      if (!value.is_uint64() && !(value.is_int64() && value.as_int64() >= 0))
        return Status::Corruption("the record of the last " + std::string(job) + " run has a malformed figure");
      run.counts[std::string(name)] = value.to_number<std::uint64_t>();
    }
  }
  PRESERVE_ASSIGN_OR_RETURN(run.time, ParseUtcTime(std::string(time->as_string())));
  run.outcome = std::string(outcome->as_string());
  run.ok = ok->as_bool();
  run.failed = failed != nullptr && failed->as_bool();
  return std::optional<JobRun>(std::move(run));
}

void PutJobRun(storage::WriteSet& w, std::string_view job, const JobRun& run) {
  json::object o{{"time", FormatUtcTime(run.time)}, {"outcome", run.outcome}, {"ok", run.ok}};
  if (run.failed) o["failed"] = true;
  if (!run.counts.empty()) {
    json::object counts;
    for (const auto& [name, value] : run.counts) counts[name] = value;
    o["counts"] = std::move(counts);
  }
  w.PutSetting(JobSetting(job), ToBytes(json::serialize(o)));
}

Result<StoreStatus> Catalogue::Overview(std::size_t deadlines) {
  StoreStatus status;
  const TimePoint now = impl_->clock->Now();
  std::string after;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 10000));
    if (page.empty()) break;
    for (const auto& [id, bytes] : page) {
      after = id;
      if (SplitVersionId(id).second == 1) ++status.packages;
      else ++status.versions;
      // The stored record says only whether it is deleted; the queue says which are not sealed yet.
      auto record = DecodeStoredPackageRecord(bytes);
      if (record.ok() && record->state == PackageState::kDeleted) ++status.deleted;
    }
  }
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanQueue(SIZE_MAX, [&status](std::string_view, ByteView) {
    ++status.queued;
    return true;
  }));
  status.sealed = status.packages + status.versions - status.queued - status.deleted;
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanSchedule([&](const storage::ScheduleEntry& e) {
    if (e.due <= now) {
      ++status.lapsed;
      if (status.first_lapsed.size() < deadlines) status.first_lapsed.push_back({e.package_id, e.due});
      return true;
    }
    status.next_deadlines.push_back({e.package_id, e.due});
    return status.next_deadlines.size() < deadlines;
  }));
  PRESERVE_ASSIGN_OR_RETURN(status.last_seal, LoadJobRun(*impl_->store, "seal"));
  PRESERVE_ASSIGN_OR_RETURN(status.last_renewal, LoadJobRun(*impl_->store, "renew"));
  PRESERVE_ASSIGN_OR_RETURN(status.last_fixity, LoadJobRun(*impl_->store, "fixity"));
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(DbDir(impl_->root), ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) status.store_bytes += it->file_size(ec);
  status.tsa_ca_certificate = impl_->ca_certificate;
  if (impl_->writable()) status.tsa_certificate_not_after = impl_->tsa->certificate_not_after();
  else if (auto active = LoadCertificates(TsaDir(impl_->root) / "tsa.pem"); active.ok())
    if (auto end = CertificateNotAfter(active->front()); end.ok()) status.tsa_certificate_not_after = *end;
  status.policy = impl_->policy.name();
  PRESERVE_ASSIGN_OR_RETURN(std::vector<TrustListEntry> trust, LoadTrustList(*impl_->store));
  status.trust_anchors = trust.size();
  return status;
}

}  // namespace preserve::archive
