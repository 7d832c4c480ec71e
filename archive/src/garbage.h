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
#include <functional>
#include <vector>

#include "preserve/storage/store.h"
#include "records.h"

namespace preserve::archive {

// The content keys package records refer to, compactly: 32 bytes each.
class ContentReferences {
 public:
  // An object a record lists, and the chunks of its chunk list (empty when it is stored whole).
  void Add(ByteView sha256, const std::vector<Bytes>& chunks);
  // Ends adding; Visit and UnvisitedChunks may be called from now on.
  void Seal();
  // Whether the content value ScanContent names (`digest`, and whether it is
  // a chunk list) is referred to; marks it seen.
  bool Visit(ByteView digest, bool chunk_list);
  // The chunks some chunk list names that no Visit saw: missing from the store.
  std::vector<Bytes> UnvisitedChunks() const;

 private:
  static constexpr std::size_t kKey = 32;
  using Key = std::array<std::uint8_t, kKey>;
  struct Sorted {
    std::vector<Key> keys;
    std::vector<bool> visited;
    void Push(ByteView digest);
    void Seal();
    bool Visit(ByteView digest);
  };
  Sorted objects_;
  Sorted chunks_;
};

// Adds every object `record` lists, with its chunks. kCorruption when a
// chunk list cannot be read.
Status AddContentReferences(const storage::Store& store, const PackageRecord& record, ContentReferences& references);

// Visits every value of the content family that `references` (sealed) does
// not refer to, marking those it does as seen. `gaps`: as Store::ScanContent.
Status ScanUnreferencedContent(const storage::Store& store, ContentReferences& references,
                               const std::function<void(ByteView digest, bool chunk_list, std::uint64_t size)>& visit,
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
