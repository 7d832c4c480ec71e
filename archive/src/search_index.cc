#include "search_index.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <set>

#include <boost/json.hpp>

#include "preserve/archive/ingestion.h"
#include "preserve/util/date.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr char kEntryKey = 'e';
constexpr char kWordKey = 'w';
constexpr char kYearKey = 'y';
constexpr char kMonthKey = 'm';
constexpr char kTallyKey = 't';
constexpr char kAcceptedKey = 'a';
constexpr char kUnreadableEventKey = 'u';
constexpr std::string_view kProgressSetting = "search_index";
constexpr std::string_view kComplete = "complete";

// The fields whose words are indexed, each under its own letter.
constexpr char kOrganField = 'o';   // organ name and organ id
constexpr char kTypeField = 't';    // document type
constexpr char kNumberField = 'n';  // number and symbol
constexpr char kSubjectField = 's';
constexpr char kSignerField = 'g';  // signer organizations

// Longer words are indexed (and looked for) by their first bytes only, which
// bounds a key; the final match compares whole fields.
constexpr std::size_t kMaxWordBytes = 48;
// A last word that begins more distinct indexed words than this (a filter of
// one or two letters) is not looked up with a cursor per word.
constexpr std::size_t kMaxPrefixWords = 64;
// Up to this many ids under such a prefix's words are read into memory (some
// 10 MB) to drive the join; beyond it the other conditions drive it.
constexpr std::size_t kMaxPrefixIds = 200000;

// The words of `text`, folded: runs of letters and digits; any non-ASCII
// character (a letter of a script folding leaves as it is) counts as a letter.
std::vector<std::string> Words(std::string_view text) {
  auto folded = FoldForSearch(EscapeInvalidUtf8(text));
  const std::string& t = folded.ok() ? folded.value() : std::string(text);
  std::vector<std::string> words;
  std::string word;
  auto end_word = [&] {
    if (!word.empty()) words.push_back(word.substr(0, kMaxWordBytes));
    word.clear();
  };
  for (char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      word.push_back(static_cast<char>(c - 'A' + 'a'));  // folding lowers case already; kept for unfolded text
    } else {
      end_word();
    }
  }
  end_word();
  return words;
}

// The text of each indexed field of `entry`, by field letter.
std::vector<std::pair<char, std::string>> FieldTexts(const IndexEntry& entry) {
  std::vector<std::pair<char, std::string>> out;
  if (entry.metadata) {
    const package::RecordMetadata& m = *entry.metadata;
    out.emplace_back(kOrganField, m.organ_name + " " + m.organ_id);
    out.emplace_back(kTypeField, m.type_name);
    out.emplace_back(kNumberField, m.code_number + " " + m.code_notation);
    out.emplace_back(kSubjectField, m.subject);
  }
  for (const auto& o : entry.signer_organizations) out.emplace_back(kSignerField, o);
  return out;
}

std::string WordKeyPrefix(char field, std::string_view word) {
  std::string key{kWordKey, field};
  key += word;
  key.push_back('\0');
  return key;
}

// Every key but the entry's own that `entry` puts in the index, and its value.
std::vector<std::pair<std::string, std::string>> DerivedKeys(const IndexEntry& entry) {
  std::set<std::string> words;
  for (const auto& [field, text] : FieldTexts(entry))
    for (const auto& w : Words(text)) words.insert(WordKeyPrefix(field, w) + entry.id);
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& w : words) keys.emplace_back(w, "");
  if (entry.metadata && ParseIsoDate(entry.metadata->issued_date).ok()) {
    const std::string& d = entry.metadata->issued_date;  // YYYY-MM-DD
    keys.emplace_back(std::string{kYearKey} + d.substr(0, 4) + '\0' + entry.id, d.substr(5));
    keys.emplace_back(std::string{kMonthKey} + d.substr(0, 7) + '\0' + entry.id, d.substr(8));
  }
  return keys;
}

std::string EntryKey(std::string_view id) { return std::string{kEntryKey} + std::string(id); }

Bytes EncodeEntry(const IndexEntry& e) {
  json::array signers(e.signer_organizations.begin(), e.signer_organizations.end());
  json::array documents(e.documents.begin(), e.documents.end());
  json::object o{{"id", e.id},
                 {"latest", e.latest_id},
                 {"versions", e.versions},
                 {"created", FormatUtcTime(e.created)},
                 {"signer_organizations", std::move(signers)},
                 {"documents", std::move(documents)}};
  if (e.deleted) o["deleted"] = true;
  if (e.metadata) o["metadata"] = json::parse(package::RecordMetadataToJson(*e.metadata));
  return ToBytes(json::serialize(o));
}

Result<IndexEntry> DecodeEntry(ByteView bytes) {
  json::error_code ec;
  json::value v = json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), ec);
  if (ec || !v.is_object()) return Status::Corruption("search index entry is not a JSON object");
  const json::object& o = v.as_object();
  auto text = [&](std::string_view key) -> Result<std::string> {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || !f->is_string()) return Status::Corruption("search index entry: no " + std::string(key));
    return std::string(f->as_string());
  };
  auto texts = [&](std::string_view key) -> Result<std::vector<std::string>> {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || !f->is_array()) return Status::Corruption("search index entry: no " + std::string(key));
    std::vector<std::string> out;
    for (const auto& item : f->as_array()) {
      if (!item.is_string()) return Status::Corruption("search index entry: " + std::string(key) + " not text");
      out.emplace_back(item.as_string());
    }
    return out;
  };
  IndexEntry e;
  PRESERVE_ASSIGN_OR_RETURN(e.id, text("id"));
  PRESERVE_ASSIGN_OR_RETURN(e.latest_id, text("latest"));
  PRESERVE_ASSIGN_OR_RETURN(std::string created, text("created"));
  PRESERVE_ASSIGN_OR_RETURN(e.created, ParseUtcTime(created));
  const json::value* versions = o.if_contains("versions");
  if (versions == nullptr || !versions->is_int64() || versions->as_int64() < 1)
    return Status::Corruption("search index entry: no versions");
  e.versions = static_cast<std::uint32_t>(versions->as_int64());
  const json::value* deleted = o.if_contains("deleted");
  e.deleted = deleted != nullptr && deleted->is_bool() && deleted->as_bool();
  PRESERVE_ASSIGN_OR_RETURN(e.signer_organizations, texts("signer_organizations"));
  PRESERVE_ASSIGN_OR_RETURN(e.documents, texts("documents"));
  if (const json::value* m = o.if_contains("metadata")) {
    PRESERVE_ASSIGN_OR_RETURN(e.metadata, package::ParseRecordMetadata(ToBytes(json::serialize(*m))));
  }
  return e;
}

// Whether every word of `query` is a word of `text`, its last one perhaps only the beginning of one.
bool WordsMatch(std::string_view query, const std::vector<std::string>& text_words) {
  const std::vector<std::string> wanted = Words(query);
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const bool last = i + 1 == wanted.size();
    const bool found = std::any_of(text_words.begin(), text_words.end(), [&](const std::string& w) {
      return last ? w.rfind(wanted[i], 0) == 0 : w == wanted[i];
    });
    if (!found) return false;
  }
  return true;
}

// The first id made at or after `day`'s start (UTC): ids begin with their
// creation time in milliseconds, as 12 hex digits ("0190c3d2-5a1b-...").
std::string FirstIdOf(std::chrono::sys_days day) {
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(12, '0');
  for (int i = 0; i < 12; ++i) hex[static_cast<std::size_t>(11 - i)] = kHex[(ms >> (4 * i)) & 0xf];
  return hex.substr(0, 8) + "-" + hex.substr(8);
}

// ---- Streams of ids, and their join ----

// Package ids in ascending order, from the index.
class IdStream {
 public:
  virtual ~IdStream() = default;
  // Moves to the first id at or after `target` (never back); false at the
  // end, or on a read error (status()).
  virtual bool SeekTo(const std::string& target) = 0;
  virtual const std::string& id() const = 0;
  virtual Status status() const = 0;
};

// The ids under one prefix of keys ("w" field word 0x00), those whose value
// `keep` takes (all without it).
class PostingStream final : public IdStream {
 public:
  PostingStream(const storage::Store& store, std::string prefix,
                std::function<bool(std::string_view)> keep = nullptr)
      : cursor_(store.NewIndexCursor()), prefix_(std::move(prefix)), keep_(std::move(keep)) {}

  bool SeekTo(const std::string& target) override {
    if (positioned_ && (!valid_ || target <= id_)) return valid_;
    positioned_ = true;
    cursor_->Seek(prefix_ + target);
    for (; cursor_->Valid(); cursor_->Next()) {
      const std::string_view key = cursor_->key();
      if (key.substr(0, prefix_.size()) != prefix_) break;
      const ByteView v = cursor_->value();
      if (keep_ && !keep_(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()))) continue;
      id_.assign(key.substr(prefix_.size()));
      return valid_ = true;
    }
    return valid_ = false;
  }
  const std::string& id() const override { return id_; }
  Status status() const override { return cursor_->status(); }
  ByteView value() const { return cursor_->value(); }

 private:
  std::unique_ptr<storage::IndexCursor> cursor_;
  std::string prefix_;
  std::function<bool(std::string_view)> keep_;
  bool positioned_ = false;
  bool valid_ = false;
  std::string id_;
};

// The ids of any of several streams (the words a prefix begins; the years
// and months of a date range), each once.
class UnionStream final : public IdStream {
 public:
  explicit UnionStream(std::vector<std::unique_ptr<IdStream>> parts) : parts_(std::move(parts)) {}

  bool SeekTo(const std::string& target) override {
    const std::string* least = nullptr;
    for (auto& part : parts_) {
      if (!part) continue;
      if (!part->SeekTo(target)) {
        if (Status s = part->status(); !s.ok()) error_ = s;
        part.reset();  // at its end
        continue;
      }
      if (least == nullptr || part->id() < *least) least = &part->id();
    }
    if (least == nullptr || !error_.ok()) return false;
    id_ = *least;
    return true;
  }
  const std::string& id() const override { return id_; }
  Status status() const override { return error_; }

 private:
  std::vector<std::unique_ptr<IdStream>> parts_;
  std::string id_;
  Status error_ = Status::Ok();
};

// Ids read into memory beforehand (the words a short prefix begins, too many
// for a stream each).
class SortedIdStream final : public IdStream {
 public:
  explicit SortedIdStream(std::vector<std::string> ids) : ids_(std::move(ids)) {}
  bool SeekTo(const std::string& target) override {
    const auto from = ids_.begin() + static_cast<std::ptrdiff_t>(at_);
    at_ += static_cast<std::size_t>(std::lower_bound(from, ids_.end(), target) - from);
    return at_ < ids_.size();
  }
  const std::string& id() const override { return ids_[at_]; }
  Status status() const override { return Status::Ok(); }

 private:
  std::vector<std::string> ids_;
  std::size_t at_ = 0;
};

std::unique_ptr<IdStream> AnyOf(std::vector<std::unique_ptr<IdStream>> parts) {
  if (parts.size() == 1) return std::move(parts.front());
  return std::make_unique<UnionStream>(std::move(parts));
}

// The words of the index's `field` that begin with `prefix`, up to `limit` + 1 of them.
Result<std::vector<std::string>> WordsBeginning(const storage::Store& store, char field, const std::string& prefix,
                                                std::size_t limit) {
  std::vector<std::string> words;
  auto cursor = store.NewIndexCursor();
  const std::string start{kWordKey, field};
  cursor->Seek(start + prefix);
  while (cursor->Valid() && words.size() <= limit) {
    const std::string_view key = cursor->key();
    if (key.substr(0, start.size()) != start) break;
    const std::string_view word = key.substr(start.size(), key.find('\0', start.size()) - start.size());
    if (word.substr(0, prefix.size()) != prefix) break;
    words.emplace_back(word);
    cursor->Seek(start + words.back() + '\x01');  // past every id under this word
  }
  PRESERVE_RETURN_IF_ERROR(cursor->status());
  return words;
}

// The ids under every word of `field` that begins with `prefix`, sorted and
// without repeats; up to `limit` + 1 of them (more: the caller does without).
Result<std::vector<std::string>> IdsUnderWordsBeginning(const storage::Store& store, char field,
                                                        const std::string& prefix, std::size_t limit) {
  std::vector<std::string> ids;
  auto cursor = store.NewIndexCursor();
  const std::string start = std::string{kWordKey, field} + prefix;
  for (cursor->Seek(start); cursor->Valid() && ids.size() <= limit; cursor->Next()) {
    const std::string_view key = cursor->key();
    if (key.substr(0, start.size()) != start) break;
    ids.emplace_back(key.substr(key.find('\0', start.size()) + 1));
  }
  PRESERVE_RETURN_IF_ERROR(cursor->status());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// The streams that narrow a text field's condition: one per whole word, and
// one for the words the last begins (unless it begins too many).
Status AddWordStreams(const storage::Store& store, char field, std::string_view query,
                      std::vector<std::unique_ptr<IdStream>>& streams) {
  const std::vector<std::string> words = Words(query);
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i + 1 < words.size()) {
      streams.push_back(std::make_unique<PostingStream>(store, WordKeyPrefix(field, words[i])));
      continue;
    }
    PRESERVE_ASSIGN_OR_RETURN(auto begun, WordsBeginning(store, field, words[i], kMaxPrefixWords));
    if (begun.size() > kMaxPrefixWords) {
      PRESERVE_ASSIGN_OR_RETURN(auto ids, IdsUnderWordsBeginning(store, field, words[i], kMaxPrefixIds));
      if (ids.size() <= kMaxPrefixIds) streams.push_back(std::make_unique<SortedIdStream>(std::move(ids)));
      continue;
    }
    std::vector<std::unique_ptr<IdStream>> parts;
    for (const auto& w : begun) parts.push_back(std::make_unique<PostingStream>(store, WordKeyPrefix(field, w)));
    if (parts.empty()) {
      // No word begins so: nothing matches, which an empty list says.
      parts.push_back(std::make_unique<PostingStream>(store, WordKeyPrefix(field, words[i])));
    }
    streams.push_back(AnyOf(std::move(parts)));
  }
  return Status::Ok();
}

// The years of the index's issue dates in [from, to] ("YYYY"), by seeking from one to the next.
Result<std::vector<std::string>> YearsBetween(const storage::Store& store, const std::string& from,
                                              const std::string& to) {
  std::vector<std::string> years;
  auto cursor = store.NewIndexCursor();
  const std::string start{kYearKey};
  cursor->Seek(start + from);
  while (cursor->Valid()) {
    const std::string_view key = cursor->key();
    if (key.size() < 5 || key[0] != kYearKey) break;
    std::string year(key.substr(1, 4));
    if (year > to) break;
    years.push_back(year);
    cursor->Seek(start + year + '\x01');
  }
  PRESERVE_RETURN_IF_ERROR(cursor->status());
  return years;
}

// The stream of ids issued in [from, to] (YYYY-MM-DD, either may be empty):
// whole years where the range covers them, else months, with the days of a
// month it covers in part checked from the key's value.
Result<std::unique_ptr<IdStream>> IssuedBetween(const storage::Store& store, const std::string& from,
                                                const std::string& to) {
  const std::string lo = from.empty() ? "0000-01-01" : from;
  const std::string hi = to.empty() ? "9999-12-31" : to;
  PRESERVE_ASSIGN_OR_RETURN(auto years, YearsBetween(store, lo.substr(0, 4), hi.substr(0, 4)));
  std::vector<std::unique_ptr<IdStream>> parts;
  for (const auto& year : years) {
    if (lo <= year + "-01-01" && year + "-12-31" <= hi) {
      parts.push_back(std::make_unique<PostingStream>(store, std::string{kYearKey} + year + '\0'));
      continue;
    }
    for (int month = 1; month <= 12; ++month) {
      const std::string ym = year + (month < 10 ? "-0" : "-") + std::to_string(month);
      if (ym + "-31" < lo || hi < ym + "-01") continue;
      const std::string first_day = lo.substr(0, 7) == ym ? lo.substr(8) : "01";
      const std::string last_day = hi.substr(0, 7) == ym ? hi.substr(8) : "31";
      auto keep = [first_day, last_day](std::string_view day) { return first_day <= day && day <= last_day; };
      parts.push_back(std::make_unique<PostingStream>(store, std::string{kMonthKey} + ym + '\0', keep));
    }
  }
  if (parts.empty()) parts.push_back(std::make_unique<PostingStream>(store, std::string{kYearKey} + "none"));
  return AnyOf(std::move(parts));
}

}  // namespace

IndexEntry MakeIndexEntry(const PackageRecord& record, const package::Manifest& manifest,
                          const IndexEntry* previous) {
  IndexEntry e;
  const auto [base, version] = SplitVersionId(record.id);
  e.id = std::string(base);
  e.latest_id = record.id;
  e.versions = version;
  e.created = previous != nullptr ? previous->created : record.created;
  e.metadata = manifest.metadata;
  if (previous != nullptr) e.signer_organizations = previous->signer_organizations;
  for (const auto& s : manifest.signatures) {
    auto& orgs = e.signer_organizations;
    if (!s.signer_organization.empty() && std::find(orgs.begin(), orgs.end(), s.signer_organization) == orgs.end())
      orgs.push_back(s.signer_organization);
  }
  for (const auto& o : record.objects)
    if (o.path.rfind(package::kDocumentsDir, 0) == 0) e.documents.push_back(o.path);
  return e;
}

IndexEntry DeletedIndexEntry(IndexEntry entry) {
  entry.deleted = true;
  entry.metadata.reset();
  entry.signer_organizations.clear();
  return entry;
}

void IndexWrites::Put(const IndexEntry& entry, const IndexEntry* previous) {
  auto keys = DerivedKeys(entry);
  if (previous != nullptr) {
    std::set<std::string> kept;
    for (const auto& k : keys) kept.insert(k.first);
    for (auto& k : DerivedKeys(*previous))
      if (kept.count(k.first) == 0) writes_.push_back({std::move(k.first), {}, true});
  }
  for (auto& [key, value] : keys) writes_.push_back({std::move(key), ToBytes(value), false});
  writes_.push_back({EntryKey(entry.id), EncodeEntry(entry), false});
}

void IndexWrites::MoveInto(storage::WriteSet& w) {
  std::sort(writes_.begin(), writes_.end(), [](const Write& a, const Write& b) { return a.key < b.key; });
  for (const Write& write : writes_) {
    if (write.erase) {
      w.EraseIndex(write.key);
    } else {
      w.PutIndex(write.key, write.value);
    }
  }
  writes_.clear();
}

void PutIndexEntry(storage::WriteSet& w, const IndexEntry& entry, const IndexEntry* previous) {
  IndexWrites writes;
  writes.Put(entry, previous);
  writes.MoveInto(w);
}

Result<std::optional<IndexEntry>> ReadIndexEntry(const storage::Store& store, std::string_view id) {
  auto bytes = store.GetIndex(EntryKey(id));
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) return std::optional<IndexEntry>();
  PRESERVE_RETURN_IF_ERROR(bytes.status());
  PRESERVE_ASSIGN_OR_RETURN(IndexEntry entry, DecodeEntry(bytes.value()));
  return std::optional<IndexEntry>(std::move(entry));
}

bool MatchesFilter(const IndexEntry& entry, const ListFilter& f) {
  if (!f.ingested_from.empty() || !f.ingested_to.empty()) {
    const std::string day = FormatDate(std::chrono::floor<std::chrono::days>(entry.created));
    if (!f.ingested_from.empty() && day < f.ingested_from) return false;
    if (!f.ingested_to.empty() && day > f.ingested_to) return false;
  }
  const bool asks_metadata = !f.organ.empty() || !f.type_name.empty() || !f.number.empty() || !f.subject.empty() ||
                             !f.issued_from.empty() || !f.issued_to.empty();
  if (asks_metadata && !entry.metadata) return false;
  if (entry.metadata) {
    const package::RecordMetadata& m = *entry.metadata;
    if (!WordsMatch(f.organ, Words(m.organ_name + " " + m.organ_id))) return false;
    if (!WordsMatch(f.type_name, Words(m.type_name))) return false;
    if (!WordsMatch(f.number, Words(m.code_number + " " + m.code_notation))) return false;
    if (!WordsMatch(f.subject, Words(m.subject))) return false;
    // ISO dates compare as text.
    if (!f.issued_from.empty() && m.issued_date < f.issued_from) return false;
    if (!f.issued_to.empty() && m.issued_date > f.issued_to) return false;
  }
  if (!f.signer_organization.empty()) {
    std::vector<std::string> words;
    for (const auto& o : entry.signer_organizations)
      for (auto& w : Words(o)) words.push_back(std::move(w));
    if (!WordsMatch(f.signer_organization, words)) return false;
  }
  return true;
}

// Over 60 lines: the join's streams, then the leapfrog loop that walks them.
Result<std::vector<IndexHit>> SearchIndex(const storage::Store& store, const ListFilter& filter,
                                          std::string_view after, std::size_t limit,
                                          const std::function<Result<bool>(const IndexEntry&)>& accept) {
  std::vector<std::unique_ptr<IdStream>> streams;
  for (const auto& [field, query] : {std::pair{kOrganField, &filter.organ}, {kTypeField, &filter.type_name},
                                     {kNumberField, &filter.number}, {kSubjectField, &filter.subject},
                                     {kSignerField, &filter.signer_organization}})
    PRESERVE_RETURN_IF_ERROR(AddWordStreams(store, field, *query, streams));
  if (!filter.issued_from.empty() || !filter.issued_to.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(auto issued, IssuedBetween(store, filter.issued_from, filter.issued_to));
    streams.push_back(std::move(issued));
  }
  // Every package has an entry: the join ends on its list, whose value is
  // the entry a match is listed with.
  auto entries_owned = std::make_unique<PostingStream>(store, std::string{kEntryKey});
  PostingStream* entries = entries_owned.get();
  streams.push_back(std::move(entries_owned));

  // Ingest dates are a range of ids.
  std::string target = after.empty() ? std::string() : std::string(after) + '\0';
  std::string end;
  if (auto from = ParseIsoDate(filter.ingested_from); from.ok()) target = std::max(target, FirstIdOf(*from));
  if (auto to = ParseIsoDate(filter.ingested_to); to.ok()) end = FirstIdOf(*to + std::chrono::days(1));

  std::vector<IndexHit> hits;
  while (hits.size() < limit) {
    // Every stream moves to the first id at or after the target; one that
    // lands beyond it raises the target, and the round starts again.
    bool agreed = false;
    bool exhausted = false;
    while (!agreed && !exhausted) {
      agreed = true;
      for (auto& s : streams) {
        if (!s->SeekTo(target)) {
          PRESERVE_RETURN_IF_ERROR(s->status());
          exhausted = true;
          break;
        }
        if (s->id() != target) {
          target = s->id();
          agreed = false;
          break;
        }
      }
      if (!end.empty() && target >= end) exhausted = true;
    }
    if (exhausted) break;
    auto entry = DecodeEntry(entries->value());
    if (!entry.ok()) {
      hits.push_back({target, entry.status()});
    } else if (MatchesFilter(entry.value(), filter)) {
      PRESERVE_ASSIGN_OR_RETURN(bool accepted, accept(entry.value()));
      if (accepted) hits.push_back({target, std::move(entry)});
    }
    target.push_back('\0');  // the next id after this one
  }
  return hits;
}

namespace {

std::string BigEndian64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::uint64_t ReadBigEndian64(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

// A tally's value: its kind, then each text as 4 bytes of length and its bytes.
std::string EncodeTally(const SubmissionTally& t) {
  std::string out(1, static_cast<char>(t.kind));
  for (const std::string* field : {&t.organ, &t.signer_organization, &t.category, &t.submission}) {
    out += BigEndian64(field->size()).substr(4);
    out += *field;
  }
  return out;
}

Result<SubmissionTally> DecodeTally(std::string_view time, std::string_view value) {
  auto bad = [] { return Status::Corruption("a signature-use tally in the search index is malformed"); };
  if (value.empty()) return bad();
  SubmissionTally t;
  t.kind = static_cast<SubmissionTally::Kind>(value[0]);
  t.time = std::string(time);
  std::size_t at = 1;
  for (std::string* field : {&t.organ, &t.signer_organization, &t.category, &t.submission}) {
    if (value.size() < at + 4) return bad();
    const std::uint64_t size = ReadBigEndian64(value.substr(at, 4));
    at += 4;
    if (value.size() - at < size) return bad();
    field->assign(value.substr(at, size));
    at += size;
  }
  return t;
}

std::vector<storage::WriteSet::AuditIndexEntry> TallyEntries(const SubmissionTally& t) {
  std::vector<storage::WriteSet::AuditIndexEntry> entries;
  entries.push_back({std::string{kTallyKey} + t.time, EncodeTally(t)});
  if (t.kind == SubmissionTally::Kind::kAccepted && !t.submission.empty())
    entries.push_back({std::string{kAcceptedKey} + t.submission + '\0', ""});
  return entries;
}

}  // namespace

std::optional<SubmissionTally> TallyOfEvent(const json::object& o) {
  auto text = [&](std::string_view key) -> std::string {
    const json::value* f = o.if_contains(key);
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  std::string type = text("event");
  // A version that added a document is a document submitted and accepted;
  // a version (or its refusal) that only changed record metadata is none.
  if (type == "version") {
    if (text("change").rfind("added ", 0) != 0) return std::nullopt;
    type = "ingest";
  }
  if (type == "refused" && text("format") == "record metadata") return std::nullopt;
  SubmissionTally t;
  t.category = text("category");
  if (type == "ingest") t.kind = SubmissionTally::Kind::kAccepted;
  else if (type == "duplicate") t.kind = SubmissionTally::Kind::kDuplicate;
  else if (type == "refused")
    t.kind = t.category == kNotSigned ? SubmissionTally::Kind::kUnsigned : SubmissionTally::Kind::kRefused;
  else return std::nullopt;
  t.time = text("time");
  t.organ = text("organ");
  t.signer_organization = text("signer_organization");
  t.submission = text("submission");
  return t;
}

void AppendSubmissionEvent(storage::WriteSet& w, const Bytes& event) {
  json::error_code ec;
  json::value v = json::parse(std::string_view(reinterpret_cast<const char*>(event.data()), event.size()), ec);
  std::optional<SubmissionTally> tally;
  if (!ec && v.is_object()) tally = TallyOfEvent(v.as_object());
  w.AppendAudit(event, tally ? TallyEntries(*tally) : std::vector<storage::WriteSet::AuditIndexEntry>{});
}

void PutTallyEntries(storage::WriteSet& w, std::uint64_t sequence, const json::object& event) {
  if (auto tally = TallyOfEvent(event))
    for (const auto& entry : TallyEntries(*tally)) w.PutIndex(entry.key_prefix + BigEndian64(sequence), AsBytes(entry.value));
}

void PutUnreadableEvent(storage::WriteSet& w, std::uint64_t sequence, std::string_view why) {
  w.PutIndex(std::string{kUnreadableEventKey} + BigEndian64(sequence), AsBytes(why));
}

Status ScanTallies(const storage::Store& store, std::string_view from, std::string_view to,
                   const std::function<void(const SubmissionTally&, bool later_accepted)>& visit,
                   std::vector<std::string>& unreadable) {
  auto cursor = store.NewIndexCursor();
  for (cursor->Seek(std::string{kUnreadableEventKey}); cursor->Valid() && cursor->key()[0] == kUnreadableEventKey;
       cursor->Next()) {
    const ByteView why = cursor->value();
    unreadable.emplace_back(why.begin(), why.end());
  }
  PRESERVE_RETURN_IF_ERROR(cursor->status());
  auto acceptances = store.NewIndexCursor();
  const std::string end = std::string{kTallyKey} + std::string(to);
  for (cursor->Seek(std::string{kTallyKey} + std::string(from)); cursor->Valid(); cursor->Next()) {
    const std::string_view key = cursor->key();
    if (key.empty() || key[0] != kTallyKey || !(key < end)) break;
    if (key.size() < 9) return Status::Corruption("a signature-use tally key in the search index is malformed");
    const ByteView v = cursor->value();
    PRESERVE_ASSIGN_OR_RETURN(
        SubmissionTally tally,
        DecodeTally(key.substr(1, key.size() - 9), std::string_view(reinterpret_cast<const char*>(v.data()), v.size())));
    bool later_accepted = false;
    if (tally.kind == SubmissionTally::Kind::kRefused && !tally.submission.empty()) {
      // The first acceptance of the same signed object after this event.
      const std::string accepted = std::string{kAcceptedKey} + tally.submission + '\0';
      acceptances->Seek(accepted + BigEndian64(ReadBigEndian64(key.substr(key.size() - 8)) + 1));
      later_accepted = acceptances->Valid() && acceptances->key().substr(0, accepted.size()) == accepted;
      PRESERVE_RETURN_IF_ERROR(acceptances->status());
    }
    visit(tally, later_accepted);
  }
  return cursor->status();
}

Result<SearchIndexProgress> ReadSearchIndexProgress(const storage::Store& store) {
  SearchIndexProgress progress;
  auto value = store.GetSetting(kProgressSetting);
  if (!value.ok() && value.status().code() == StatusCode::kNotFound) return progress;
  PRESERVE_RETURN_IF_ERROR(value.status());
  const std::string text(value->begin(), value->end());
  progress.started = true;
  if (text == kComplete) {
    progress.complete = true;
  } else if (text.rfind("through:", 0) == 0) {
    progress.built_through = text.substr(8);
  } else if (text.rfind("events:", 0) == 0) {
    progress.events_through = std::strtoull(text.c_str() + 7, nullptr, 10);
  } else {
    return Status::Corruption("the search index's progress setting reads '" + EscapeForDisplay(text) + "'");
  }
  return progress;
}

void PutSearchIndexComplete(storage::WriteSet& w) { w.PutSetting(kProgressSetting, AsBytes(kComplete)); }

void PutSearchIndexBuiltThrough(storage::WriteSet& w, std::string_view id) {
  w.PutSetting(kProgressSetting, AsBytes("through:" + std::string(id)));
}

void PutSearchIndexEventsThrough(storage::WriteSet& w, std::uint64_t sequence) {
  w.PutSetting(kProgressSetting, AsBytes("events:" + std::to_string(sequence)));
}

}  // namespace preserve::archive
