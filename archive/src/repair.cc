// 'preserve repair': rows that hold bytes that are not UTF-8, made valid JSON.
//
// Package records, lifecycle records and trust list entries written before
// ingest refused such file names can hold them raw: JSON must be UTF-8, and
// other tools refuse such rows. Readers here already read them leniently
// (stored_json.h), showing each bad byte as %XX; a repair writes exactly that
// form back, so nothing anyone saw changes, and keeps the original bytes in a
// setting of their own, named in one audit event with their SHA-256. Sealed
// data (manifests) and the audit trail are never rewritten: their hashes are
// what the evidence and the chain prove, so readers go on decoding them
// leniently.
#include <set>

#include "archive_impl.h"
#include "lifecycle.h"
#include "trust.h"
#include "preserve/util/digest.h"
#include "preserve/util/fault_point.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

namespace {

constexpr std::string_view kOriginalPrefix = "repair/original/";

std::string_view Text(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Why the escaped form of a package record cannot stand for it; "" when it can.
std::string PackageRecordProblem(ByteView escaped) {
  auto record = DecodeStoredPackageRecord(escaped);
  if (!record.ok()) return record.status().message();
  std::set<std::string> paths;
  for (const auto& o : record->objects)
    if (!paths.insert(o.path).second) return "escaping gives two of its data objects the path " + o.path;
  return "";
}

}  // namespace

// Over 60 lines: three row families rewritten alike in one write.
Result<RepairOutcome> Maintenance::Repair(bool dry_run) {
  if (!dry_run && !impl_->writable())
    return Status::FailedPrecondition("repair rewrites rows: open the store for writing");
  const storage::Store& store = *impl_->store;
  RepairOutcome out;
  storage::WriteSet w;
  std::set<std::string> kept_names;
  std::string listed;  // for the audit event
  // `row` names it for people; `name` for the setting that keeps its original.
  auto consider = [&](const std::string& row, const std::string& name, ByteView bytes,
                      const std::function<std::string(ByteView)>& problem,
                      const std::function<void(storage::WriteSet&, ByteView)>& put) -> Status {
    if (IsUtf8(Text(bytes))) return Status::Ok();
    const std::string escaped = EscapeInvalidUtf8(Text(bytes));
    if (std::string why = problem(AsBytes(escaped)); !why.empty()) {
      out.unrepairable.push_back(row + ": not readable once escaped either: " + why);
      return Status::Ok();
    }
    // A row repaired before and given raw bytes again (restored from an old
    // copy) keeps both originals.
    std::string kept = std::string(kOriginalPrefix) + name;
    for (int n = 2; kept_names.count(kept) > 0 || store.GetSetting(kept).ok(); ++n)
      kept = std::string(kOriginalPrefix) + name + "/" + std::to_string(n);
    kept_names.insert(kept);
    RepairedRow repaired{row, Digest(HashAlgorithm::kSha256, bytes), kept};
    listed += (listed.empty() ? "" : "; ") + row + " (SHA-256 " + ToHex(repaired.original_sha256) + ", kept as " +
              kept + ")";
    w.PutSetting(kept, bytes);
    put(w, AsBytes(escaped));
    out.repaired.push_back(std::move(repaired));
    return Status::Ok();
  };

  std::string after;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, store.ListPackages(after, 1000));
    if (page.empty()) break;
    for (const auto& [id, bytes] : page) {
      after = id;
      PRESERVE_RETURN_IF_ERROR(consider("package " + id, "packages/" + id, bytes, PackageRecordProblem,
                                        [&id](storage::WriteSet& ws, ByteView v) { ws.PutPackage(id, v); }));
    }
  }
  Status scanned = Status::Ok();
  PRESERVE_RETURN_IF_ERROR(store.ScanLifecycle([&](std::string_view key, ByteView bytes) {
    const std::string id(key);
    scanned = consider(
        "lifecycle record of package " + id, "lifecycle/" + id, bytes,
        [](ByteView v) { auto l = DecodeLifecycle(v); return l.ok() ? std::string() : l.status().message(); },
        [&id](storage::WriteSet& ws, ByteView v) { ws.PutLifecycle(id, v); });
    return scanned.ok();
  }));
  PRESERVE_RETURN_IF_ERROR(scanned);
  PRESERVE_RETURN_IF_ERROR(store.ScanSettings(kSignerTrustPrefix, [&](std::string_view key, ByteView bytes) {
    const std::string name(key);
    scanned = consider(
        "trust list entry " + std::string(key.substr(kSignerTrustPrefix.size())), "settings/" + name, bytes,
        [&name](ByteView v) { auto e = DecodeTrustEntry(name, v); return e.ok() ? std::string() : e.status().message(); },
        [&name](storage::WriteSet& ws, ByteView v) { ws.PutSetting(name, v); });
    return scanned.ok();
  }));
  PRESERVE_RETURN_IF_ERROR(scanned);

  if (dry_run || out.repaired.empty()) return out;
  w.AppendAudit(AuditEvent(*impl_->clock, "repair",
                           {{"rows", std::to_string(out.repaired.size())}, {"repaired", listed}}));
  PRESERVE_FAULT_POINT("repair.before_commit");
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  return out;
}

}  // namespace preserve::archive
