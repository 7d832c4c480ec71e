// The revocation data ingests fetched online, kept in the store for the next
// run (issue 15). Private to archive/.
//
// Each item of a signature::RevocationCache (a CRL by distribution point, an
// OCSP response by responder and certificate) is a store setting under
// kRevocationDataPrefix + the hex SHA-256 of its key, so no column family is
// added: a store made before this opens as it did, and a build that knows
// nothing of these settings leaves them alone. A re-fetched item replaces the
// one under its key; an item no longer fresh when a run loads it is erased by
// that run's first write. The items are a cache: losing them costs a fetch.
//
// Value: version (1 byte, 1), the validation time it was fetched at (8 bytes,
// big-endian seconds since 1970, two's complement), the key's length (4
// bytes, big-endian), the key, the DER.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "preserve/signature/revocation_cache.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/storage/store.h"

namespace preserve::archive {

inline constexpr std::string_view kRevocationDataPrefix = "revocation/";

class KeptRevocationData {
 public:
  // For a run that fetches revocation data online (revocation.check and
  // .online): gives `revocation` a cache, unless it has one, holding what the
  // store keeps that is reusable at `now`. Otherwise changes nothing, and Put
  // puts nothing. Errors are the store's.
  static Result<KeptRevocationData> Load(const storage::Store& store, signature::RevocationOptions& revocation,
                                         TimePoint now);

  // Puts into `w` what the cache fetched since the last call and found
  // authentic, and erases the stale items found at Load (first call only).
  void Put(storage::WriteSet& w, TimePoint now);

  std::size_t loaded() const { return loaded_; }

 private:
  std::shared_ptr<signature::RevocationCache> cache_;
  std::chrono::seconds ocsp_max_age_{0};
  std::vector<std::string> stale_;  // setting names
  std::size_t loaded_ = 0;
};

// Encoding of one item (exposed for tests of old or damaged values).
Bytes EncodeKeptRevocationItem(const signature::RevocationCache::Item& item);
Result<signature::RevocationCache::Item> DecodeKeptRevocationItem(ByteView value);
std::string KeptRevocationSettingName(const std::string& key);

}  // namespace preserve::archive
