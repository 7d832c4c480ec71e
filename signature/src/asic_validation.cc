#include "preserve/signature/asic_validation.h"

#include <algorithm>
#include <map>
#include <set>

#include "asic_manifest.h"
#include "preserve/ingest/safe_archive.h"
#include "preserve/util/digest.h"
#include "preserve/util/unicode.h"

namespace preserve::signature {

namespace {

constexpr std::string_view kMimetype = "mimetype";
constexpr std::string_view kMetaInf = "META-INF/";
constexpr std::string_view kSimpleSignature = "META-INF/signature.p7s";
constexpr std::string_view kSimpleTimestamp = "META-INF/timestamp.tst";

// The container is held in memory (the API takes bytes), so the total is kept
// below ArchiveLimits' 4 GiB default.
ingest::ArchiveLimits AsicLimits() {
  ingest::ArchiveLimits limits;
  limits.max_total_bytes = 2ULL << 30;
  return limits;
}

std::uint32_t Le(ByteView b, std::size_t at, std::size_t width) {
  std::uint32_t v = 0;
  for (std::size_t i = width; i-- > 0;) v = (v << 8) | b[at + i];
  return v;
}

// The first zip local file header, read straight from the bytes: ASiC's magic
// number is defined on them (EN 319 162-1 A.1), not on what an unzipper shows.
struct FirstEntry {
  std::string name;
  bool stored = false;
  std::string content;  // only when stored with its size in the header
};
std::optional<FirstEntry> ReadFirstEntry(ByteView b) {
  constexpr std::size_t kHeader = 30;
  if (b.size() < kHeader || Le(b, 0, 4) != 0x04034b50) return std::nullopt;
  FirstEntry entry;
  entry.stored = Le(b, 8, 2) == 0;
  const std::size_t compressed = Le(b, 18, 4);
  const std::size_t name_length = Le(b, 26, 2);
  const std::size_t extra_length = Le(b, 28, 2);
  if (b.size() < kHeader + name_length) return std::nullopt;
  entry.name = ToString(b.subspan(kHeader, name_length));
  const std::size_t data = kHeader + name_length + extra_length;
  if (entry.stored && b.size() >= data && b.size() - data >= compressed)
    entry.content = ToString(b.subspan(data, compressed));
  return entry;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A file directly in META-INF/ whose name contains `infix` and ends with `suffix`.
bool IsMetaInfFile(std::string_view path, std::string_view infix, std::string_view suffix) {
  if (!StartsWith(path, kMetaInf)) return false;
  std::string_view name = path.substr(kMetaInf.size());
  return name.find('/') == std::string_view::npos && name.find(infix) != std::string_view::npos &&
         EndsWith(name, suffix);
}
bool IsManifest(std::string_view path) {
  return IsMetaInfFile(path, "ASiCManifest", ".xml") && StartsWith(path.substr(kMetaInf.size()), "ASiCManifest");
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// One report per signer of `signature`, or one INVALID / FORMAT_FAILURE report
// when it is not CMS at all: a broken signature file is a finding about the
// container, and the other signatures still get validated.
std::vector<SignatureReport> ValidateSignature(const std::string& path, const Bytes& signature,
                                               std::optional<ByteView> content, const CmsValidationOptions& options) {
  Result<CmsValidation> cms = ValidateCms(signature, content, options);
  if (!cms.ok()) {
    SignatureReport report;
    report.verdict = Verdict::kInvalid;
    report.sub_indication = SubIndication::kFormatFailure;
    report.reason = path + " is not a CMS signature: " + cms.status().message();
    return {report};
  }
  return std::move(cms).value().signers;
}

// Checks the manifest's digests, turning `report` INVALID / HASH_FAILURE for a
// data object that does not match, or INDETERMINATE / SIGNED_DATA_NOT_FOUND
// (unless worse already) for one that is missing or whose digest method is
// unknown. A reason already there is kept as a warning.
void CheckReferences(const std::string& manifest_path, const AsicManifest& manifest,
                     const std::map<std::string, Bytes>& files, SignatureReport& report) {
  auto downgrade = [&](Verdict verdict, SubIndication sub, const std::string& reason) {
    if (Worse(report.verdict, verdict) == report.verdict && report.verdict != Verdict::kValid) {
      report.warnings.push_back(reason);
      return;
    }
    if (!report.reason.empty()) report.warnings.push_back(report.reason);
    report.verdict = verdict;
    report.sub_indication = sub;
    report.reason = reason;
  };
  for (const AsicDataObjectReference& reference : manifest.references) {
    auto file = files.find(reference.uri);
    if (file == files.end()) {
      downgrade(Verdict::kIndeterminate, SubIndication::kSignedDataNotFound,
                manifest_path + " lists '" + NameForDisplay(reference.uri) + "', which is not in the container");
    } else if (!reference.digest_algorithm) {
      downgrade(Verdict::kIndeterminate, SubIndication::kCryptoConstraintsFailure,
                manifest_path + " digests '" + NameForDisplay(reference.uri) + "' with " + reference.digest_method +
                    ", which preserve does not know");
    } else if (Digest(*reference.digest_algorithm, file->second) != reference.digest_value) {
      downgrade(Verdict::kInvalid, SubIndication::kHashFailure,
                "'" + NameForDisplay(reference.uri) + "' does not match its " +
                    std::string(HashAlgorithmName(*reference.digest_algorithm)) + " digest in " + manifest_path);
    }
  }
}

}  // namespace

bool LooksLikeAsic(ByteView bytes) {
  std::optional<FirstEntry> first = ReadFirstEntry(bytes);
  return first && first->name == kMimetype && first->stored &&
         (first->content == kAsicSimpleMediaType || first->content == kAsicExtendedMediaType);
}

Result<AsicValidation> ValidateAsic(ByteView container, const CmsValidationOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(auto reader,
                            ingest::ArchiveReader::OpenMemory(container, "ASiC container",
                                                                ingest::ArchiveFormat::kZip, AsicLimits()));
  // By the names as stored: the manifests reference those bytes, and the
  // signatures cover the manifests. What reports show is the recorded name
  // (NFC). No code page is taken for ASiC: signature software writes UTF-8,
  // and a verifier years later must read the names as ingest did without
  // being told one, so a name without the UTF-8 flag is read as the zip
  // standard's CP437 (safe_archive.h's NameRules).
  std::map<std::string, Bytes> files;
  std::map<std::string, std::string> recorded_name;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> name, reader->NextFile());
    if (!name) break;
    PRESERVE_ASSIGN_OR_RETURN(Bytes content, reader->ReadContent());
    recorded_name.emplace(reader->StoredName(), std::move(*name));
    files.emplace(reader->StoredName(), std::move(content));
  }

  AsicValidation result;
  std::optional<AsicForm> declared;
  if (auto mimetype = files.find(std::string(kMimetype)); mimetype != files.end()) {
    const std::string media_type = ToString(mimetype->second);
    if (media_type == kAsicSimpleMediaType) {
      declared = AsicForm::kSimple;
    } else if (media_type == kAsicExtendedMediaType) {
      declared = AsicForm::kExtended;
    } else {
      return Status::InvalidArgument("not an ASiC container: its mimetype is '" + media_type.substr(0, 100) + "'");
    }
    std::optional<FirstEntry> first = ReadFirstEntry(container);
    if (!first || first->name != kMimetype || !first->stored)
      result.warnings.push_back("the mimetype entry is not the first, stored uncompressed (EN 319 162-1 A.1)");
  } else {
    result.warnings.push_back("no mimetype entry: the form was inferred from the content");
  }

  std::vector<std::string> manifests;
  std::vector<std::string> signatures;
  for (const auto& [path, content] : files) {
    if (path == kMimetype) continue;
    if (!StartsWith(path, kMetaInf)) {
      result.data_objects.push_back(path);  // stored names until the end, for matching
    } else if (IsMetaInfFile(path, "signatures", ".xml")) {
      return Status::InvalidArgument(path + ": XAdES signatures in ASiC are not supported");
    } else if (IsManifest(path)) {
      manifests.push_back(path);
    } else if (IsMetaInfFile(path, "signature", ".p7s")) {
      signatures.push_back(path);
    }
  }
  result.form = declared.value_or(manifests.empty() ? AsicForm::kSimple : AsicForm::kExtended);
  if (result.data_objects.empty()) return Status::InvalidArgument("the ASiC container holds no data object");

  std::set<std::string> covered;
  if (result.form == AsicForm::kSimple) {
    if (files.count(std::string(kSimpleSignature)) == 0)
      return Status::InvalidArgument(files.count(std::string(kSimpleTimestamp)) != 0
                                         ? "time-stamp ASiC-S (META-INF/timestamp.tst) is not supported"
                                         : "ASiC-S without META-INF/signature.p7s");
    if (result.data_objects.size() != 1)
      return Status::InvalidArgument("ASiC-S with " + std::to_string(result.data_objects.size()) +
                                     " data objects; it holds exactly one");
    const std::string& object = result.data_objects.front();
    const std::string signature_path(kSimpleSignature);
    for (SignatureReport& report :
         ValidateSignature(signature_path, files[signature_path], ByteView(files[object]), options))
      result.signatures.push_back({signature_path, "", {recorded_name[object]}, std::move(report)});
    covered.insert(object);
  } else {
    if (signatures.empty()) return Status::InvalidArgument("ASiC-E without a CAdES signature (META-INF/*signature*.p7s)");
    std::map<std::string, std::pair<std::string, AsicManifest>> manifest_of;  // by signature path
    for (const std::string& path : manifests) {
      PRESERVE_ASSIGN_OR_RETURN(AsicManifest manifest, ParseAsicManifest(files[path], path));
      // A covered name is recorded as signed; bytes that are not UTF-8 cannot
      // be recorded, and changing them would no longer be what was signed.
      for (const AsicDataObjectReference& reference : manifest.references)
        if (!IsUtf8(reference.uri))
          return Status::InvalidArgument(path + " covers '" + EscapeForDisplay(reference.uri) +
                                         "', a name that is not UTF-8");
      if (!IsUtf8(manifest.signature_uri))
        return Status::InvalidArgument(path + " names the signature '" + EscapeForDisplay(manifest.signature_uri) +
                                       "', a name that is not UTF-8");
      const std::string signature = manifest.signature_uri;
      if (files.count(signature) == 0) {
        if (result.reason.empty())
          result.reason = path + " names the signature '" + signature + "', which is not in the container";
        continue;
      }
      if (!manifest_of.emplace(signature, std::make_pair(path, std::move(manifest))).second)
        return Status::InvalidArgument("two manifests name the signature '" + signature + "'");
    }
    for (const std::string& signature_path : signatures) {
      auto found = manifest_of.find(signature_path);
      if (found == manifest_of.end()) {
        for (SignatureReport& report : ValidateSignature(signature_path, files[signature_path], std::nullopt, options)) {
          if (report.verdict != Verdict::kInvalid) {
            report.verdict = Verdict::kIndeterminate;
            report.sub_indication = SubIndication::kSignedDataNotFound;
            report.reason = "no ASiCManifest names " + signature_path + ", so what it signs is unknown";
          }
          result.signatures.push_back({signature_path, "", {}, std::move(report)});
        }
        continue;
      }
      const auto& [manifest_path, manifest] = found->second;
      std::vector<std::string> objects;
      for (const AsicDataObjectReference& reference : manifest.references) {
        objects.push_back(NameForDisplay(reference.uri));
        covered.insert(reference.uri);
      }
      for (SignatureReport& report :
           ValidateSignature(signature_path, files[signature_path], ByteView(files[manifest_path]), options)) {
        CheckReferences(manifest_path, manifest, files, report);
        result.signatures.push_back({signature_path, manifest_path, objects, std::move(report)});
      }
    }
  }

  result.verdict = Verdict::kValid;
  for (const AsicSignatureReport& signature : result.signatures) {
    result.verdict = Worse(result.verdict, signature.report.verdict);
    if (signature.report.verdict != Verdict::kValid && result.reason.empty())
      result.reason = signature.signature_path + ": " + signature.report.reason;
  }
  for (const std::string& object : result.data_objects)
    if (covered.count(object) == 0) result.unsigned_objects.push_back(recorded_name[object]);
  for (std::string& object : result.data_objects) object = recorded_name[object];
  std::sort(result.data_objects.begin(), result.data_objects.end());
  std::sort(result.unsigned_objects.begin(), result.unsigned_objects.end());
  if (!result.unsigned_objects.empty()) {
    result.verdict = Worse(result.verdict, Verdict::kIndeterminate);
    if (result.reason.empty())
      result.reason = "not covered by any signature: " + JoinNames(result.unsigned_objects);
  }
  if (!result.reason.empty()) result.verdict = Worse(result.verdict, Verdict::kIndeterminate);
  return result;
}

}  // namespace preserve::signature
