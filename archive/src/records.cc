#include "records.h"

#include <chrono>
#include <cstdint>

#include <boost/json.hpp>

#include "stored_json.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

std::string_view Text(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

Bytes Serialize(const json::value& v) { return ToBytes(SerializeForStore(v)); }

Result<json::object> ParseObject(ByteView bytes, const char* what) {
  auto v = ParseStoredJson(Text(bytes), what);
  if (!v.ok() || !v->is_object()) return Status::Corruption(std::string(what) + " is not a JSON object");
  return std::move(v->as_object());
}

// Reads a field, turning Boost.JSON's exceptions for missing or mistyped
// fields into a Status at this edge.
template <typename Fn>
auto Guard(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": " + e.what());
  }
}

Result<Bytes> HexField(const json::object& o, std::string_view key) {
  return FromHex(std::string_view(o.at(key).as_string()));
}

Result<HashAlgorithm> AlgorithmField(const json::object& o, std::string_view key) {
  return HashAlgorithmFromName(std::string_view(o.at(key).as_string()));
}

}  // namespace

std::string_view PackageStateName(PackageState state) {
  switch (state) {
    case PackageState::kQueued: return "queued";
    case PackageState::kSealed: return "sealed";
    case PackageState::kDeleted: return "deleted";
  }
  return "";
}

std::optional<PackageState> PackageStateFromName(std::string_view name) {
  for (PackageState state : {PackageState::kQueued, PackageState::kSealed, PackageState::kDeleted})
    if (PackageStateName(state) == name) return state;
  return std::nullopt;
}

Bytes EncodePackageRecord(const PackageRecord& r) {
  json::array objects;
  for (const auto& o : r.objects)
    objects.push_back(json::object{{"path", o.path}, {"sha256", ToHex(o.sha256)}, {"size", o.size}});
  json::object root{{"id", r.id},
                    {"version", r.version},
                    {"created", FormatUtcTime(r.created)},
                    {"objects", std::move(objects)}};
  if (r.state == PackageState::kDeleted) root["state"] = PackageStateName(PackageState::kDeleted);
  return Serialize(root);
}

Result<PackageRecord> DecodeStoredPackageRecord(ByteView bytes) {
  return Guard("package record", [&]() -> Result<PackageRecord> {
    // Sealing decodes a million of these: the parse allocates from the stack
    // (and the heap only beyond it), not node by node.
    unsigned char buffer[4096];
    json::monotonic_resource resource(buffer, sizeof buffer);
    auto parsed = ParseStoredJson(Text(bytes), "package record", nullptr, &resource);
    if (!parsed.ok() || !parsed->is_object()) return Status::Corruption("package record is not a JSON object");
    const json::object& o = parsed->as_object();
    PackageRecord r;
    r.id = std::string(o.at("id").as_string());
    r.version = static_cast<std::uint32_t>(o.at("version").to_number<std::uint64_t>());
    PRESERVE_ASSIGN_OR_RETURN(r.created, ParseUtcTime(std::string_view(o.at("created").as_string())));
    r.state = PackageState::kQueued;
    if (const auto* state = o.if_contains("state")) {
      // Only a tombstone stores its state.
      if (PackageStateFromName(std::string_view(state->as_string())) != PackageState::kDeleted)
        return Status::Corruption("package record: unknown state '" + std::string(state->as_string()) + "'");
      r.state = PackageState::kDeleted;
    }
    for (const auto& item : o.at("objects").as_array()) {
      const auto& obj = item.as_object();
      PackageRecord::Object entry;
      entry.path = std::string(obj.at("path").as_string());
      PRESERVE_ASSIGN_OR_RETURN(entry.sha256, HexField(obj, "sha256"));
      entry.size = obj.at("size").to_number<std::uint64_t>();
      r.objects.push_back(std::move(entry));
    }
    return r;
  });
}

namespace {

// A stored record's state and renewal date, from its evidence.
Result<PackageRecord> WithEvidence(PackageRecord r, const Result<Bytes>& evidence, EvidenceSkeleton* skeleton) {
  if (!evidence.ok() && evidence.status().code() == StatusCode::kNotFound) return r;
  if (!evidence.ok()) return evidence.status();
  PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton decoded, DecodeEvidenceSkeleton(evidence.value()));
  if (r.state != PackageState::kDeleted) r.state = PackageState::kSealed;
  r.next_renewal = decoded.next_renewal;
  if (skeleton != nullptr) *skeleton = std::move(decoded);
  return r;
}

}  // namespace

Result<PackageRecord> DecodePackageRecord(ByteView bytes, const storage::Store& store) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord r, DecodeStoredPackageRecord(bytes));
  auto evidence = store.GetEvidence(r.id);
  return WithEvidence(std::move(r), evidence, nullptr);
}

Result<PackageRecord> DecodePackageRecord(ByteView bytes, const Result<Bytes>& evidence, EvidenceSkeleton* skeleton) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord r, DecodeStoredPackageRecord(bytes));
  return WithEvidence(std::move(r), evidence, skeleton);
}

// The skeleton is the one record written per package per seal and renewal (a
// million at a time), so it is binary and small: the reduced trees are not in
// it (records.h). Layout, integers big-endian:
//   u8 version (2, or 3 when lapsed records follow)
//   u64 next renewal (seconds since 1970)
//   chains: u8 count, then each digest algorithm as u8 length + name;
//     u32 chains; per chain u32 ATSs; per ATS:
//     u8 length + algorithm name, u8 length + batch id,
//     u8 0 (no reduced tree) or 1, then u32 leaf position and u8 members
//     source; for a stored one, u32 values, each u16 length + bytes
//   version 3 only: u32 lapsed records; each u64 lapsed at, u64 restarted
//     at, u32 length + what ended, u32 length + by, u32 length + reason, then
//     its chains as above
namespace {

constexpr std::uint8_t kSkeletonVersion = 2;
constexpr std::uint8_t kSkeletonWithLapsedVersion = 3;

class SkeletonWriter {
 public:
  explicit SkeletonWriter(Bytes& out) : out_(out) {}
  void U8(std::size_t v) { out_.push_back(static_cast<std::uint8_t>(v)); }
  void U16(std::size_t v) {
    U8(v >> 8);
    U8(v & 0xff);
  }
  void U32(std::size_t v) {
    U16(v >> 16);
    U16(v & 0xffff);
  }
  void U64(std::uint64_t v) {
    U32(static_cast<std::size_t>(v >> 32));
    U32(static_cast<std::size_t>(v & 0xffffffff));
  }
  void Short(std::string_view text) {
    U8(text.size());
    out_.insert(out_.end(), text.begin(), text.end());
  }
  void Value(ByteView v) {
    U16(v.size());
    out_.insert(out_.end(), v.begin(), v.end());
  }
  void Long(std::string_view text) {
    U32(text.size());
    out_.insert(out_.end(), text.begin(), text.end());
  }

 private:
  Bytes& out_;
};

// Reads fields in order; any read past the end marks the record truncated.
class SkeletonReader {
 public:
  explicit SkeletonReader(ByteView in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t U8() { return Take(1) ? in_[pos_ - 1] : 0; }
  // Two statements each: the operands of | are not sequenced.
  std::size_t U16() {
    std::size_t high = U8();
    return (high << 8) | U8();
  }
  std::size_t U32() {
    std::size_t high = U16();
    return (high << 16) | U16();
  }
  std::uint64_t U64() {
    std::uint64_t high = U32();
    return (high << 32) | U32();
  }
  std::string Short() { return Text(U8()); }
  // A short field without copying it: valid while the bytes read are.
  std::string_view ShortView() {
    const std::size_t n = U8();
    if (!Take(n)) return {};
    return {reinterpret_cast<const char*>(in_.data()) + pos_ - n, n};
  }
  void SkipValue() { Take(U16()); }
  void SkipLong() { Take(U32()); }
  std::size_t pos() const { return pos_; }
  std::string Long() { return Text(U32()); }
  Bytes Value() {
    std::size_t n = U16();
    if (!Take(n)) return {};
    return Bytes(in_.begin() + static_cast<std::ptrdiff_t>(pos_ - n), in_.begin() + static_cast<std::ptrdiff_t>(pos_));
  }
  // A count of items each at least `min_size` bytes long, checked against what
  // is left so that a corrupt count cannot make the reader allocate gigabytes.
  std::size_t Count(std::size_t count, std::size_t min_size) {
    if (count * min_size > in_.size() - pos_) ok_ = false;
    return ok_ ? count : 0;
  }

 private:
  bool Take(std::size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::string Text(std::size_t n) {
    if (!Take(n)) return {};
    return std::string(reinterpret_cast<const char*>(in_.data()) + pos_ - n, n);
  }

  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

namespace {

std::uint64_t Seconds(TimePoint t) {
  const auto secs = t.time_since_epoch().count();
  return secs < 0 ? 0 : static_cast<std::uint64_t>(secs);
}

// `leaf_offset`, when given, receives where the ATS's leaf position is written.
void EncodeAts(SkeletonWriter& w, const Bytes& out, const EvidenceSkeleton::Ats& ats, std::size_t* leaf_offset) {
  w.Short(HashAlgorithmName(ats.digest_algorithm));
  w.Short(ats.batch_id);
  w.U8(ats.leaf ? 1 : 0);
  if (!ats.leaf) return;
  if (leaf_offset != nullptr) *leaf_offset = out.size();
  w.U32(*ats.leaf);
  w.U8(static_cast<std::size_t>(ats.members_source));
  if (ats.members_source != EvidenceSkeleton::Ats::Members::kStored) return;
  w.U32(ats.members.size());
  for (const auto& v : ats.members) w.Value(v);
}

// `leaf_offset`, when given, receives where the last ATS's leaf position is written.
void EncodeChains(SkeletonWriter& w, const Bytes& out, const std::vector<HashAlgorithm>& digest_algorithms,
                  const std::vector<std::vector<EvidenceSkeleton::Ats>>& chains, std::size_t* leaf_offset) {
  w.U8(digest_algorithms.size());
  for (auto alg : digest_algorithms) w.Short(HashAlgorithmName(alg));
  w.U32(chains.size());
  for (const auto& chain : chains) {
    w.U32(chain.size());
    for (const auto& ats : chain) EncodeAts(w, out, ats, leaf_offset);
  }
}

Bytes EncodeSkeleton(const EvidenceSkeleton& s, std::size_t* leaf_offset) {
  Bytes out;
  out.reserve(128);
  SkeletonWriter w(out);
  w.U8(s.lapsed.empty() ? kSkeletonVersion : kSkeletonWithLapsedVersion);
  w.U64(Seconds(s.next_renewal));
  EncodeChains(w, out, s.digest_algorithms, s.chains, leaf_offset);
  if (s.lapsed.empty()) return out;
  w.U32(s.lapsed.size());
  for (const auto& l : s.lapsed) {
    w.U64(Seconds(l.lapsed_at));
    w.U64(Seconds(l.restarted_at));
    w.Long(l.what_ended);
    w.Long(l.restarted_by);
    w.Long(l.reason);
    EncodeChains(w, out, l.digest_algorithms, l.chains, nullptr);
  }
  return out;
}

}  // namespace

Bytes EncodeEvidenceSkeleton(const EvidenceSkeleton& s) { return EncodeSkeleton(s, nullptr); }

SealSkeletonEncoder::SealSkeletonEncoder(const EvidenceSkeleton& skeleton) {
  encoded_ = EncodeSkeleton(skeleton, &leaf_offset_);
}

ByteView SealSkeletonEncoder::Encode(std::uint32_t leaf) {
  for (std::size_t i = 0; i < 4; ++i) encoded_[leaf_offset_ + i] = static_cast<std::uint8_t>(leaf >> (24 - 8 * i));
  return encoded_;
}

Bytes EncodeQueueEntry(const PackageRecord& record) {
  constexpr HashAlgorithm kAlg = HashAlgorithm::kSha256;  // PackageRecord::Object::sha256
  std::vector<Bytes> members;
  members.reserve(record.objects.size());
  for (const auto& o : record.objects) members.push_back(o.sha256);
  Bytes out;
  SkeletonWriter w(out);
  w.Short(HashAlgorithmName(kAlg));
  Bytes group = timestamp::GroupHash(kAlg, std::move(members));
  out.insert(out.end(), group.begin(), group.end());
  return out;
}

Result<ByteView> QueuedGroupHash(ByteView entry, HashAlgorithm alg) {
  if (entry.empty()) return ByteView();
  const std::string_view name = HashAlgorithmName(alg);
  const std::size_t name_size = entry[0];
  if (entry.size() < 1 + name_size) return Status::Corruption("seal-queue entry is truncated");
  if (Text(entry.subspan(1, name_size)) != name) return ByteView();
  ByteView hash = entry.subspan(1 + name_size);
  if (hash.size() != HashAlgorithmSize(alg))
    return Status::Corruption("seal-queue entry holds " + std::to_string(hash.size()) + " bytes, not a " +
                              std::string(name) + " hash");
  return hash;
}

namespace {

Status DecodeChains(SkeletonReader& r, std::vector<HashAlgorithm>& digest_algorithms,
                    std::vector<std::vector<EvidenceSkeleton::Ats>>& chains) {
  auto corrupt = [] { return Status::Corruption("evidence skeleton is truncated or malformed"); };
  for (std::size_t n = r.Count(r.U8(), 1); n > 0 && r.ok(); --n) {
    PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm a, HashAlgorithmFromName(r.Short()));
    digest_algorithms.push_back(a);
  }
  for (std::size_t count = r.Count(r.U32(), 4); count > 0 && r.ok(); --count) {
    std::vector<EvidenceSkeleton::Ats> atss;
    for (std::size_t n = r.Count(r.U32(), 3); n > 0 && r.ok(); --n) {
      EvidenceSkeleton::Ats ats;
      std::string alg = r.Short();
      ats.batch_id = r.Short();
      std::size_t has_tree = r.U8();
      if (!r.ok() || has_tree > 1) return corrupt();
      PRESERVE_ASSIGN_OR_RETURN(ats.digest_algorithm, HashAlgorithmFromName(alg));
      if (has_tree == 1) {
        ats.leaf = static_cast<std::uint32_t>(r.U32());
        const std::size_t source = r.U8();
        if (!r.ok() || source > static_cast<std::size_t>(EvidenceSkeleton::Ats::Members::kChainTokens))
          return corrupt();
        ats.members_source = static_cast<EvidenceSkeleton::Ats::Members>(source);
        if (ats.members_source == EvidenceSkeleton::Ats::Members::kStored) {
          ats.members.resize(r.Count(r.U32(), 2));
          for (auto& v : ats.members) v = r.Value();
        }
      }
      atss.push_back(std::move(ats));
    }
    chains.push_back(std::move(atss));
  }
  return r.ok() ? Status::Ok() : corrupt();
}

Result<TimePoint> TimeField(SkeletonReader& r) {
  const std::uint64_t secs = r.U64();
  if (secs > static_cast<std::uint64_t>(INT64_MAX))
    return Status::Corruption("evidence skeleton is truncated or malformed");
  return TimePoint(std::chrono::seconds(static_cast<std::int64_t>(secs)));
}

}  // namespace

Result<EvidenceSkeleton> DecodeEvidenceSkeleton(ByteView bytes) {
  auto corrupt = [] { return Status::Corruption("evidence skeleton is truncated or malformed"); };
  SkeletonReader r(bytes);
  const std::size_t version = r.U8();
  if (version != kSkeletonVersion && version != kSkeletonWithLapsedVersion)
    return Status::Corruption("evidence skeleton has an unknown version");
  EvidenceSkeleton s;
  PRESERVE_ASSIGN_OR_RETURN(s.next_renewal, TimeField(r));
  PRESERVE_RETURN_IF_ERROR(DecodeChains(r, s.digest_algorithms, s.chains));
  if (version == kSkeletonWithLapsedVersion) {
    // Each lapsed record is at least two times, three lengths and its chains' two counts.
    for (std::size_t n = r.Count(r.U32(), 33); n > 0 && r.ok(); --n) {
      EvidenceSkeleton::Lapsed l;
      PRESERVE_ASSIGN_OR_RETURN(l.lapsed_at, TimeField(r));
      PRESERVE_ASSIGN_OR_RETURN(l.restarted_at, TimeField(r));
      l.what_ended = r.Long();
      l.restarted_by = r.Long();
      l.reason = r.Long();
      PRESERVE_RETURN_IF_ERROR(DecodeChains(r, l.digest_algorithms, l.chains));
      s.lapsed.push_back(std::move(l));
    }
    if (s.lapsed.empty()) return corrupt();
  }
  if (!r.ok() || !r.at_end()) return corrupt();
  return s;
}

namespace {

// Where AddRenewalToSkeleton writes in a stored list of digest algorithms and
// chains, found by reading past its fields with DecodeChains's checks.
struct ChainsLayout {
  std::size_t algorithms = 0;         // how many digest algorithms
  std::uint32_t algorithm_bits = 0;   // which: 1 << the HashAlgorithm's value
  std::size_t algorithms_end = 0;     // just past the last one's name
  std::size_t chains = 0;             // how many chains
  std::size_t last_chain_at = 0;      // the last chain's ATS count
  std::size_t last_chain_size = 0;
  std::size_t end = 0;                // just past the last chain
};

Result<ChainsLayout> ReadChainsLayout(SkeletonReader& r) {
  auto corrupt = [] { return Status::Corruption("evidence skeleton is truncated or malformed"); };
  ChainsLayout out;
  out.algorithms = r.Count(r.U8(), 1);
  for (std::size_t n = out.algorithms; n > 0 && r.ok(); --n) {
    PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm a, HashAlgorithmFromName(r.ShortView()));
    out.algorithm_bits |= std::uint32_t{1} << static_cast<unsigned>(a);
  }
  out.algorithms_end = r.pos();
  out.chains = r.Count(r.U32(), 4);
  for (std::size_t c = 0; c < out.chains && r.ok(); ++c) {
    out.last_chain_at = r.pos();
    out.last_chain_size = r.Count(r.U32(), 3);
    for (std::size_t n = out.last_chain_size; n > 0 && r.ok(); --n) {
      const std::string_view alg = r.ShortView();
      r.ShortView();  // the batch id
      const std::size_t has_tree = r.U8();
      if (!r.ok() || has_tree > 1) return corrupt();
      PRESERVE_RETURN_IF_ERROR(HashAlgorithmFromName(alg).status());
      if (has_tree == 0) continue;
      r.U32();  // the leaf
      const std::size_t source = r.U8();
      if (!r.ok() || source > static_cast<std::size_t>(EvidenceSkeleton::Ats::Members::kChainTokens))
        return corrupt();
      if (source != static_cast<std::size_t>(EvidenceSkeleton::Ats::Members::kStored)) continue;
      for (std::size_t m = r.Count(r.U32(), 2); m > 0 && r.ok(); --m) r.SkipValue();
    }
  }
  out.end = r.pos();
  if (!r.ok()) return corrupt();
  return out;
}

}  // namespace

Result<Bytes> AddRenewalToSkeleton(ByteView stored, const EvidenceSkeleton::Ats& ats, RenewalChain chain,
                                   TimePoint next_renewal, TimePoint* previous_renewal) {
  auto corrupt = [] { return Status::Corruption("evidence skeleton is truncated or malformed"); };
  SkeletonReader r(stored);
  const std::size_t version = r.U8();
  if (version != kSkeletonVersion && version != kSkeletonWithLapsedVersion)
    return Status::Corruption("evidence skeleton has an unknown version");
  PRESERVE_ASSIGN_OR_RETURN(const TimePoint previous, TimeField(r));
  const std::size_t chains_at = r.pos();
  PRESERVE_ASSIGN_OR_RETURN(const ChainsLayout layout, ReadChainsLayout(r));
  if (version == kSkeletonWithLapsedVersion) {  // read past, checked, copied as it is
    std::size_t lapsed = r.Count(r.U32(), 33);
    if (lapsed == 0) return corrupt();
    for (; lapsed > 0 && r.ok(); --lapsed) {
      PRESERVE_RETURN_IF_ERROR(TimeField(r).status());
      PRESERVE_RETURN_IF_ERROR(TimeField(r).status());
      for (int text = 0; text < 3; ++text) r.SkipLong();
      PRESERVE_RETURN_IF_ERROR(ReadChainsLayout(r).status());
    }
  }
  if (!r.ok() || !r.at_end()) return corrupt();
  const bool new_chain = chain == RenewalChain::kNew;
  if (!new_chain && (layout.chains == 0 || layout.last_chain_size == 0))
    return Status::Corruption("evidence skeleton has no archive time-stamp to renew");
  const bool new_algorithm =
      new_chain && (layout.algorithm_bits & (std::uint32_t{1} << static_cast<unsigned>(ats.digest_algorithm))) == 0;

  auto copy = [&stored](Bytes& out, std::size_t from, std::size_t to) {
    out.insert(out.end(), stored.begin() + static_cast<std::ptrdiff_t>(from),
               stored.begin() + static_cast<std::ptrdiff_t>(to));
  };
  Bytes out;
  out.reserve(stored.size() + 32 + ats.batch_id.size() + ats.members.size() * (2 + 64));
  SkeletonWriter w(out);
  w.U8(version);
  w.U64(Seconds(next_renewal));
  w.U8(layout.algorithms + (new_algorithm ? 1 : 0));
  copy(out, chains_at + 1, layout.algorithms_end);
  if (new_algorithm) w.Short(HashAlgorithmName(ats.digest_algorithm));
  w.U32(layout.chains + (new_chain ? 1 : 0));
  const std::size_t first_chain = layout.algorithms_end + 4;
  if (new_chain) {
    copy(out, first_chain, layout.end);
    w.U32(1);
  } else {
    copy(out, first_chain, layout.last_chain_at);
    w.U32(layout.last_chain_size + 1);
    copy(out, layout.last_chain_at + 4, layout.end);
  }
  EncodeAts(w, out, ats, nullptr);
  copy(out, layout.end, stored.size());
  if (previous_renewal != nullptr) *previous_renewal = previous;
  return out;
}

Result<EvidenceSkeleton> DecodeStoredSkeleton(std::string_view id, const Result<Bytes>& stored) {
  if (!stored.ok() && stored.status().code() == StatusCode::kNotFound)
    return Status::FailedPrecondition("package " + std::string(id) + " is not sealed yet (run 'preserve seal')");
  if (!stored.ok()) return stored.status();
  return DecodeEvidenceSkeleton(stored.value());
}

std::string StoredVersionId(std::string_view package_id, std::uint32_t version) {
  if (version <= 1) return std::string(package_id);
  std::string number = std::to_string(version);
  return std::string(package_id) + ".v" + std::string(4 - std::min<std::size_t>(4, number.size()), '0') + number;
}

std::pair<std::string_view, std::uint32_t> SplitVersionId(std::string_view id) {
  const std::size_t dot = id.rfind(".v");
  if (dot == std::string_view::npos || id.size() != dot + 6) return {id, 1};
  std::uint32_t version = 0;
  for (char c : id.substr(dot + 2)) {
    if (c < '0' || c > '9') return {id, 1};
    version = version * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (version < 2) return {id, 1};
  return {id.substr(0, dot), version};
}

Bytes AuditHeadObject(std::uint64_t events, ByteView hash) {
  return ToBytes("preserve audit trail head\nevents: " + std::to_string(events) + "\nlast event SHA-256: " +
                 ToHex(hash) + "\n");
}

Bytes AuditHeadObject(const BatchRecord::AuditHead& head) {
  Bytes text = AuditHeadObject(head.events, head.hash);
  if (head.anchor_algorithm) {
    const std::string anchor =
        "chain " + std::string(HashAlgorithmName(*head.anchor_algorithm)) + ": " + ToHex(head.anchor) + "\n";
    text.insert(text.end(), anchor.begin(), anchor.end());
  }
  return text;
}

Bytes EncodeBatchRecord(const BatchRecord& b) {
  json::object o{{"id", b.id},
                 {"time", FormatUtcTime(b.time)},
                 {"alg", HashAlgorithmName(b.hash_algorithm)},
                 {"root", ToHex(b.root)},
                 {"token", ToHex(b.token)},
                 {"packages", b.packages},
                 {"leaves", b.leaves}};
  if (b.audit_head) {
    json::object head{
        {"events", b.audit_head->events}, {"hash", ToHex(b.audit_head->hash)}, {"leaf", b.audit_head->leaf}};
    if (b.audit_head->anchor_algorithm) {
      head["anchor_alg"] = HashAlgorithmName(*b.audit_head->anchor_algorithm);
      head["anchor"] = ToHex(b.audit_head->anchor);
    }
    o["audit_head"] = std::move(head);
  }
  return Serialize(o);
}

Result<BatchRecord> DecodeBatchRecord(ByteView bytes) {
  return Guard("batch record", [&]() -> Result<BatchRecord> {
    PRESERVE_ASSIGN_OR_RETURN(json::object o, ParseObject(bytes, "batch record"));
    BatchRecord b;
    b.id = std::string(o.at("id").as_string());
    PRESERVE_ASSIGN_OR_RETURN(b.time, ParseUtcTime(std::string_view(o.at("time").as_string())));
    PRESERVE_ASSIGN_OR_RETURN(b.hash_algorithm, AlgorithmField(o, "alg"));
    PRESERVE_ASSIGN_OR_RETURN(b.root, HexField(o, "root"));
    PRESERVE_ASSIGN_OR_RETURN(b.token, HexField(o, "token"));
    b.packages = o.at("packages").to_number<std::size_t>();
    b.leaves = o.at("leaves").to_number<std::size_t>();
    if (const json::value* head = o.if_contains("audit_head")) {
      const json::object& h = head->as_object();
      BatchRecord::AuditHead sealed;
      sealed.events = h.at("events").to_number<std::uint64_t>();
      PRESERVE_ASSIGN_OR_RETURN(sealed.hash, HexField(h, "hash"));
      sealed.leaf = h.at("leaf").to_number<std::uint32_t>();
      if (h.contains("anchor_alg")) {
        PRESERVE_ASSIGN_OR_RETURN(sealed.anchor_algorithm, AlgorithmField(h, "anchor_alg"));
        PRESERVE_ASSIGN_OR_RETURN(sealed.anchor, HexField(h, "anchor"));
        if (sealed.anchor.size() != HashAlgorithmSize(*sealed.anchor_algorithm))
          return Status::Corruption("batch record " + b.id + ": malformed audit trail anchor");
      }
      // A head sealed alone has no tree (0 leaves) and leaf 0.
      if (sealed.hash.size() != 32 || (b.leaves == 0 ? sealed.leaf != 0 : sealed.leaf >= b.leaves))
        return Status::Corruption("batch record " + b.id + ": malformed audit trail head");
      b.audit_head = std::move(sealed);
    }
    return b;
  });
}

}  // namespace preserve::archive
