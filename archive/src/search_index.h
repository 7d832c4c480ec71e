// The search index: what `List` with a filter (the CLI's `list`, the
// service's Search, the web application's search) reads instead of every
// package's manifest. It lives in the store's index family and is written in
// the same commit as the package records it describes, so it never disagrees
// with them after a crash.
//
// A package is indexed under its own id (its first version's), as its latest
// version describes it. Keys, in the index family:
//   "e" id                         -> the package's entry (IndexEntry, JSON): what a listing shows,
//                                     and what its other keys were made from, so that they can be erased
//   "w" field word 0x00 id         -> "" : a word of one of the package's fields (folded)
//   "y" YYYY 0x00 id               -> "MM-DD" : the year of the record's issue date
//   "m" YYYY-MM 0x00 id            -> "DD"    : its month
// Each list of ids under one prefix is in id order, which is creation order
// (ids are UUIDv7): a filter of several fields is a join that seeks from one
// list to the next (a leapfrog join), and a page costs a few seeks per match
// however many packages the store holds. The ingest date needs no key of its
// own: it is a range of ids.
//
// Matching is as people search: words, whatever their case, their diacritics
// and their Unicode normalization ("dak nong" finds "Đắk Nông"). A filter's
// words must all be words of the field; its last word may be the beginning of
// one ("6587/UBND-CN" finds "6587/UBND-CNXD").
//
// Stores made before the index have none until `preserve index build` makes
// it (BuildSearchIndex: resumable, audited); until it is complete, List reads
// manifests, with the same matching.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "preserve/archive/catalogue.h"
#include "preserve/package/manifest.h"
#include "preserve/storage/store.h"
#include "records.h"

namespace preserve::archive {

// What the index holds of one package.
struct IndexEntry {
  std::string id;         // the package's (its first version's)
  std::string latest_id;  // the latest version's stored id
  std::uint32_t versions = 1;
  TimePoint created;  // the package's, not its latest version's
  bool deleted = false;
  std::optional<package::RecordMetadata> metadata;  // the latest version's; none once deleted
  std::vector<std::string> signer_organizations;    // of every version's signatures, without repeats
  std::vector<std::string> documents;               // the latest version's, under data/documents/
};

// The entry of the package whose latest version is `record` with `manifest`;
// `previous`: the entry held for the package before this version (its
// creation and signer organizations carry over), nullptr for a new package.
IndexEntry MakeIndexEntry(const PackageRecord& record, const package::Manifest& manifest,
                          const IndexEntry* previous);
// `entry` once the package is deleted: its metadata go with its content.
IndexEntry DeletedIndexEntry(IndexEntry entry);

// Puts `entry` into `w`, erasing the keys of `previous` (the entry held so
// far, nullptr when none) that it no longer has.
void PutIndexEntry(storage::WriteSet& w, const IndexEntry& entry, const IndexEntry* previous);

// The index writes of many packages (a build step, a bulk load), put into a
// WriteSet in key order: RocksDB's memtable then inserts each key after the
// last one (the store's insert hint), where keys in scattered order cost a
// skip-list search each.
class IndexWrites {
 public:
  void Put(const IndexEntry& entry, const IndexEntry* previous);  // as PutIndexEntry
  void MoveInto(storage::WriteSet& w);                            // then empty

 private:
  struct Write {
    std::string key;
    Bytes value;
    bool erase = false;
  };
  std::vector<Write> writes_;
};

// The entry held for package `id`; nullopt when it has none. kCorruption for one that cannot be read.
Result<std::optional<IndexEntry>> ReadIndexEntry(const storage::Store& store, std::string_view id);

// Whether `entry` matches the record-metadata fields of `filter` (not its
// state, which the entry does not hold): the index's matching, for a
// package read from its manifest.
bool MatchesFilter(const IndexEntry& entry, const ListFilter& filter);

// Up to `limit` entries matching `filter`, in id order after `after`, each as
// `read` reads it: an entry that cannot be decoded comes with its id and the
// error. `accept` is asked about each entry that matches the metadata
// fields (the caller's checks of what the index does not hold: the state).
struct IndexHit {
  std::string id;
  Result<IndexEntry> entry;
};
Result<std::vector<IndexHit>> SearchIndex(const storage::Store& store, const ListFilter& filter,
                                          std::string_view after, std::size_t limit,
                                          const std::function<Result<bool>(const IndexEntry&)>& accept);

// ---- The signature-use tally ----
//
// Every audit event the signature-use report counts (an ingest, a duplicate,
// a refusal, a version that added a document) leaves two kinds of entries,
// which the store writes with the event (storage::WriteSet::AppendAudit),
// each key ending with the event's sequence:
//   "t" time seq                   -> the tally (kind, organ, signer organization, category, submission)
//   "a" submission 0x00 seq        -> "" : an acceptance of that signed object
//   "u" seq                        -> why : an event the index build could not read (damage, an edit)
// so the report reads the events of its period in time order, and settles a
// refusal ("accepted later?") with one seek, without reading the trail.

struct SubmissionTally {
  enum class Kind : char { kAccepted = 'a', kDuplicate = 'd', kRefused = 'r', kUnsigned = 'n' };
  Kind kind = Kind::kAccepted;
  std::string time;  // as events store it: "2026-12-01T08:00:00Z"
  std::string organ;
  std::string signer_organization;
  std::string category;    // a refusal's
  std::string submission;  // the signed object's key, hex
};
// The tally of one audit event (its JSON object); nullopt for the events the report does not count.
std::optional<SubmissionTally> TallyOfEvent(const boost::json::object& event);
// Appends `event` to the trail in `w`, with its tally entries when it has a tally.
void AppendSubmissionEvent(storage::WriteSet& w, const Bytes& event);
// The tallies of the events whose time is in [from, to) (as stored, compared
// as text), in time order, each with whether a later event accepted the same
// signed object (for refusals); and, in `unreadable`, every event the index
// build could not read (its time unknown, whatever the period).
Status ScanTallies(const storage::Store& store, std::string_view from, std::string_view to,
                   const std::function<void(const SubmissionTally&, bool later_accepted)>& visit,
                   std::vector<std::string>& unreadable);

// The index's progress: made complete by init, or built for a store made
// before it, packages first, then the audit trail's tallies.
struct SearchIndexProgress {
  bool complete = false;
  bool started = false;        // a build was started (it may be resumed)
  std::string built_through;   // while indexing packages: the last package id done ("" before the first)
  std::optional<std::uint64_t> events_through;  // while indexing the trail: the next event's sequence
};
Result<SearchIndexProgress> ReadSearchIndexProgress(const storage::Store& store);
// Marks the index complete in `w` (init: an empty store's index is).
void PutSearchIndexComplete(storage::WriteSet& w);
// Marks it built through package `id` (and so not complete) in `w`.
void PutSearchIndexBuiltThrough(storage::WriteSet& w, std::string_view id);
// Marks every package indexed, and the trail's events before `sequence`.
void PutSearchIndexEventsThrough(storage::WriteSet& w, std::uint64_t sequence);
// Puts in `w` the tally entries of the stored event `sequence` (the build's, for events stored before the index).
void PutTallyEntries(storage::WriteSet& w, std::uint64_t sequence, const boost::json::object& event);
// Records in `w` that the stored event `sequence` could not be read, and `why`.
void PutUnreadableEvent(storage::WriteSet& w, std::uint64_t sequence, std::string_view why);

}  // namespace preserve::archive
