#include "lifecycle.h"

#include <boost/json.hpp>

#include "preserve/util/digest.h"
#include "stored_json.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr int kMaxRetentionYears = 1000;

json::object EncodeRetention(const Retention& r, const std::optional<TimePoint>& until) {
  if (r.permanent) return {{"permanent", true}};
  return {{"permanent", false}, {"years", r.years}, {"until", until ? FormatUtcTime(*until) : ""}};
}

Result<TimePoint> TimeField(const json::object& o, std::string_view key) {
  return ParseUtcTime(std::string_view(o.at(key).as_string()));
}

// The tombstone's digest of the object at `path` under `alg`; null when it kept none.
const Bytes* KeptDigest(const Tombstone& tombstone, const std::string& path, HashAlgorithm alg) {
  for (const auto& o : tombstone.objects) {
    if (o.path != path) continue;
    auto found = o.digests.find(alg);
    return found == o.digests.end() ? nullptr : &found->second;
  }
  return nullptr;
}

}  // namespace

Status CheckRetention(const Retention& retention) {
  if (retention.permanent) return Status::Ok();
  if (retention.years < 1 || retention.years > kMaxRetentionYears)
    return Status::InvalidArgument("a retention period is permanent or 1 to " + std::to_string(kMaxRetentionYears) +
                                   " years, not " + std::to_string(retention.years));
  return Status::Ok();
}

std::optional<TimePoint> RetainUntil(TimePoint created, const Retention& retention) {
  if (retention.permanent) return std::nullopt;
  const auto day = std::chrono::floor<std::chrono::days>(created);
  const std::chrono::year_month_day date{day};
  // An invalid date (29 February in a common year) converts to the days after
  // the month's end: 1 March, when the full years have passed.
  const std::chrono::year_month_day later = date + std::chrono::years(retention.years);
  return std::chrono::sys_days(later) + (created - day);
}

Status PutInitialLifecycle(storage::WriteSet& w, std::string_view package_id, TimePoint created,
                           const Retention& retention) {
  PRESERVE_RETURN_IF_ERROR(CheckRetention(retention));
  PackageLifecycle lifecycle;
  lifecycle.package_id = std::string(package_id);
  lifecycle.retention = retention;
  lifecycle.retain_until = RetainUntil(created, retention);
  w.PutLifecycle(package_id, EncodeLifecycle(lifecycle));
  return Status::Ok();
}

void ProtectObjects(storage::WriteSet& w, const PackageRecord& record, const PackageLifecycle& lifecycle) {
  for (const auto& o : record.objects) {
    w.RetainContent(o.sha256, lifecycle.retain_until);
    if (!lifecycle.holds.empty()) w.HoldContent(o.sha256, true);
  }
}

void LiftObjectHolds(storage::WriteSet& w, const PackageRecord& record) {
  for (const auto& o : record.objects) w.HoldContent(o.sha256, false);
}

Bytes EncodeLifecycle(const PackageLifecycle& l) {
  json::array holds;
  for (const auto& h : l.holds)
    holds.push_back(json::object{
        {"number", h.number}, {"reason", h.reason}, {"by", h.placed_by}, {"at", FormatUtcTime(h.placed_at)}});
  json::object root{{"package", l.package_id},
                    {"retention", EncodeRetention(l.retention, l.retain_until)},
                    {"holds", std::move(holds)},
                    {"holds_placed", l.holds_placed}};
  if (l.tombstone) {
    const Tombstone& t = *l.tombstone;
    json::array objects;
    for (const auto& o : t.objects) {
      json::object digests;
      for (const auto& [alg, digest] : o.digests) digests[HashAlgorithmName(alg)] = ToHex(digest);
      objects.push_back(json::object{{"path", o.path}, {"size", o.size}, {"digests", std::move(digests)}});
    }
    root["tombstone"] = json::object{{"deleted_at", FormatUtcTime(t.deleted_at)},
                                     {"reason", t.reason},
                                     {"by", t.deleted_by},
                                     {"objects", std::move(objects)}};
  }
  return ToBytes(SerializeForStore(root));
}

Result<PackageLifecycle> DecodeLifecycle(ByteView bytes) {
  // Boost.JSON throws on a missing or mistyped field: turned into a Status here.
  try {
    auto v = ParseStoredJson(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                             "lifecycle record");
    if (!v.ok() || !v->is_object()) return Status::Corruption("lifecycle record is not a JSON object");
    const json::object& o = v->as_object();
    PackageLifecycle l;
    l.package_id = std::string(o.at("package").as_string());
    const json::object& retention = o.at("retention").as_object();
    l.retention.permanent = retention.at("permanent").as_bool();
    if (!l.retention.permanent) {
      l.retention.years = retention.at("years").to_number<int>();
      PRESERVE_ASSIGN_OR_RETURN(TimePoint until, TimeField(retention, "until"));
      l.retain_until = until;
    }
    for (const auto& item : o.at("holds").as_array()) {
      const json::object& h = item.as_object();
      Hold hold;
      hold.number = h.at("number").to_number<std::uint32_t>();
      hold.reason = std::string(h.at("reason").as_string());
      hold.placed_by = std::string(h.at("by").as_string());
      PRESERVE_ASSIGN_OR_RETURN(hold.placed_at, TimeField(h, "at"));
      l.holds.push_back(std::move(hold));
    }
    l.holds_placed = o.at("holds_placed").to_number<std::uint32_t>();
    if (const json::value* tv = o.if_contains("tombstone")) {
      const json::object& t = tv->as_object();
      Tombstone tombstone;
      PRESERVE_ASSIGN_OR_RETURN(tombstone.deleted_at, TimeField(t, "deleted_at"));
      tombstone.reason = std::string(t.at("reason").as_string());
      tombstone.deleted_by = std::string(t.at("by").as_string());
      for (const auto& item : t.at("objects").as_array()) {
        const json::object& obj = item.as_object();
        Tombstone::Object object;
        object.path = std::string(obj.at("path").as_string());
        object.size = obj.at("size").to_number<std::uint64_t>();
        for (const auto& [name, hex] : obj.at("digests").as_object()) {
          PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, HashAlgorithmFromName(std::string_view(name)));
          PRESERVE_ASSIGN_OR_RETURN(object.digests[alg], FromHex(std::string_view(hex.as_string())));
        }
        tombstone.objects.push_back(std::move(object));
      }
      l.tombstone = std::move(tombstone);
    }
    return l;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("lifecycle record: ") + e.what());
  }
}

Result<PackageLifecycle> LoadLifecycle(const storage::Store& store, const std::string& package_id) {
  auto bytes = store.GetLifecycle(package_id);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) {
    PackageLifecycle permanent;
    permanent.package_id = package_id;
    return permanent;
  }
  if (!bytes.ok()) return bytes.status();
  auto decoded = DecodeLifecycle(bytes.value());
  if (!decoded.ok()) return decoded.status().WithContext("package " + package_id);
  if (decoded->package_id != package_id)
    return Status::Corruption("package " + package_id + ": its lifecycle record names package '" +
                              decoded->package_id + "'");
  return decoded;
}

Result<std::vector<Bytes>> TombstoneHashes(const storage::Store& store, const PackageRecord& record,
                                           HashAlgorithm alg) {
  PRESERVE_ASSIGN_OR_RETURN(PackageLifecycle lifecycle, LoadLifecycle(store, record.id));
  if (!lifecycle.tombstone)
    return Status::Corruption("package " + record.id + " is marked deleted but has no tombstone");
  std::vector<Bytes> out;
  out.reserve(record.objects.size());
  for (const auto& o : record.objects) {
    const Bytes* digest = KeptDigest(*lifecycle.tombstone, o.path, alg);
    if (digest == nullptr)
      return Status::FailedPrecondition("the tombstone of deleted package " + record.id + " keeps no " +
                                        std::string(HashAlgorithmName(alg)) + " digest of " + o.path +
                                        ", and its content is gone");
    out.push_back(*digest);
  }
  return out;
}

Status DeletedError(const storage::Store& store, const PackageRecord& record, std::string_view consequence) {
  auto lifecycle = LoadLifecycle(store, record.id);
  std::string what = "package " + record.id + " was deleted";
  if (lifecycle.ok() && lifecycle->tombstone) {
    const Tombstone& t = *lifecycle->tombstone;
    what += " at " + FormatUtcTime(t.deleted_at) + " by " + t.deleted_by + " (" + t.reason + ")";
  }
  return Status::FailedPrecondition(what + ": " + std::string(consequence));
}

Result<audit::PackageReport> VerifyTombstone(const storage::Store& store, const PackageRecord& record,
                                             const timestamp::EvidenceRecord& er,
                                             const audit::PackageVerifyOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(PackageLifecycle lifecycle, LoadLifecycle(store, record.id));
  if (!lifecycle.tombstone)
    return Status::Corruption("package " + record.id + " is marked deleted but has no tombstone (run 'preserve check')");
  const Tombstone& tombstone = *lifecycle.tombstone;
  audit::PackageReport report;
  report.package_id = record.id;
  auto add = [&report](std::string section, std::string what, Verdict verdict, std::string detail) {
    if (verdict != Verdict::kValid) report.reasons.push_back(what + (detail.empty() ? "" : ": " + detail));
    report.steps.push_back({std::move(section), std::move(what), verdict, std::move(detail)});
  };
  add("data",
      "deleted at " + FormatUtcTime(tombstone.deleted_at) + " by " + tombstone.deleted_by + " (" + tombstone.reason +
          ")",
      Verdict::kIndeterminate,
      "the content and its signatures are gone; the evidence record can prove only that data objects with the "
      "digests kept in the tombstone existed");
  for (const auto& o : record.objects) {
    const Bytes* sha256 = KeptDigest(tombstone, o.path, HashAlgorithm::kSha256);
    if (sha256 == nullptr || *sha256 != o.sha256) {
      add("data", o.path, Verdict::kInvalid, "the tombstone's SHA-256 differs from the package record's");
      continue;
    }
    add("data", o.path + ": SHA-256 " + ToHex(o.sha256) + " (" + std::to_string(o.size) + " bytes, deleted)",
        Verdict::kValid, "");
  }

  audit::AddEvidenceSteps(er, [&](HashAlgorithm alg) { return TombstoneHashes(store, record, alg); }, {}, options,
                          report);

  report.verdict = audit::WorstStep(report);
  return report;
}

}  // namespace preserve::archive
