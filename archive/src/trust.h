// The signers' trust list as stored (trust.cc). Private to archive/.
#pragma once

#include <string>
#include <vector>

#include "preserve/archive/catalogue.h"
#include "preserve/archive/ingestion.h"
#include "preserve/storage/store.h"

namespace preserve::archive {

// Trust list entries are settings under this prefix, then the certificate's SHA-256 in hex.
inline constexpr std::string_view kSignerTrustPrefix = "trust/signer/";

// One stored entry; kCorruption naming `key` when it does not read.
Result<TrustListEntry> DecodeTrustEntry(std::string_view key, ByteView value);

// The store's trust list, in fingerprint order.
Result<std::vector<TrustListEntry>> LoadTrustList(const storage::Store& store);

// Puts `der` on the trust list in `w`; the caller records the audit event
// that says so (its own "trust-add", or the ingest event it belongs with).
void PutTrustAnchor(storage::WriteSet& w, const Clock& clock, const Bytes& der, const std::string& reason,
                    const std::string& actor);

// The trust one run of ingests validates with: the store's trust list and
// the anchors given for the run. A given anchor joins the list in the write
// of the first package accepted on it (whose ingest event names it), so
// that verification later need not be told which anchor a document was
// accepted on.
class RunTrust {
 public:
  static Result<RunTrust> Load(const storage::Store& store, const IngestOptions& given);
  // The given options with the trust list's anchors added.
  const IngestOptions& options() const { return options_; }
  // Puts on the list, in `w`, the given anchors that `outcome`'s signatures
  // rely on; returns them for the package's audit event ("" when none).
  std::string ListAnchorsUsed(const IngestOutcome& outcome, const Clock& clock, storage::WriteSet& w);

 private:
  IngestOptions options_;
  std::vector<Bytes> unlisted_;  // given, not yet on the list
};

}  // namespace preserve::archive
