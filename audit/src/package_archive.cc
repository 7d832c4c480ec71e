#include "preserve/audit/package_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <memory>
#include <set>

#include "preserve/util/certificates.h"

namespace preserve::audit {

namespace {

struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveWritePtr = std::unique_ptr<struct archive, ArchiveWriteFree>;
using ArchiveReadPtr = std::unique_ptr<struct archive, ArchiveReadFree>;
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryFree>;

constexpr const char* kEvidencePath = "evidence.ers";
constexpr const char* kDataPrefix = "data/";
constexpr const char* kTsaPrefix = "tsa/";
// An exported package is read into memory: these bound what a hostile zip can make us allocate.
constexpr la_int64_t kMaxEntryBytes = 1LL << 30;
constexpr la_int64_t kMaxTotalBytes = 4LL << 30;

constexpr const char* kReadme =
    "This is an archival package exported by preserve.\n"
    "\n"
    "evidence.ers is an RFC 4998 Evidence Record (DER). It covers exactly the files\n"
    "under data/, taken together as one data-object group: hash each file, sort the\n"
    "hashes (unsigned bytes), hash their concatenation, and follow the record's\n"
    "reduced hash tree to the RFC 3161 time-stamp token inside it.\n"
    "\n"
    "data/manifest.json lists the documents, their signatures and the validation\n"
    "material (certificates under data/validation/), with what was found at ingest.\n"
    "\n"
    "tsa/ca.pem is the archive's local certification authority, the trust anchor of\n"
    "its time-stamps; tsa/tsa-*.pem are the time-stamping certificates it issued.\n"
    "Compare the CA's fingerprint with the one the archive published:\n"
    "    openssl x509 -in tsa/ca.pem -noout -fingerprint -sha256\n"
    "\n"
    "To check everything (data, evidence, signatures) offline:\n"
    "    preserve verify-package THIS.zip --tsa-trust ca-you-were-given.pem\n"
    "To check the evidence record alone with preserve:\n"
    "    preserve verify-er --er evidence.ers --tsa-trust tsa/ca.pem data/...\n"
    "Any RFC 4998 implementation (for example BouncyCastle's ERSEvidenceRecord) can\n"
    "check evidence.ers against the files under data/ as one data group.\n";

Status AddEntry(struct archive* zip, const std::string& path, ByteView bytes, time_t mtime) {
  ArchiveEntryPtr entry(archive_entry_new());
  archive_entry_set_pathname_utf8(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
  archive_entry_set_mtime(entry.get(), mtime, 0);
  if (archive_write_header(zip, entry.get()) != ARCHIVE_OK)
    return Status::IOError("zip: cannot add " + path + ": " + archive_error_string(zip));
  if (!bytes.empty() && archive_write_data(zip, bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size()))
    return Status::IOError("zip: cannot write " + path + ": " + archive_error_string(zip));
  return Status::Ok();
}

// A path an extractor could be tricked by, or that is not plain relative UTF-8.
bool IsHostilePath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos) return true;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == ".." || part == ".") return true;
    if (part.empty() && end != path.size()) return true;  // "a//b"
    start = end + 1;
  }
  return false;
}

}  // namespace

Status WritePackageZip(const PackageContents& contents, const std::filesystem::path& zip_path) {
  std::filesystem::path tmp = zip_path;
  tmp += ".partial-" + std::to_string(::getpid());
  ArchiveWritePtr zip(archive_write_new());
  archive_write_set_format_zip(zip.get());
  if (archive_write_open_filename(zip.get(), tmp.c_str()) != ARCHIVE_OK)
    return Status::IOError("cannot create " + tmp.string() + ": " + archive_error_string(zip.get()));
  time_t now = ::time(nullptr);
  auto write_all = [&]() -> Status {
    PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(), "README.txt", AsBytes(kReadme), now));
    PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(), kEvidencePath, contents.evidence_record, now));
    for (const auto& [path, bytes] : contents.data)
      PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(), kDataPrefix + path, bytes, now));
    for (std::size_t i = 0; i < contents.tsa_certificates.size(); ++i) {
      PRESERVE_ASSIGN_OR_RETURN(std::string pem, CertificateToPem(contents.tsa_certificates[i]));
      std::string name = i == 0 ? "ca.pem" : "tsa-" + std::to_string(i) + ".pem";
      PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(), kTsaPrefix + name, AsBytes(pem), now));
    }
    if (archive_write_close(zip.get()) != ARCHIVE_OK)
      return Status::IOError("zip: " + std::string(archive_error_string(zip.get())));
    return Status::Ok();
  };
  Status written = write_all();
  zip.reset();
  std::error_code ec;
  if (!written.ok()) {
    std::filesystem::remove(tmp, ec);
    return written;
  }
  std::filesystem::rename(tmp, zip_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Status::IOError("cannot write " + zip_path.string() + ": " + ec.message());
  }
  return Status::Ok();
}

Result<PackageContents> ReadPackageZip(const std::filesystem::path& zip_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(zip_path, ec))
    return Status::NotFound(zip_path.string() + ": no such file");
  ArchiveReadPtr zip(archive_read_new());
  archive_read_support_format_zip(zip.get());
  if (archive_read_open_filename(zip.get(), zip_path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Status::InvalidArgument(zip_path.string() + ": not a zip archive: " + archive_error_string(zip.get()));

  PackageContents contents;
  std::set<std::string> seen;
  bool has_evidence = false;
  la_int64_t total = 0;
  archive_entry* entry = nullptr;
  while (true) {
    int rc = archive_read_next_header(zip.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK)
      return Status::Corruption(zip_path.string() + ": damaged zip: " + archive_error_string(zip.get()));
    const char* raw_name = archive_entry_pathname_utf8(entry);
    if (raw_name == nullptr) raw_name = archive_entry_pathname(entry);
    std::string name = raw_name != nullptr ? raw_name : "";
    if (IsHostilePath(name)) return Status::InvalidArgument(zip_path.string() + ": refused unsafe path '" + name + "'");
    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;
    if (type != AE_IFREG || archive_entry_hardlink(entry) != nullptr)
      return Status::InvalidArgument(zip_path.string() + ": refused '" + name + "': not a regular file");
    if (!seen.insert(name).second)
      return Status::InvalidArgument(zip_path.string() + ": refused: '" + name + "' appears twice");

    Bytes bytes;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(zip.get(), buf, sizeof buf)) > 0) {
      total += n;
      if (static_cast<la_int64_t>(bytes.size()) + n > kMaxEntryBytes || total > kMaxTotalBytes)
        return Status::InvalidArgument(zip_path.string() + ": refused: '" + name + "' unpacks beyond the size limit");
      bytes.insert(bytes.end(), buf, buf + n);
    }
    if (n < 0)
      return Status::Corruption(zip_path.string() + ": damaged entry '" + name + "': " + archive_error_string(zip.get()));

    if (name == kEvidencePath) {
      contents.evidence_record = std::move(bytes);
      has_evidence = true;
    } else if (name.rfind(kDataPrefix, 0) == 0) {
      contents.data.emplace(name.substr(std::string(kDataPrefix).size()), std::move(bytes));
    } else if (name.rfind(kTsaPrefix, 0) == 0) {
      auto certs = CertificatesFromPem(bytes);
      if (!certs.ok()) return Status::InvalidArgument(zip_path.string() + ": '" + name + "' is not a PEM certificate");
      // ca.pem first: it is the trust anchor; the TSA certificates follow.
      auto pos = name == std::string(kTsaPrefix) + "ca.pem" ? contents.tsa_certificates.begin()
                                                              : contents.tsa_certificates.end();
      contents.tsa_certificates.insert(pos, certs->begin(), certs->end());
    }
  }
  if (!has_evidence) return Status::InvalidArgument(zip_path.string() + ": not a preserve package (no evidence.ers)");
  if (contents.data.empty()) return Status::InvalidArgument(zip_path.string() + ": not a preserve package (no data/)");
  return contents;
}

}  // namespace preserve::audit
