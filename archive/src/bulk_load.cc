#include "preserve/archive/bulk_load.h"

#include "archive_impl.h"
#include "records.h"
#include "search_index.h"

namespace preserve::archive {

std::filesystem::path DatabaseDir(const std::filesystem::path& root) { return DbDir(root); }

std::string_view ProducerName() { return kProducer; }

Result<std::string> NewPackageId(const Clock& clock) { return NewId(clock); }

void PutQueuedPackage(storage::WriteSet& w, const std::string& id, TimePoint created,
                      const std::vector<LoadedObject>& objects, const package::Manifest* manifest) {
  PackageRecord record;
  record.id = id;
  record.created = created;
  for (const LoadedObject& o : objects) record.objects.push_back({o.path, o.sha256, o.size});
  w.PutPackage(id, EncodePackageRecord(record));
  w.Enqueue(id, EncodeQueueEntry(record));
  PutIndexEntry(w, MakeIndexEntry(record, manifest != nullptr ? *manifest : package::Manifest{}, nullptr), nullptr);
}

void AppendLoadedAuditEvent(storage::WriteSet& w, const Bytes& event) { AppendSubmissionEvent(w, event); }

}  // namespace preserve::archive
