// Reading the audit trail event by event (its proofs: trail_evidence.cc).
#include "archive_impl.h"
#include "damage.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

Maintenance::Maintenance(Archive& archive) : impl_(archive.impl_.get()) {}

Status Maintenance::ScanAuditLog(std::uint64_t first_sequence, const std::function<bool(const AuditLogEvent&)>& visit,
                                 const std::function<void(const std::string&)>& unreadable) {
  const storage::ScanGapSink gaps = [&unreadable](const storage::ScanGap& gap) {
    unreadable(DescribeGap("audit events", gap, true));
  };
  return impl_->store->ScanAudit(
      first_sequence,
      [&visit](const storage::AuditEntry& entry) {
        // An event's stored bytes are chained and sealed: never rewritten,
        // they are shown leniently (unicode.h).
        std::string text = ToString(entry.event);
        const bool escaped = !IsUtf8(text);
        return visit(AuditLogEvent{entry.sequence, escaped ? EscapeInvalidUtf8(text) : std::move(text), escaped,
                                   entry.hash});
      },
      unreadable ? &gaps : nullptr);
}

Status Maintenance::RecordAccess(const std::vector<AccessEvent>& events) {
  if (!impl_->writable()) return Status::FailedPrecondition("the access trail is written by the store's writer");
  if (events.empty()) return Status::Ok();
  storage::WriteSet w;
  for (const AccessEvent& e : events) {
    std::vector<std::pair<std::string, std::string>> more;
    if (!e.package_id.empty()) more.emplace_back("package", e.package_id);
    w.AppendAudit(AuditEvent(*impl_->clock, "access",
                             {{"account", e.account}, {"operation", e.operation}, {"outcome", e.outcome},
                              {"remote", e.remote}},
                             more));
  }
  return impl_->store->Commit(std::move(w)).WithContext("recording the access trail");
}

}  // namespace preserve::archive
