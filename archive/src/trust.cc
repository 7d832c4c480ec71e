// The signers' trust list, in the store's settings ("trust/signer/" + the
// certificate's SHA-256 in hex), so that a list change commits in the same
// write as the package or audit event it belongs with.
#include <algorithm>

#include <boost/json.hpp>

#include "trust.h"

#include "archive_impl.h"
#include "stored_json.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

std::string TrustKey(ByteView sha256) { return std::string(kSignerTrustPrefix) + ToHex(sha256); }

}  // namespace

Result<TrustListEntry> DecodeTrustEntry(std::string_view key, ByteView value) {
  auto bad = [&key](const std::string& why) {
    return Status::Corruption("trust list entry " + std::string(key) + ": " + why);
  };
  auto parsed = ParseStoredJson(std::string_view(reinterpret_cast<const char*>(value.data()), value.size()),
                                "trust list entry");
  if (!parsed.ok() || !parsed->is_object()) return bad("not a JSON object");
  const json::object& o = parsed->as_object();
  auto text = [&o](const char* name) -> std::string {
    const json::value* v = o.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  TrustListEntry entry;
  auto der = FromHex(text("certificate"));
  if (!der.ok() || der->empty()) return bad("no certificate");
  entry.certificate = std::move(der).value();
  if (key.substr(kSignerTrustPrefix.size()) != ToHex(Digest(HashAlgorithm::kSha256, entry.certificate)))
    return bad("its key is not the certificate's SHA-256");
  auto added = ParseUtcTime(text("added"));
  if (added.ok()) entry.added = *added;
  entry.added_by = text("by");
  entry.reason = text("reason");
  entry.subject = CertificateSubject(entry.certificate);
  entry.fingerprint = CertificateFingerprint(entry.certificate);
  return entry;
}

Result<std::vector<TrustListEntry>> LoadTrustList(const storage::Store& store) {
  std::vector<TrustListEntry> out;
  Status decoded = Status::Ok();
  PRESERVE_RETURN_IF_ERROR(store.ScanSettings(kSignerTrustPrefix, [&](std::string_view key, ByteView value) {
    auto entry = DecodeTrustEntry(key, value);
    if (!entry.ok()) {
      decoded = entry.status();
      return false;
    }
    out.push_back(std::move(entry).value());
    return true;
  }));
  PRESERVE_RETURN_IF_ERROR(decoded);
  return out;
}

void PutTrustAnchor(storage::WriteSet& w, const Clock& clock, const Bytes& der, const std::string& reason,
                    const std::string& actor) {
  const TimePoint now = clock.Now();
  json::object entry{{"certificate", ToHex(der)}, {"added", FormatUtcTime(now)}, {"by", actor}, {"reason", reason}};
  w.PutSetting(TrustKey(Digest(HashAlgorithm::kSha256, der)), ToBytes(SerializeForStore(entry)));
}

Result<RunTrust> RunTrust::Load(const storage::Store& store, const IngestOptions& given) {
  RunTrust trust;
  trust.options_ = given;
  trust.unlisted_ = given.trust_anchors;
  PRESERVE_ASSIGN_OR_RETURN(std::vector<TrustListEntry> listed, LoadTrustList(store));
  std::vector<Bytes>& anchors = trust.options_.trust_anchors;
  for (TrustListEntry& entry : listed) {
    std::erase(trust.unlisted_, entry.certificate);
    if (std::find(anchors.begin(), anchors.end(), entry.certificate) == anchors.end())
      anchors.push_back(std::move(entry.certificate));
  }
  return trust;
}

std::string RunTrust::ListAnchorsUsed(const IngestOutcome& outcome, const Clock& clock, storage::WriteSet& w) {
  std::string added;
  if (unlisted_.empty() || !outcome.accepted) return added;
  for (const auto& signature : outcome.signatures)
    for (const Bytes& cert : signature.report.certificates) {
      auto found = std::find(unlisted_.begin(), unlisted_.end(), cert);
      if (found == unlisted_.end()) continue;
      unlisted_.erase(found);
      PutTrustAnchor(w, clock, cert, "given with --trust when package " + outcome.package_id + " was ingested",
                     "ingest");
      added += (added.empty() ? "" : "; ") + CertificateSubject(cert) + " SHA-256 " +
               ToHex(Digest(HashAlgorithm::kSha256, cert));
    }
  return added;
}

Result<std::vector<TrustListEntry>> Catalogue::TrustList() const { return LoadTrustList(*impl_->store); }

Status Catalogue::AddTrustAnchor(const Bytes& der, const std::string& reason, const std::string& actor) {
  if (!impl_->writable()) return Status::FailedPrecondition("the store is open read-only");
  if (reason.empty()) return Status::InvalidArgument("a reason is required");
  if (CertificateSubject(der).empty()) return Status::InvalidArgument("not an X.509 certificate");
  const Bytes sha256 = Digest(HashAlgorithm::kSha256, der);
  auto existing = impl_->store->GetSetting(TrustKey(sha256));
  if (existing.ok())
    return Status::AlreadyExists(CertificateSubject(der) + " (SHA-256 " + CertificateFingerprint(der) +
                                 ") is already in the trust list");
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  storage::WriteSet w;
  PutTrustAnchor(w, *impl_->clock, der, reason, actor);
  w.AppendAudit(AuditEvent(*impl_->clock, "trust-add",
                           {{"subject", CertificateSubject(der)}, {"sha256", ToHex(sha256)}, {"by", actor},
                            {"reason", reason}}));
  return impl_->store->Commit(std::move(w));
}

Status Catalogue::RemoveTrustAnchor(const Bytes& sha256, const std::string& reason, const std::string& actor) {
  if (!impl_->writable()) return Status::FailedPrecondition("the store is open read-only");
  if (reason.empty()) return Status::InvalidArgument("a reason is required");
  auto existing = impl_->store->GetSetting(TrustKey(sha256));
  if (!existing.ok() && existing.status().code() == StatusCode::kNotFound)
    return Status::NotFound("no trust anchor with SHA-256 " + ToHex(sha256) + " is in the trust list");
  PRESERVE_RETURN_IF_ERROR(existing.status());
  PRESERVE_ASSIGN_OR_RETURN(TrustListEntry entry, DecodeTrustEntry(TrustKey(sha256), existing.value()));
  storage::WriteSet w;
  w.EraseSetting(TrustKey(sha256));
  w.AppendAudit(AuditEvent(*impl_->clock, "trust-remove",
                           {{"subject", entry.subject}, {"sha256", ToHex(sha256)}, {"by", actor}, {"reason", reason}}));
  return impl_->store->Commit(std::move(w));
}

}  // namespace preserve::archive
