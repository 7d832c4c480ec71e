#include "kept_revocation_data.h"

#include "preserve/util/digest.h"

namespace preserve::archive {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeader = 1 + 8 + 4;

void PutBigEndian(Bytes& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::uint64_t GetBigEndian(ByteView in, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = value << 8 | in[offset + static_cast<std::size_t>(i)];
  return value;
}

}  // namespace

std::string KeptRevocationSettingName(const std::string& key) {
  return std::string(kRevocationDataPrefix) + ToHex(Digest(HashAlgorithm::kSha256, ToBytes(key)));
}

Bytes EncodeKeptRevocationItem(const signature::RevocationCache::Item& item) {
  Bytes out;
  out.reserve(kHeader + item.key.size() + item.der.size());
  out.push_back(kVersion);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(item.fetched.time_since_epoch()).count();
  PutBigEndian(out, static_cast<std::uint64_t>(seconds), 8);
  PutBigEndian(out, item.key.size(), 4);
  out.insert(out.end(), item.key.begin(), item.key.end());
  out.insert(out.end(), item.der.begin(), item.der.end());
  return out;
}

Result<signature::RevocationCache::Item> DecodeKeptRevocationItem(ByteView value) {
  if (value.size() < kHeader || value[0] != kVersion)
    return Status::Corruption("kept revocation data of an unknown form");
  const std::uint64_t key_size = GetBigEndian(value, 9, 4);
  if (key_size > value.size() - kHeader) return Status::Corruption("kept revocation data cut short");
  signature::RevocationCache::Item item;
  item.fetched = TimePoint(std::chrono::seconds(static_cast<std::int64_t>(GetBigEndian(value, 1, 8))));
  item.key.assign(reinterpret_cast<const char*>(value.data() + kHeader), key_size);
  item.der.assign(value.begin() + static_cast<std::ptrdiff_t>(kHeader + key_size), value.end());
  return item;
}

Result<KeptRevocationData> KeptRevocationData::Load(const storage::Store& store,
                                                    signature::RevocationOptions& revocation, TimePoint now) {
  KeptRevocationData kept;
  if (!revocation.check || !revocation.online) return kept;
  if (!revocation.cache) revocation.cache = std::make_shared<signature::RevocationCache>();
  kept.cache_ = revocation.cache;
  kept.ocsp_max_age_ = revocation.ocsp_max_age;
  PRESERVE_RETURN_IF_ERROR(store.ScanSettings(kRevocationDataPrefix, [&](std::string_view name, ByteView value) {
    auto item = DecodeKeptRevocationItem(value);
    // An item under another key's name is not trusted either: a setting is a
    // cache entry only where its key says it is.
    if (item.ok() && KeptRevocationSettingName(item->key) == name && kept.cache_->Add(*item, now, kept.ocsp_max_age_))
      ++kept.loaded_;
    else
      kept.stale_.emplace_back(name);
    return true;
  }));
  return kept;
}

void KeptRevocationData::Put(storage::WriteSet& w, TimePoint now) {
  if (!cache_) return;
  for (const std::string& name : stale_) w.EraseSetting(name);
  stale_.clear();
  for (const auto& item : cache_->TakeNew(now, ocsp_max_age_))
    w.PutSetting(KeptRevocationSettingName(item.key), EncodeKeptRevocationItem(item));
}

}  // namespace preserve::archive
