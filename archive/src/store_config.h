// A store's settings, kept beside its database as config.json, and its
// algorithm policy, kept as policy.json (a catalogue file, see
// timestamp/algorithm_catalogue.h). Private to archive/.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "preserve/archive/jobs.h"
#include "preserve/policy/algorithm_catalogue.h"
#include "preserve/storage/object_store.h"
#include "preserve/storage/store.h"
#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/http_tsa.h"

namespace preserve::archive {

struct StoreConfig {
  // Renewal is due this long before anything the newest time-stamp relies on
  // ends. It must exceed the interval between renewal runs.
  std::chrono::days renewal_margin{180};
  // Key type of new embedded-TSA keys, while the policy allows it.
  timestamp::TsaKeyType tsa_key = timestamp::TsaKeyType::kEcdsaP256;
  int tsa_validity_years = 10;
  // External RFC 3161 TSAs in priority order. When any is configured, sealing
  // and renewal use them (with failover) instead of the embedded TSA.
  std::vector<timestamp::HttpTsaConfig> external_tsas;
  // How often the scheduled jobs run (jobs.h), in `preserve serve` and `preserve jobs run`.
  JobSchedule jobs;
  // A seal or renewal batch (one time-stamp) commits its new evidence this
  // many packages at a time, and renewal reads the schedule this many entries
  // at a time, so that memory does not grow with the batch or the holdings
  // (sealing.cc says how a crash between two commits ends). Tests shrink it
  // to crash between commits of a few packages. 16384: at a million
  // packages, a hash-tree renewal's commits of 65536 held 200 MB more at
  // their peak, for no less CPU (content is re-read per range, not per commit).
  std::size_t commit_subjects = 16384;
  // A hash-tree renewal re-reads the content of its batch a range of the key
  // space at a time, each range this many objects or so: it holds about 80
  // bytes an object of a range (sealing.cc; at most 256 ranges, each a
  // temporary file). Tests shrink it to cut a renewal of a few packages into
  // several ranges.
  std::size_t renewal_objects_per_pass = std::size_t{1} << 20;
  // RocksDB's block cache (storage::StoreOptions::block_cache_bytes), MiB:
  // with the tables' index and filter blocks in it, the store's memory for
  // reading stays this, however many packages it holds.
  std::size_t cache_mib = storage::kDefaultBlockCacheBytes >> 20;
  // Where the data objects' bytes live: unset, in the RocksDB database (the
  // default); else in this S3 bucket (storage/object_store.h). Fixed at init:
  // a store's content does not move between the two.
  std::optional<storage::S3Location> content;
};

std::filesystem::path ConfigPath(const std::filesystem::path& root);
std::filesystem::path PolicyPath(const std::filesystem::path& root);

// config.json's keys (README, "Configuration"): renewal_margin_days,
// tsa_key, tsa_validity_years, tsas, a list of objects with the keys of
// timestamp::HttpTsaConfig (url and trust required), and jobs, an object with
// the keys of JobSchedule: seal_every, renew_every, fixity_every and
// retry_after, each a duration "N" + s, m, h or d ("60s", "24h", "7d"), and
// fixity_sample, a fraction in (0, 1]. renew_every must be shorter than the
// renewal margin (else evidence could weaken between two runs); and
// commit_subjects, packages per commit of a seal or renewal batch;
// renewal_objects_per_pass, objects per content pass of a hash-tree renewal;
// cache_mib, RocksDB's block cache in MiB; and
// content, an object: {"kind": "rocksdb"} (the default) or {"kind": "s3",
// "bucket" (required), "prefix", "endpoint" (required, http(s)://host[:port]),
// "region" (default us-east-1), "path_style" (default true), "lock_mode"
// (COMPLIANCE, the default, GOVERNANCE or NONE), "credentials_file" (a file
// of AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines readable by
// its owner only; absent: those environment variables), "timeout_seconds"
// (default 30), "part_size_mib" (5 to 512, default 16)}. Strict: a syntax error
// names its line and column and what was expected; an unknown or repeated key
// (a misspelling), a value of the wrong type or out of range names the key and
// its line. kInvalidArgument, the message starting with config.json's path.
// Relative paths are relative to `root`; the TSAs' trust files are read.
Result<StoreConfig> ParseStoreConfig(std::string_view text, const std::filesystem::path& root);
Result<StoreConfig> LoadStoreConfig(const std::filesystem::path& root);  // defaults when absent
Status SaveStoreConfig(const std::filesystem::path& root, const StoreConfig& config);

// The catalogue in force: policy.json, or the built-in ETSI profile when absent.
Result<policy::AlgorithmCatalogue> LoadPolicy(const std::filesystem::path& root);
Status SavePolicy(const std::filesystem::path& root, const policy::AlgorithmCatalogue& catalogue);
// A built-in profile by name (etsi, sogis, bsi), else a catalogue file.
Result<policy::AlgorithmCatalogue> ResolvePolicy(const std::string& profile_or_file);

}  // namespace preserve::archive
