#include "preserve/audit/package_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <optional>

#include <boost/json.hpp>

#include "preserve/ingest/safe_archive.h"
#include "preserve/util/certificates.h"

namespace preserve::audit {

namespace {

namespace json = boost::json;

struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveWritePtr = std::unique_ptr<struct archive, ArchiveWriteFree>;
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryFree>;

constexpr const char* kEvidencePath = "evidence.ers";
constexpr const char* kDataPrefix = "data/";
constexpr const char* kTsaPrefix = "tsa/";
// Earlier evidence records that lapsed: evidence-lapsed-1.ers, ... oldest first.
constexpr std::string_view kLapsedEvidencePrefix = "evidence-lapsed-";
constexpr std::string_view kLapsedEvidenceSuffix = ".ers";
// What the archive says of its own sealing, outside the evidence: information.
constexpr const char* kInfoPolicyPath = "info/policy.json";
constexpr const char* kInfoArchivePath = "info/archive.json";
// ArchiveLimits' sizes (1 GiB a file, 4 GiB in all) bound what a hostile zip
// makes us unpack. No ratio limit: a package holds whatever documents were
// ingested, a very compressible one included.
ingest::ArchiveLimits PackageLimits() {
  ingest::ArchiveLimits limits;
  limits.max_ratio = 0;
  return limits;
}

// What is held in memory, whatever the entries' sizes: a data object whose
// header declares more than kHeldEntryBytes (or none), or that would take the
// objects held past kHeldBytes, is streamed from the zip when used; any other
// entry (evidence records, certificates, information) larger than
// kHeldEntryBytes is refused, as no package of preserve's has one.
constexpr std::uint64_t kHeldEntryBytes = 16ull << 20;
constexpr std::uint64_t kHeldBytes = 64ull << 20;

// A data object left in the zip: each use opens it again, finds the entry and
// streams it, under the same checks and limits as the first reading (a zip
// changed in between gives other bytes, which fail their digests).
StreamedObject StreamFromZip(const std::filesystem::path& zip_path, const std::string& entry, std::uint64_t size) {
  return {size, [zip_path, entry](const ContentSink& sink) -> Status {
            PRESERVE_ASSIGN_OR_RETURN(auto zip, ingest::ArchiveReader::OpenFile(zip_path, ingest::ArchiveFormat::kZip,
                                                                               PackageLimits()));
            while (true) {
              PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> next, zip->NextFile());
              if (!next) return Status::NotFound(zip_path.string() + ": '" + entry + "' is no longer in the zip");
              if (*next == entry) return zip->ReadContent(sink);
            }
          }};
}

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
    "tsa/ca.pem is a copy of the archive's time-stamping certification authority;\n"
    "tsa/tsa-*.pem are the time-stamping certificates it issued. A copy inside the\n"
    "package proves nothing by itself (anyone can make a package that carries a CA\n"
    "of their own): trust only the CA certificate, or its SHA-256 fingerprint, that\n"
    "the archive published, and compare:\n"
    "    openssl x509 -in tsa/ca.pem -noout -fingerprint -sha256\n"
    "Likewise the signers' trust anchors under data/validation/ are what ingest used;\n"
    "check the signatures against the anchors you trust (for Vietnam: the VGCA roots).\n"
    "\n"
    "info/policy.json is the algorithm policy the archive worked under, and\n"
    "info/archive.json names the archive's CA fingerprint: information, which a\n"
    "verifier may use to be stricter, never looser. evidence-lapsed-N.ers, when\n"
    "present, are earlier evidence records that lapsed; evidence.ers then proves\n"
    "existence only from its own first time-stamp.\n"
    "\n"
    "To check everything (data, evidence, signatures) offline:\n"
    "    preserve verify-package THIS.zip --tsa-trust archive-ca.pem --trust signer-roots.pem\n"
    "    (or --tsa-fingerprint SHA256:... --trust-fingerprint SHA256:... with the published fingerprints)\n"
    "To check the evidence record alone with preserve:\n"
    "    preserve verify-er --er evidence.ers --tsa-trust archive-ca.pem data/...\n"
    "Any RFC 4998 implementation (for example BouncyCastle's ERSEvidenceRecord) can\n"
    "check evidence.ers against the files under data/ as one data group.\n";

// An entry of `size` bytes, which `content` pushes in pieces (one piece for bytes in memory).
Status AddEntry(struct archive* zip, const std::string& path, std::uint64_t size, const ContentSource& content,
                time_t mtime) {
  ArchiveEntryPtr entry(archive_entry_new());
  archive_entry_set_pathname_utf8(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
  archive_entry_set_mtime(entry.get(), mtime, 0);
  if (archive_write_header(zip, entry.get()) != ARCHIVE_OK)
    return Status::IOError("zip: cannot add " + path + ": " + archive_error_string(zip));
  std::uint64_t written = 0;
  PRESERVE_RETURN_IF_ERROR(content([&](ByteView piece) -> Status {
    if (!piece.empty() && archive_write_data(zip, piece.data(), piece.size()) != static_cast<la_ssize_t>(piece.size()))
      return Status::IOError("zip: cannot write " + path + ": " + archive_error_string(zip));
    written += piece.size();
    return Status::Ok();
  }));
  // The header declared the size: a source that disagrees would make a corrupt entry.
  if (written != size)
    return Status::Corruption("zip: " + path + " is " + std::to_string(written) + " bytes, not the " +
                              std::to_string(size) + " recorded");
  return Status::Ok();
}

Status AddEntry(struct archive* zip, const std::string& path, ByteView bytes, time_t mtime) {
  return AddEntry(zip, path, bytes.size(), [bytes](const ContentSink& sink) { return sink(bytes); }, mtime);
}

// info/archive.json: the archive's CA fingerprint and, per lapsed record, when and why a new chain was started.
std::string ArchiveInfoJson(const PackageContents& contents) {
  json::array restarts;
  for (std::size_t i = 0; i < contents.lapsed_evidence.size(); ++i)
    restarts.push_back(json::object{{"record", std::string(kLapsedEvidencePrefix) + std::to_string(i + 1) +
                                                   std::string(kLapsedEvidenceSuffix)},
                                    {"restarted", contents.lapsed_evidence[i].restarted}});
  return json::serialize(json::object{{"archive_tsa_ca_sha256", contents.archive_tsa_ca_sha256},
                                      {"evidence_restarts", std::move(restarts)}}) +
         "\n";
}

// Reads info/archive.json into `contents`; `lapsed` are the lapsed records by number.
Status ReadArchiveInfo(ByteView bytes, const std::map<std::size_t, Bytes>& lapsed, PackageContents& contents) {
  json::error_code ec;
  json::value parsed = json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), ec);
  if (ec || !parsed.is_object()) return Status::InvalidArgument(std::string(kInfoArchivePath) + " is not a JSON object");
  const json::object& info = parsed.as_object();
  if (const json::value* ca = info.if_contains("archive_tsa_ca_sha256"); ca != nullptr && ca->is_string())
    contents.archive_tsa_ca_sha256 = std::string(ca->as_string());
  std::map<std::string, std::string> restarted;
  if (const json::value* list = info.if_contains("evidence_restarts"); list != nullptr && list->is_array())
    for (const json::value& item : list->as_array()) {
      if (!item.is_object()) continue;
      const json::value* record = item.as_object().if_contains("record");
      const json::value* when = item.as_object().if_contains("restarted");
      if (record != nullptr && record->is_string() && when != nullptr && when->is_string())
        restarted[std::string(record->as_string())] = std::string(when->as_string());
    }
  for (const auto& [number, der] : lapsed) {
    const std::string name =
        std::string(kLapsedEvidencePrefix) + std::to_string(number) + std::string(kLapsedEvidenceSuffix);
    auto found = restarted.find(name);
    contents.lapsed_evidence.push_back(
        {der, found == restarted.end() ? "(the package does not say when)" : found->second});
  }
  return Status::Ok();
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
    for (const auto& [path, object] : contents.streamed)
      PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(), kDataPrefix + path, object.size, object.read, now));
    for (std::size_t i = 0; i < contents.lapsed_evidence.size(); ++i)
      PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(),
                                        std::string(kLapsedEvidencePrefix) + std::to_string(i + 1) +
                                            std::string(kLapsedEvidenceSuffix),
                                        contents.lapsed_evidence[i].evidence_record, now));
    if (contents.sealing_policy) PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(), kInfoPolicyPath, *contents.sealing_policy, now));
    PRESERVE_RETURN_IF_ERROR(AddEntry(zip.get(), kInfoArchivePath, AsBytes(ArchiveInfoJson(contents)), now));
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
  PRESERVE_ASSIGN_OR_RETURN(auto zip, ingest::ArchiveReader::OpenFile(zip_path, ingest::ArchiveFormat::kZip,
                                                                     PackageLimits()));
  PackageContents contents;
  bool has_evidence = false;
  std::map<std::size_t, Bytes> lapsed;  // by number, so that they come oldest first
  std::optional<Bytes> archive_info;
  std::uint64_t held = 0;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> next, zip->NextFile());
    if (!next) break;
    const std::string& name = *next;
    // No more than its declared size is ever read (safe_archive.h).
    const std::optional<std::uint64_t> declared = zip->DeclaredSize();
    if (!declared) return Status::Corruption(zip_path.string() + ": '" + name + "' does not declare its size");
    const std::uint64_t size = *declared;
    const bool small = size <= kHeldEntryBytes;
    if (name.rfind(kDataPrefix, 0) == 0 && (!small || held + size > kHeldBytes)) {
      contents.streamed.emplace(name.substr(std::string(kDataPrefix).size()), StreamFromZip(zip_path, name, size));
      continue;
    }
    const bool known = name == kEvidencePath || name == kInfoPolicyPath || name == kInfoArchivePath ||
                       name.rfind(kDataPrefix, 0) == 0 || name.rfind(kTsaPrefix, 0) == 0 ||
                       name.rfind(kLapsedEvidencePrefix, 0) == 0;
    if (!known) continue;  // README.txt, and what a later version may add: never read
    if (!small)
      return Status::InvalidArgument(zip_path.string() + ": '" + name + "' is larger than " +
                                     std::to_string(kHeldEntryBytes) + " bytes, which no package entry of its kind is");
    held += size;
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, zip->ReadContent());

    if (name == kEvidencePath) {
      contents.evidence_record = std::move(bytes);
      has_evidence = true;
    } else if (name.size() > kLapsedEvidencePrefix.size() + kLapsedEvidenceSuffix.size() &&
               name.rfind(kLapsedEvidencePrefix, 0) == 0 &&
               name.compare(name.size() - kLapsedEvidenceSuffix.size(), kLapsedEvidenceSuffix.size(),
                            kLapsedEvidenceSuffix) == 0) {
      const std::string number = name.substr(kLapsedEvidencePrefix.size(),
                                             name.size() - kLapsedEvidencePrefix.size() - kLapsedEvidenceSuffix.size());
      if (number.empty() || number.size() > 4 || number.find_first_not_of("0123456789") != std::string::npos)
        return Status::InvalidArgument(zip_path.string() + ": unexpected entry '" + name + "'");
      lapsed[std::stoul(number)] = std::move(bytes);
    } else if (name == kInfoPolicyPath) {
      contents.sealing_policy = std::move(bytes);
    } else if (name == kInfoArchivePath) {
      archive_info = std::move(bytes);
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
  if (archive_info)
    PRESERVE_RETURN_IF_ERROR(ReadArchiveInfo(*archive_info, lapsed, contents).WithContext(zip_path.string()));
  else
    for (auto& [number, der] : lapsed) contents.lapsed_evidence.push_back({std::move(der), "(the package does not say when)"});
  if (contents.data.empty() && contents.streamed.empty())
    return Status::InvalidArgument(zip_path.string() + ": not a preserve package (no data/)");
  return contents;
}

}  // namespace preserve::audit
