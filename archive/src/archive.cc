#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "damage.h"
#include "lifecycle.h"
#include "search_index.h"
#include "stored_json.h"
#include "trust.h"
#include "preserve/audit/package_archive.h"
#include "preserve/package/manifest.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "preserve/util/fault_point.h"
#include "preserve/util/parallel.h"

namespace preserve::archive {

namespace json = boost::json;

std::filesystem::path DbDir(const std::filesystem::path& root) { return root / "db"; }
std::filesystem::path TsaDir(const std::filesystem::path& root) { return root / "tsa"; }

Result<std::string> NewId(const Clock& clock) {
  // RFC 9562 6.2 method 1: the 12 rand_a bits count ids within one
  // millisecond, so ids made by one process sort in creation order even when
  // the clock does not move (a simulated clock, or many ids per millisecond).
  static std::atomic<std::uint64_t> last{0};
  auto ms = static_cast<std::uint64_t>(clock.Now().time_since_epoch().count()) * 1000;
  std::uint64_t stamp = last.load();
  std::uint64_t next;
  do {
    next = std::max(ms << 12, stamp + 1);
  } while (!last.compare_exchange_weak(stamp, next));
  std::array<std::uint8_t, 16> b{};
  PRESERVE_RETURN_IF_ERROR(RandomBytes(b));
  std::uint64_t unix_ms = next >> 12;
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(unix_ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((next >> 8) & 0x0f));
  b[7] = static_cast<std::uint8_t>(next & 0xff);
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));
  std::string hex = ToHex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

Bytes AuditEvent(const Clock& clock, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  return AuditEvent(clock, type, fields, {});
}

Bytes AuditEvent(const Clock& clock, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, std::string>> fields,
                 const std::vector<std::pair<std::string, std::string>>& more) {
  json::object event{{"event", type}, {"time", FormatUtcTime(clock.Now())}};
  for (const auto& [key, value] : fields) event[key] = value;
  for (const auto& [key, value] : more) event[key] = value;
  return ToBytes(SerializeForStore(event));
}

Result<PackageRecord> Archive::Impl::LoadRecord(const std::string& id) const {
  PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetPackage(id));
  return DecodePackageRecord(bytes, *store);
}

Result<EvidenceSkeleton> Archive::Impl::LoadSkeleton(const std::string& id) const {
  return DecodeStoredSkeleton(id, store->GetEvidence(id));
}

Result<const BatchRecord*> Archive::Impl::LoadBatch(const std::string& batch_id, BatchCache& cache) const {
  {
    std::shared_lock<std::shared_mutex> lock(cache.mutex);
    auto found = cache.records.find(batch_id);
    if (found != cache.records.end()) return &found->second;
  }
  std::lock_guard<std::shared_mutex> lock(cache.mutex);
  auto found = cache.records.find(batch_id);
  if (found != cache.records.end()) return &found->second;
  PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetBatch(batch_id));
  PRESERVE_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatchRecord(bytes));
  return &cache.records.emplace(batch_id, std::move(batch)).first->second;
}

namespace {

// Where node `index` of `level` lies in a stored tree (records.h): its
// chunk, the chunk's key in BatchCache::tree_chunks, and its offset there.
struct NodePlace {
  std::uint32_t chunk;
  std::uint64_t key;
  std::size_t offset;
};
NodePlace PlaceOf(std::size_t level, std::size_t index, std::size_t node_size) {
  const auto chunk = static_cast<std::uint32_t>(index / kTreeChunkNodes);
  return {chunk, (std::uint64_t{static_cast<std::uint32_t>(level)} << 32) | chunk,
          (index % kTreeChunkNodes) * node_size};
}

// Node `index` of `level` of a batch's stored hash tree (records.h).
Result<Bytes> TreeNode(const storage::Store& store, const BatchRecord& batch, std::size_t level, std::size_t index,
                       BatchCache& cache) {
  const std::size_t size = HashAlgorithmSize(batch.hash_algorithm);
  const auto [chunk, key, offset] = PlaceOf(level, index, size);
  // Copied out under the lock: another thread may drop the chunk once it is released.
  auto node_of = [&](const Bytes& nodes) -> Result<Bytes> {
    if (nodes.size() < offset + size)
      return Status::Corruption("hash tree of batch " + batch.id + ": level " + std::to_string(level) +
                                " has no node " + std::to_string(index));
    return Bytes(nodes.begin() + static_cast<std::ptrdiff_t>(offset),
                 nodes.begin() + static_cast<std::ptrdiff_t>(offset + size));
  };
  {
    std::shared_lock<std::shared_mutex> lock(cache.mutex);
    if (auto tree = cache.tree_chunks.find(batch.id); tree != cache.tree_chunks.end())
      if (auto found = tree->second.find(key); found != tree->second.end()) return node_of(found->second);
  }
  // Read outside the lock; a thread that read the same chunk meanwhile keeps its copy.
  PRESERVE_ASSIGN_OR_RETURN(Bytes read, store.GetTreeNodes(batch.id, static_cast<std::uint32_t>(level), chunk));
  std::lock_guard<std::shared_mutex> lock(cache.mutex);
  // Full: everything goes, rather than the least recently used. What is
  // dropped is mostly lower levels already passed; the few upper chunks every
  // path needs are read again at once.
  if (cache.tree_chunk_bytes + read.size() > kTreeChunkCacheBytes) cache.DropTreeChunks();
  auto [cached, added] = cache.tree_chunks.try_emplace(batch.id).first->second.try_emplace(key, std::move(read));
  if (added) cache.tree_chunk_bytes += cached->second.size();
  return node_of(cached->second);
}

// The sibling of leaf `leaf`'s ancestor on each level where it has one (a
// promoted node has none): the reduced tree's lists after the first, each a
// list of one value, appended to `parts`. The nodes cached are copied under
// one lock, not one per level: a renewal gathers a million of these on
// every core.
Status AppendSiblingPath(const storage::Store& store, const BatchRecord& batch, std::size_t leaf, BatchCache& cache,
                         SequenceParts& parts) {
  struct Node {
    std::size_t level, index;
  };
  thread_local std::vector<Node> path;
  thread_local std::vector<std::size_t> uncached;
  path.clear();
  uncached.clear();
  std::size_t position = leaf;
  for (std::size_t count = batch.leaves, level = 0; count > 1; count = (count + 1) / 2, ++level, position /= 2)
    if ((position ^ 1) < count) path.push_back({level, position ^ 1});
  const std::size_t size = HashAlgorithmSize(batch.hash_algorithm);
  const std::size_t first = parts.bytes.size();
  parts.bytes.resize(first + path.size() * size);  // each node's place, in order
  {
    std::shared_lock<std::shared_mutex> lock(cache.mutex);
    const auto tree = cache.tree_chunks.find(batch.id);
    for (std::size_t i = 0; i < path.size(); ++i) {
      const auto [chunk, key, offset] = PlaceOf(path[i].level, path[i].index, size);
      const Bytes* nodes = nullptr;
      if (tree != cache.tree_chunks.end())
        if (auto found = tree->second.find(key); found != tree->second.end()) nodes = &found->second;
      if (nodes == nullptr || nodes->size() < offset + size) {
        uncached.push_back(i);  // TreeNode reads it, or says why it cannot
        continue;
      }
      std::copy_n(nodes->begin() + static_cast<std::ptrdiff_t>(offset), size,
                  parts.bytes.begin() + static_cast<std::ptrdiff_t>(first + i * size));
    }
  }
  for (const std::size_t i : uncached) {
    PRESERVE_ASSIGN_OR_RETURN(const Bytes node, TreeNode(store, batch, path[i].level, path[i].index, cache));
    std::copy_n(node.begin(), size, parts.bytes.begin() + static_cast<std::ptrdiff_t>(first + i * size));
  }
  for (std::size_t i = 0; i < path.size(); ++i) {
    parts.value_ends.push_back(first + (i + 1) * size);
    parts.list_ends.push_back(parts.value_ends.size());
  }
  return Status::Ok();
}

// Sorts values [begin, end) of `parts`, the last ones it holds, in
// std::sort's order of Bytes (rule 4): a group's few members.
void SortLastValues(SequenceParts& parts, std::size_t begin) {
  const std::size_t end = parts.value_ends.size();
  thread_local std::vector<ByteView> sorted;
  thread_local Bytes copy;
  sorted.clear();
  for (std::size_t v = begin; v < end; ++v) sorted.push_back(parts.Value(v));
  std::sort(sorted.begin(), sorted.end(), [](ByteView a, ByteView b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  });
  const std::size_t from = begin == 0 ? 0 : parts.value_ends[begin - 1];
  copy.clear();
  for (ByteView value : sorted) copy.insert(copy.end(), value.begin(), value.end());
  std::copy(copy.begin(), copy.end(), parts.bytes.begin() + static_cast<std::ptrdiff_t>(from));
  for (std::size_t v = begin, at = from; v < end; ++v) parts.value_ends[v] = at += sorted[v - begin].size();
}

// The digest under `alg` of batch `batch`'s token: a timestamp renewal's
// group (rule 11), the same for every subject of the batch, worked out once.
Result<Bytes> TokenDigest(const BatchRecord& batch, HashAlgorithm alg, BatchCache& cache) {
  const std::string key = batch.id + '/' + std::string(HashAlgorithmName(alg));
  {
    std::shared_lock<std::shared_mutex> lock(cache.mutex);
    if (auto found = cache.token_digests.find(key); found != cache.token_digests.end()) return found->second;
  }
  Bytes digest = Digest(alg, batch.token);
  std::lock_guard<std::shared_mutex> lock(cache.mutex);
  return cache.token_digests.try_emplace(key, std::move(digest)).first->second;
}

}  // namespace

void SequenceParts::Clear() {
  bytes.clear();
  value_ends.clear();
  list_ends.clear();
  timestamps.clear();
  chain_sizes.clear();
}

void SequenceParts::AddValue(ByteView value) {
  bytes.insert(bytes.end(), value.begin(), value.end());
  value_ends.push_back(bytes.size());
}

ByteView SequenceParts::Value(std::size_t v) const {
  const std::size_t begin = v == 0 ? 0 : value_ends[v - 1];
  return ByteView(bytes).subspan(begin, value_ends[v] - begin);
}

Status Archive::Impl::GatherSequence(const PackageRecord& package, const EvidenceSkeleton& skeleton,
                                     BatchCache& cache, SequenceParts& parts) const {
  using Members = EvidenceSkeleton::Ats::Members;
  parts.Clear();
  for (const auto& chain : skeleton.chains) {
    for (std::size_t k = 0; k < chain.size(); ++k) {
      const EvidenceSkeleton::Ats& ats = chain[k];
      PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* batch, LoadBatch(ats.batch_id, cache));
      SequenceParts::Ats& out = parts.timestamps.emplace_back();
      out.token = batch->token;
      if (ats.leaf) {
        if (*ats.leaf >= batch->leaves)
          return Status::Corruption("evidence of package " + package.id + ": leaf " + std::to_string(*ats.leaf) +
                                    " is outside batch " + batch->id + "'s tree");
        // List 0: the group's member hashes, sorted (rule 4).
        const std::size_t members_begin = parts.value_ends.size();
        if (ats.members_source == Members::kStored) {
          for (const Bytes& member : ats.members) parts.AddValue(member);
        } else if (ats.members_source == Members::kDataObjects) {
          if (ats.digest_algorithm == kContentHash) {  // as stored in the record: nothing to read
            for (const auto& o : package.objects) parts.AddValue(o.sha256);
          } else {
            PRESERVE_ASSIGN_OR_RETURN(const std::vector<Bytes> hashes, DataHashes(package, ats.digest_algorithm));
            for (const Bytes& h : hashes) parts.AddValue(h);
          }
        } else {  // the tokens of the chain's ATSs before this one (rule 11)
          for (std::size_t earlier = 0; earlier < k; ++earlier) {
            PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* sealed, LoadBatch(chain[earlier].batch_id, cache));
            PRESERVE_ASSIGN_OR_RETURN(const Bytes digest, TokenDigest(*sealed, ats.digest_algorithm, cache));
            parts.AddValue(digest);
          }
        }
        SortLastValues(parts, members_begin);
        parts.list_ends.push_back(parts.value_ends.size());
        PRESERVE_RETURN_IF_ERROR(AppendSiblingPath(*store, *batch, *ats.leaf, cache, parts));
        out.digest_algorithm = ats.digest_algorithm;
      }
      out.lists_end = parts.list_ends.size();
    }
    parts.chain_sizes.push_back(chain.size());
  }
  return Status::Ok();
}

Result<timestamp::EvidenceRecord> Archive::Impl::Assemble(const PackageRecord& package,
                                                          const EvidenceSkeleton& skeleton, BatchCache& cache) const {
  SequenceParts parts;
  PRESERVE_RETURN_IF_ERROR(GatherSequence(package, skeleton, cache, parts));
  timestamp::EvidenceRecord record;
  record.digest_algorithms = skeleton.digest_algorithms;
  std::size_t next = 0;
  for (const std::size_t chain_size : parts.chain_sizes) {
    timestamp::ArchiveTimeStampChain& chain = record.sequence.emplace_back();
    for (std::size_t a = 0; a < chain_size; ++a, ++next) {
      const SequenceParts::Ats& ats = parts.timestamps[next];
      timestamp::ArchiveTimeStamp& out = chain.emplace_back();
      out.time_stamp.assign(ats.token.begin(), ats.token.end());
      if (!ats.digest_algorithm) continue;
      out.digest_algorithm = ats.digest_algorithm;
      timestamp::ReducedHashtree& tree = out.reduced_hashtree.emplace();
      for (std::size_t l = parts.ListsBegin(next); l < ats.lists_end; ++l) {
        timestamp::PartialHashtree& list = tree.emplace_back();
        for (std::size_t v = parts.ValuesBegin(l); v < parts.list_ends[l]; ++v) {
          const ByteView value = parts.Value(v);
          list.emplace_back(value.begin(), value.end());
        }
      }
    }
  }
  return record;
}

Status Archive::Impl::AppendSequence(const PackageRecord& package, const EvidenceSkeleton& skeleton,
                                     BatchCache& cache, SequenceParts& parts, Bytes& out) const {
  PRESERVE_RETURN_IF_ERROR(GatherSequence(package, skeleton, cache, parts));
  // Views of the parts, each vector sized before any view into it is taken.
  thread_local std::vector<ByteView> values;
  thread_local std::vector<std::span<const ByteView>> lists;
  thread_local std::vector<timestamp::ArchiveTimeStampView> timestamps;
  values.resize(parts.value_ends.size());
  lists.resize(parts.list_ends.size());
  timestamps.resize(parts.timestamps.size());
  for (std::size_t v = 0; v < values.size(); ++v) values[v] = parts.Value(v);
  for (std::size_t l = 0; l < lists.size(); ++l)
    lists[l] = std::span<const ByteView>(values).subspan(parts.ValuesBegin(l), parts.list_ends[l] - parts.ValuesBegin(l));
  for (std::size_t a = 0; a < timestamps.size(); ++a) {
    const SequenceParts::Ats& ats = parts.timestamps[a];
    timestamps[a].digest_algorithm = ats.digest_algorithm;
    timestamps[a].time_stamp = ats.token;
    timestamps[a].reduced_hashtree.reset();
    if (ats.digest_algorithm)
      timestamps[a].reduced_hashtree =
          std::span<const std::span<const ByteView>>(lists).subspan(parts.ListsBegin(a), ats.lists_end - parts.ListsBegin(a));
  }
  return timestamp::AppendArchiveTimeStampSequence(timestamps, parts.chain_sizes, out);
}

std::vector<Bytes> Archive::Impl::TsaTrustAnchors() const {
  std::vector<Bytes> anchors = {ca_certificate};
  for (const auto& external_tsa : config.external_tsas)
    anchors.insert(anchors.end(), external_tsa.tsa_trust_anchors.begin(), external_tsa.tsa_trust_anchors.end());
  return anchors;
}

Result<std::vector<Bytes>> Archive::Impl::DataHashes(const PackageRecord& record, HashAlgorithm alg) const {
  std::vector<Bytes> out;
  out.reserve(record.objects.size());
  // A deleted package's content is gone; its tombstone kept the digests (lifecycle.h).
  if (record.state == PackageState::kDeleted && alg != kContentHash) return TombstoneHashes(*store, record, alg);
  for (const auto& o : record.objects) {
    if (alg == kContentHash) {
      out.push_back(o.sha256);
      continue;
    }
    PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> digest, DigestContent(o.sha256, {alg}));
    out.push_back(std::move(digest.front()));
  }
  return out;
}

Result<CheckedContent> Archive::Impl::HashCheckedContent(std::vector<storage::ContentDigest> sha256s,
                                                                        HashAlgorithm alg) const {
  CheckedContent out;
  out.sha256 = std::move(sha256s);
  const std::size_t n = out.sha256.size();
  if (n >= std::numeric_limits<std::uint32_t>::max())
    return Status::InvalidArgument("a renewal cannot re-read more than 2^32 objects at once");
  out.IndexPrefixes();
  const std::size_t size = HashAlgorithmSize(alg);
  out.digests.resize(n * size);
  std::mutex damage_mutex;  // damage is rare: one lock for every thread
  auto damaged = [&](std::size_t i, std::string why) {
    std::lock_guard lock(damage_mutex);
    out.damage[i] = std::move(why);
  };
  // One cursor per core over a stretch of the sorted keys; an object comes in
  // one piece, or in its chunks one after another.
  constexpr std::size_t kMinObjectsPerThread = 4096;
  const Status read = ParallelRanges(n, kMinObjectsPerThread, [&](std::size_t begin, std::size_t end) -> Status {
    ObjectHashing hashing(alg, [&](std::size_t i, ByteView actual, ByteView digest) {
      if (!std::equal(actual.begin(), actual.end(), out.sha256[i].begin(), out.sha256[i].end()))
        damaged(i, "does not match its SHA-256 (run 'preserve fixity')");
      else
        std::copy(digest.begin(), digest.end(), out.digests.begin() + static_cast<std::ptrdiff_t>(i * size));
    });
    PRESERVE_RETURN_IF_ERROR(store->ReadContents(
        std::span<const storage::ContentDigest>(out.sha256).subspan(begin, end - begin),
        [&](std::size_t i, ByteView piece) {
          hashing.Add(begin + i, piece);
          return Status::Ok();
        },
        [&](std::size_t i, Status why) {
          hashing.Abandon(begin + i);  // chunks read before one was missing
          damaged(begin + i, why.message());
          return Status::Ok();
        }));
    hashing.Flush();
    return Status::Ok();
  });
  if (!read.ok()) return read;
  return out;
}

Result<std::vector<Bytes>> Archive::Impl::DigestContent(ByteView sha256, const std::vector<HashAlgorithm>& algs,
                                                        std::uint64_t* size) const {
  std::vector<std::unique_ptr<Hasher>> hashers;
  for (HashAlgorithm alg : algs) hashers.push_back(std::make_unique<Hasher>(alg));
  std::uint64_t read = 0;
  PRESERVE_RETURN_IF_ERROR(store->ReadContent(sha256, [&](ByteView piece) {
    for (auto& h : hashers) h->Update(piece);
    read += piece.size();
    return Status::Ok();
  }));
  if (size != nullptr) *size = read;
  std::vector<Bytes> out;
  for (auto& h : hashers) out.push_back(h->Finish());
  return out;
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}


Archive::Archive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Archive::~Archive() = default;

constexpr const char* kInitStagingDir = ".init";

// Init builds the whole store in a staging directory inside `root`, then moves
// its parts into place, the database last: a store exists exactly when db/ does,
// so an init killed at any moment leaves either a whole store or leftovers that
// the next init removes (they are never mistaken for a store).
namespace {

// The object store a new store's content goes to, checked to answer: its
// bucket is listed (credentials and bucket), and one listing is enough.
Result<std::unique_ptr<storage::ObjectStore>> OpenObjectStore(const storage::S3Location& location) {
  PRESERVE_ASSIGN_OR_RETURN(auto objects, storage::OpenS3ObjectStore(location));
  PRESERVE_RETURN_IF_ERROR(objects->List([](ByteView, std::uint64_t) { return false; })
                               .WithContext("the content location does not answer"));
  return objects;
}

}  // namespace

Status Archive::Init(const std::filesystem::path& root, const InitOptions& options, const Clock& clock) {
  std::error_code ec;
  if (std::filesystem::exists(DbDir(root), ec)) return Status::AlreadyExists("a store already exists at " + root.string());
  bool made_root = !std::filesystem::exists(root, ec);
  const std::filesystem::path staging = root / kInitStagingDir;
  if (std::filesystem::exists(staging, ec)) {
    // An interrupted init: its staging directory goes last, so what it moved
    // into place beside it is its own, and no store.
    for (const auto& leftover : {staging, TsaDir(root), PolicyPath(root), ConfigPath(root)})
      std::filesystem::remove_all(leftover, ec);
  } else if (std::filesystem::exists(TsaDir(root), ec)) {
    // Keys with no database beside them (a store being restored, a volume not
    // mounted): never init over them.
    return Status::AlreadyExists("a TSA key directory exists at " + TsaDir(root).string() + " without a database");
  }
  std::filesystem::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging.string() + ": " + ec.message());
  std::vector<std::filesystem::path> published;  // moved into place so far
  auto undo = [&](Status s) {
    std::filesystem::remove_all(staging, ec);
    for (const auto& part : published) std::filesystem::remove_all(part, ec);
    if (made_root) std::filesystem::remove(root, ec);
    return s;
  };
  auto policy = ResolvePolicy(options.policy);
  if (!policy.ok()) return undo(policy.status());
  StoreConfig config;
  config.renewal_margin = options.renewal_margin;
  config.tsa_key = options.tsa.key_type;
  config.tsa_validity_years = options.tsa.tsa_validity_years;
  config.content = options.content;
  std::shared_ptr<storage::ObjectStore> objects;
  if (options.content) {
    auto opened = OpenObjectStore(*options.content);
    if (!opened.ok()) return undo(opened.status());
    objects = std::move(opened).value();
  }
  if (Status s = SavePolicy(staging, policy.value()); !s.ok()) return undo(s);
  if (Status s = SaveStoreConfig(staging, config); !s.ok()) return undo(s);
  if (Status s = timestamp::CreateEmbeddedTsa(TsaDir(staging), options.tsa, clock); !s.ok()) return undo(s);
  {
    auto store = storage::Store::Open(DbDir(staging), {.create_if_missing = true, .object_store = objects});
    if (!store.ok()) return undo(store.status());
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(clock, "init", {{"producer", kProducer}, {"policy", policy->name()}}));
    auto tsa_certificate = LoadCertificates(TsaDir(staging) / "tsa.pem");
    if (!tsa_certificate.ok()) return undo(tsa_certificate.status());
    w.PutSetting(kActiveTsaSetting, Digest(HashAlgorithm::kSha256, tsa_certificate->front()));
    PutSearchIndexComplete(w);  // an empty store's index is complete: ingest keeps it so
    if (Status s = store.value()->Commit(std::move(w)); !s.ok()) return undo(s);
  }  // closed (and flushed) before it moves
  PRESERVE_FAULT_POINT("init.before_publish");
  for (const auto& [from, to] : {std::pair{PolicyPath(staging), PolicyPath(root)},
                                 {ConfigPath(staging), ConfigPath(root)},
                                 {TsaDir(staging), TsaDir(root)},
                                 {DbDir(staging), DbDir(root)}}) {
    std::filesystem::rename(from, to, ec);
    if (ec) return undo(Status::IOError("cannot move " + from.string() + " to " + to.string() + ": " + ec.message()));
    published.push_back(to);
    PRESERVE_FAULT_POINT("init.publishing");
  }
  if (Status s = SyncDirectory(root); !s.ok()) return s;
  std::filesystem::remove(staging, ec);
  return Status::Ok();
}

Result<std::unique_ptr<Archive>> Archive::Open(const std::filesystem::path& root, const Clock& clock,
                                               const OpenOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(DbDir(root), ec))
    return Status::NotFound("no store at " + root.string() + " (make one with 'preserve init --store " +
                            root.string() + "')");
  auto impl = std::make_unique<Impl>();
  impl->root = root;
  impl->clock = &clock;
  impl->mode = options.mode;
  PRESERVE_ASSIGN_OR_RETURN(impl->config, LoadStoreConfig(root));
  PRESERVE_ASSIGN_OR_RETURN(impl->policy, LoadPolicy(root));
  if (options.content_chunk_size != 0) impl->content_chunk_size = options.content_chunk_size;
  std::shared_ptr<storage::ObjectStore> objects;
  if (impl->config.content) {
    PRESERVE_ASSIGN_OR_RETURN(auto opened, storage::OpenS3ObjectStore(*impl->config.content));
    objects = std::move(opened);
  }
  PRESERVE_ASSIGN_OR_RETURN(impl->store,
                            storage::Store::Open(DbDir(root), {.read_only = !impl->writable(),
                                                               .content_chunk_size = impl->content_chunk_size,
                                                               .block_cache_bytes = impl->config.cache_mib << 20,
                                                               .holder = options.holder,
                                                               .object_store = std::move(objects)}));
  PRESERVE_ASSIGN_OR_RETURN(auto ca, LoadCertificates(LocalCaPath(root)));
  impl->ca_certificate = ca.front();
  if (impl->writable()) {
    // An init killed after publishing db/ leaves its emptied staging directory.
    std::filesystem::remove_all(root / kInitStagingDir, ec);
    PRESERVE_ASSIGN_OR_RETURN(impl->tsa, timestamp::EmbeddedTsa::Open(TsaDir(root), clock));
    PRESERVE_RETURN_IF_ERROR(impl->RecordInterruptedTsaRollover());
    if (!impl->config.external_tsas.empty()) {
      PRESERVE_ASSIGN_OR_RETURN(impl->external, timestamp::FailoverTimeStamper::Create(impl->config.external_tsas, clock));
    }
  }
  return std::unique_ptr<Archive>(new Archive(std::move(impl)));
}

bool Archive::writable() const { return impl_->writable(); }

const Bytes& Archive::tsa_trust_anchor() const { return impl_->ca_certificate; }

std::filesystem::path Archive::LocalCaPath(const std::filesystem::path& root) { return TsaDir(root) / "ca.pem"; }

const policy::AlgorithmCatalogue& Archive::policy() const { return impl_->policy; }

}  // namespace preserve::archive
