// Content no package refers to, and collecting it. Private to archive/.
//
// Such content is left by an ingest killed while it copied an accepted
// document's chunks into the store, just before the commit that would have
// referred to them (storage::ContentWriter), and by refusals and crashes in
// versions of preserve that wrote a document's chunks before its verdict.
// One rule decides it for 'check', which counts it, and 'gc', which erases
// it: a value of the content family is garbage when no package record lists
// it (an object stored whole, or the chunk list of one) or lists an object
// whose chunk list names it (a chunk). Records of deleted packages count
// too: what a deletion left behind is a problem 'check' names, never
// something gc erases on its own judgement.
#pragma once

#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "preserve/storage/store.h"

namespace preserve::archive {

// The objects package records list, and what one scan of the content family
// finds of them. Records are read in id order and content in digest order,
// so a record's objects are never looked up one by one (a random read each:
// most of 'check' and 'gc' at a million packages); they are sorted, and the
// scan meets them in its own order. Memory is bounded: past kRunKeys digests
// (32 bytes each) the sorted runs go to a temporary file and are merged as
// the scan goes (at ten million packages of six objects, 1.9 GB of file and
// 40 MB of memory). Only the chunk lists among the objects are read after
// the scan, one point read each (large objects only).
class ContentReferences {
 public:
  static constexpr std::size_t kRunKeys = std::size_t{1} << 20;  // digests sorted in memory at a time

  // `run_keys`: digests sorted in memory before a run is spilled (tests make it small).
  explicit ContentReferences(std::size_t run_keys = kRunKeys);
  ~ContentReferences();
  ContentReferences(const ContentReferences&) = delete;
  ContentReferences& operator=(const ContentReferences&) = delete;

  // An object a record lists (kIOError when the temporary file cannot be written).
  Status Add(ByteView sha256);
  // Ends adding: ScanUnreferencedContent may run from now on.
  Status Seal();
  // After the scan: listed objects that are not in the store.
  std::vector<Bytes> MissingObjects() const;
  // After the scan: chunks that a listed object's chunk list names and that
  // are not in the store, each with that object.
  std::vector<std::pair<Bytes, Bytes>> MissingChunks() const { return missing_chunks_; }

 private:
  friend Status ScanUnreferencedContent(const storage::Store&, ContentReferences&,
                                        const std::function<void(ByteView, bool, std::uint64_t)>&,
                                        const std::function<Status(ByteView, const Status&)>&,
                                        const storage::ScanGapSink*);
  using Key = std::array<std::uint8_t, 32>;
  class Merge;  // the sorted runs, read back as one ascending stream without repeats

  // Whether `digest` is a listed object. Asked in ascending order (the
  // scan's): listed objects passed over without being asked for are missing.
  bool Visit(ByteView digest);
  // Ends the visits: the rest of the listed objects are missing.
  void EndVisits();
  Status SpillRun();

  std::size_t run_keys_;
  std::vector<Key> run_;  // the run being filled
  std::unique_ptr<std::FILE, decltype(&std::fclose)> spill_{nullptr, &std::fclose};
  std::vector<std::size_t> spilled_runs_;  // each spilled run's length, in keys, in file order
  std::unique_ptr<Merge> merge_;
  bool head_visited_ = false;  // whether the merge's head was visited
  std::vector<Key> missing_objects_;
  std::vector<std::pair<Bytes, Bytes>> missing_chunks_;  // (chunk, its object)
};

// Scans the content family once against `references` (sealed): `unreferenced`
// gets every value no record refers to (garbage.h's rule: an object stored
// whole or a chunk list no record lists, a chunk no listed chunk list names),
// with its size; listed objects and chunks the scan did not find are then
// the references' Missing*. A listed object's chunk list that cannot be
// read goes to `unreadable_list` (object, why), before any chunk is judged:
// its chunks cannot be told from garbage, and its error, if it returns one,
// ends the scan. `gaps`: as Store::ScanContent; after a damaged stretch,
// objects the scan did not see are looked up one by one.
Status ScanUnreferencedContent(const storage::Store& store, ContentReferences& references,
                               const std::function<void(ByteView digest, bool chunk_list, std::uint64_t size)>& unreferenced,
                               const std::function<Status(ByteView object, const Status& why)>& unreadable_list,
                               const storage::ScanGapSink* gaps = nullptr);

// With content in an object store: compares its listing with the content
// rows. `unreferenced` gets each object no row refers to; `missing` each row
// whose object is absent, or present with another size than the row says
// (`listed_size`: the listing's size, nullopt when absent). Reads the rows
// into memory (32 bytes and a size each).
Status CompareObjectStore(const storage::Store& store, storage::ObjectStore& objects,
                          const std::function<void(ByteView digest, std::uint64_t size)>& unreferenced,
                          const std::function<void(ByteView digest, std::uint64_t row_size,
                                                   std::optional<std::uint64_t> listed_size)>& missing);

// Trees no batch names: a large batch's tree is committed before the batch
// (CommitTreeInSteps), so a seal or renewal killed in between leaves one.
// Nothing reads it (a batch id is never used again); 'check' counts such
// chunks, 'gc' erases them. Must not run beside a seal or renewal of the
// same store, whose tree is such a one until its batch is committed.
Status ScanUnnamedTreeChunks(const storage::Store& store,
                             const std::function<void(std::string_view batch_id, std::uint32_t level,
                                                      std::uint32_t chunk, std::uint64_t size)>& visit);

}  // namespace preserve::archive
