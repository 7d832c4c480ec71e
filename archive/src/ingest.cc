// Ingest: the records officer's gate. Each submission is validated (CMS/CAdES,
// PAdES or ASiC, with revocation), judged by the ingest policy, and either
// stored as a new package queued for sealing or refused with one line of
// reason (the store then keeps only an audit event).
//
// Validation is the expensive, independent part and runs in parallel; storing
// is done in groups, one synced write per group, so a bulk ingest pays for a
// sync per group rather than per document, and nothing is acknowledged before
// its group is durable.
//
// Revocation data fetched online serves every submission while fresh
// (options.revocation.cache, else a cache of the run's), starting from what
// earlier runs kept in the store; what a run fetched and found authentic is
// kept with each group's write (kept_revocation_data.h).

#include <algorithm>
#include <fstream>
#include <future>
#include <set>

#include "archive_impl.h"
#include "kept_revocation_data.h"
#include "lifecycle.h"
#include "search_index.h"
#include "submissions.h"
#include "trust.h"
#include "preserve/signature/asic_validation.h"
#include "preserve/package/manifest.h"
#include "preserve/signature/pdf_validation.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "preserve/util/fault_point.h"
#include "preserve/util/parallel.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

namespace {

// Group commit: at most this many submissions, or this many bytes of content,
// per synced write.
constexpr std::size_t kGroupSubmissions = 256;
constexpr std::uint64_t kGroupBytes = 256ull << 20;

// The names the package gives a submission's files: the input layer's
// (UTF-8 in NFC), else the files' own.
std::string SignatureName(const Submission& s) {
  return s.signature_name.empty() ? s.signature.filename().string() : s.signature_name;
}
std::string ContentName(const Submission& s) {
  return s.content_name.empty() && s.content ? s.content->filename().string() : s.content_name;
}

// A file name as it will appear inside the package: no directories, nothing
// an extractor could misread.
std::string SafeName(const std::string& given) {
  std::string name = std::filesystem::path(given).filename().string();
  for (char& c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  if (name.empty() || name == "." || name == "..") name = "unnamed";
  return name;
}

bool HasAsicExtension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".asics" || ext == ".asice" || ext == ".scs" || ext == ".sce";
}

// The bytes a submission's validation holds in memory (0 for what cannot be
// read: that is reported when it is read). A detached document larger than
// a content chunk is streamed: one chunk at a time.
std::uint64_t InputSize(const Submission& s, std::size_t chunk_size) {
  std::error_code ec;
  std::uint64_t size = 0;
  for (const auto* path : {&s.signature, s.content ? &*s.content : nullptr}) {
    if (path == nullptr) continue;
    auto n = std::filesystem::file_size(*path, ec);
    if (!ec) size += path == &s.signature ? n : std::min<std::uint64_t>(n, chunk_size);
  }
  return size;
}

// A submission validated and decided, ready to be stored (or its refusal recorded).
struct Prepared {
  IngestOutcome outcome;
  Bytes refused_sha256;  // of the signed file, for the refusal's audit event
  // The submission index's key of the signed object (submissions.h): empty
  // until the bytes it covers were read.
  Bytes submission_key;
  package::Manifest manifest;
  struct Object {
    Bytes data;
    Bytes sha256;  // kContentHash of data, as the manifest entry has it
  };
  std::map<std::string, Object> objects;  // path -> object
  // Objects streamed through a content writer (a large detached document),
  // their chunks written but the objects not yet in the store, with their
  // manifest entries made: path -> finished writer. Only an accepted
  // package's commit (StoreObjects) puts them into the store.
  struct Streamed {
    std::unique_ptr<storage::ContentWriter> writer;
    storage::ContentWriter::Object object;
  };
  std::map<std::string, Streamed> streamed;

  void Add(const std::string& path, const std::string& role, Bytes data) {
    if (objects.count(path) != 0) return;  // the same certificate used by two signatures
    Bytes sha256 = Digest(kContentHash, data);
    manifest.objects.push_back({path, role, sha256, data.size()});
    objects.emplace(path, Object{std::move(data), std::move(sha256)});
  }
};

// Validation material goes under validation/, named by digest so that the same
// certificate or CRL used by several signatures is one object.
std::string MaterialPath(const Bytes& der, std::string_view extension) {
  return std::string(package::kValidationDir) + ToHex(Digest(kContentHash, der)).substr(0, 16) + std::string(extension);
}

void AddSignature(Prepared& p, package::SignatureEntry entry, const std::string& label,
                  const signature::SignatureReport& report) {
  entry.format = label;
  entry.verdict = report.verdict;
  entry.sub_indication = std::string(signature::SubIndicationName(report.sub_indication));
  entry.reason = report.reason;
  entry.signer_subject = report.signer_subject;
  entry.signer_organization = report.signer_organization;
  entry.signing_time = report.signing_time;
  entry.signing_time_source = report.signing_time_source;
  entry.signing_time_claimed = report.signing_time_claimed;
  entry.digest_algorithm = report.digest_algorithm;
  entry.signature_algorithm = report.signature_algorithm;
  entry.revocation = report.revocation;
  entry.warnings = report.warnings;
  for (const auto& cert : report.certificates) {
    std::string path = MaterialPath(cert, ".cer");
    p.Add(path, "certificate", cert);
    entry.certificate_paths.push_back(path);
  }
  for (const auto& crl : report.crls) {
    std::string path = MaterialPath(crl, ".crl");
    p.Add(path, "crl", crl);
    entry.revocation_paths.push_back(path);
  }
  for (const auto& ocsp : report.ocsp_responses) {
    std::string path = MaterialPath(ocsp, ".ocsp");
    p.Add(path, "ocsp-response", ocsp);
    entry.revocation_paths.push_back(path);
  }
  p.manifest.signatures.push_back(std::move(entry));
  p.outcome.signatures.push_back({label, report});
}

// `category` sorts refusals in the signature-use report: the EN 319 102-1
// sub-indication, or METADATA_INVALID.
// `detail` may quote what a hostile input carries: it is escaped, so that the
// refusal's audit event is valid UTF-8 whatever it quotes.
void Refuse(Prepared& p, const std::string& category, const std::string& detail) {
  p.outcome.accepted = false;
  p.outcome.category = category;
  p.outcome.reason = category + ": " + EscapeForDisplay(detail);
  p.objects.clear();
  p.streamed.clear();  // their writers erase the chunks they wrote: nothing is stored
}

// The ingest policy (EN 319 102-1 indications): any TOTAL-FAILED signature
// refuses the document; INDETERMINATE refuses it unless the policy accepts
// that; a document with no signature at all is refused.
void Decide(Prepared& p, const IngestOptions& options) {
  if (p.outcome.signatures.empty()) return Refuse(p, "FORMAT_FAILURE", "the document carries no signature");
  const SignatureOutcome* worst = nullptr;
  for (const auto& s : p.outcome.signatures) {
    if (s.report.verdict == Verdict::kValid) continue;
    if (worst == nullptr || Worse(s.report.verdict, worst->report.verdict) == s.report.verdict) worst = &s;
  }
  if (worst == nullptr) {
    p.outcome.accepted = true;
    p.manifest.decision = "accepted: every signature TOTAL-PASSED";
    return;
  }
  std::string sub(signature::SubIndicationName(worst->report.sub_indication));
  if (sub.empty()) sub = VerdictName(worst->report.verdict);
  std::string why = worst->report.reason;
  if (p.outcome.signatures.size() > 1) why = worst->label + ": " + why;
  if (worst->report.verdict == Verdict::kIndeterminate && options.accept_indeterminate) {
    p.outcome.accepted = true;
    p.manifest.decision = "accepted with INDETERMINATE signatures (ingest policy accepts them): " + sub + ": " + why;
    return;
  }
  if (worst->report.sub_indication == signature::SubIndication::kTryLater)
    why += " (revocation status unavailable now: ingest again later, or give --crl / --ocsp-response files)";
  if (worst->report.verdict == Verdict::kIndeterminate)
    why += " (INDETERMINATE is refused by the ingest policy; --accept-indeterminate accepts it)";
  Refuse(p, sub, why);
}

void ValidateDetachedCms(Prepared& p, Bytes signature, Bytes content, const Submission& s,
                         const signature::CmsValidationOptions& cms) {
  p.outcome.format = "CAdES detached";
  auto validation = signature::ValidateCms(signature, content, cms);
  if (!validation.ok())
    return Refuse(p, "FORMAT_FAILURE", SignatureName(s) + ": " + validation.status().message());
  package::SignatureEntry entry;
  entry.signature_path = std::string(package::kSignaturesDir) + SafeName(SignatureName(s));
  entry.document_path = std::string(package::kDocumentsDir) + SafeName(ContentName(s));
  p.Add(entry.document_path, "document", std::move(content));
  p.Add(entry.signature_path, "signature", std::move(signature));
  for (const auto& report : validation->signers) AddSignature(p, entry, "CAdES detached", report);
}

// A detached document larger than a content chunk: read from its file once,
// in pieces, each handed to a content writer, which hashes it and writes its
// chunks into the store (erased with the writer if the verdict refuses it);
// never held whole. The writer's digest
// (the content address) is the signature's message digest too when the
// signature uses the same algorithm, so the content is hashed once.
void ValidateLargeDetachedCms(Prepared& p, Bytes signature, const Submission& s,
                              const signature::CmsValidationOptions& cms, storage::Store& store,
                              std::size_t chunk_size) {
  p.outcome.format = "CAdES detached";
  auto fail = [&](const Status& status) {
    p.outcome.error = true;
    p.outcome.reason = EscapeForDisplay(status.message());
  };
  std::ifstream in(*s.content, std::ios::binary);
  if (!in) return fail(Status::IOError("cannot open " + s.content->string()));
  auto writer = store.NewContentWriter();
  if (!writer.ok()) return fail(writer.status());
  bool read_failed = false;
  const ContentSource source = [&](const ContentSink& sink) -> Status {
    Bytes buffer(chunk_size);
    while (in) {
      in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
      if (in.bad()) break;
      ByteView piece(buffer.data(), static_cast<std::size_t>(in.gcount()));
      if (Status stored = writer.value()->Append(piece); !stored.ok()) {
        read_failed = true;
        return stored;
      }
      PRESERVE_RETURN_IF_ERROR(sink(piece));
    }
    if (in.bad()) {
      read_failed = true;
      return Status::IOError("cannot read " + s.content->string());
    }
    return Status::Ok();
  };
  std::optional<storage::ContentWriter::Object> object;
  auto finish = [&]() -> Status {
    if (object) return Status::Ok();
    auto finished = writer.value()->Finish();
    if (!finished.ok()) {
      read_failed = true;
      return finished.status();
    }
    object = std::move(finished).value();
    return Status::Ok();
  };
  const signature::CallerContentDigest address{kContentHash, [&]() -> Result<Bytes> {
                                                 PRESERVE_RETURN_IF_ERROR(finish());
                                                 return object->sha256;
                                               }};
  auto validation = signature::ValidateCmsDetached(signature, source, cms, &address);
  // Errors reading the file or writing the store are errors; the rest says the signature is bad.
  if (read_failed) return fail(validation.status());
  if (!validation.ok())
    return Refuse(p, "FORMAT_FAILURE", SignatureName(s) + ": " + validation.status().message());
  if (Status finished = finish(); !finished.ok()) return fail(finished);
  package::SignatureEntry entry;
  entry.signature_path = std::string(package::kSignaturesDir) + SafeName(SignatureName(s));
  entry.document_path = std::string(package::kDocumentsDir) + SafeName(ContentName(s));
  p.submission_key = SubmissionKey(Digest(kContentHash, signature), &object->sha256);
  p.manifest.objects.push_back({entry.document_path, "document", object->sha256, object->size});
  p.streamed.emplace(entry.document_path, Prepared::Streamed{std::move(writer).value(), std::move(*object)});
  p.Add(entry.signature_path, "signature", std::move(signature));
  for (const auto& report : validation->signers) AddSignature(p, entry, "CAdES detached", report);
}

void ValidateEnvelopingCms(Prepared& p, Bytes signature, const Submission& s, const signature::CmsValidationOptions& cms) {
  p.outcome.format = "CAdES enveloping";
  auto validation = signature::ValidateCms(signature, std::nullopt, cms);
  if (!validation.ok())
    return Refuse(p, "FORMAT_FAILURE", SignatureName(s) + ": " + validation.status().message());
  package::SignatureEntry entry;
  entry.enveloping = true;
  std::filesystem::path doc_name = SafeName(SignatureName(s));
  if (doc_name.extension() == ".p7m") doc_name.replace_extension();
  entry.signature_path = std::string(package::kSignaturesDir) + SafeName(SignatureName(s));
  entry.document_path = std::string(package::kDocumentsDir) + SafeName(doc_name.string());
  p.Add(entry.signature_path, "signed-document", std::move(signature));
  if (validation->encapsulated_content)
    p.Add(entry.document_path, "document", std::move(*validation->encapsulated_content));
  for (const auto& report : validation->signers) AddSignature(p, entry, "CAdES enveloping", report);
}

void ValidateSignedPdf(Prepared& p, Bytes pdf, const Submission& s, const signature::CmsValidationOptions& cms) {
  p.outcome.format = "PAdES";
  auto validation = signature::ValidatePdf(pdf, cms);
  if (!validation.ok()) return Refuse(p, "FORMAT_FAILURE", validation.status().message());
  package::SignatureEntry entry;
  entry.signature_path = entry.document_path = std::string(package::kDocumentsDir) + SafeName(SignatureName(s));
  if (validation->signatures.empty()) return Refuse(p, std::string(kNotSigned), validation->reason);
  p.Add(entry.document_path, "signed-pdf", std::move(pdf));
  for (const auto& sig : validation->signatures) {
    std::string label = sig.document_timestamp ? "PDF document time-stamp " + sig.field_name
                                               : "PAdES " + sig.field_name + " (" + sig.sub_filter + ")";
    signature::SignatureReport report = sig.report;
    for (const auto& change : sig.later_changes)
      report.warnings.push_back(std::string(change.allowed ? "added after signing (allowed): " : "changed after signing: ") +
                                change.what);
    AddSignature(p, entry, label, report);
  }
}

void ValidateContainer(Prepared& p, Bytes container, const Submission& s, const signature::CmsValidationOptions& cms) {
  auto validation = signature::ValidateAsic(container, cms);
  p.outcome.format = "ASiC";
  if (!validation.ok()) return Refuse(p, "FORMAT_FAILURE", validation.status().message());
  const char* form = validation->form == signature::AsicForm::kExtended ? "ASiC-E" : "ASiC-S";
  p.outcome.format = form;
  package::SignatureEntry entry;
  entry.signature_path = entry.document_path = std::string(package::kDocumentsDir) + SafeName(SignatureName(s));
  p.Add(entry.document_path, "signed-container", std::move(container));
  for (const auto& sig : validation->signatures) {
    std::string covered;
    for (const auto& o : sig.signed_objects) covered += (covered.empty() ? " over " : ", ") + o;
    signature::SignatureReport report = sig.report;
    for (const auto& w : validation->warnings) report.warnings.push_back(w);
    AddSignature(p, entry, std::string(form) + " " + sig.signature_path + covered, report);
  }
  if (!validation->unsigned_objects.empty()) {
    // The container's verdict says so too; the package must not look signed where it is not.
    std::string list;
    for (const auto& o : validation->unsigned_objects) list += (list.empty() ? "" : ", ") + o;
    signature::SignatureReport unsigned_report;
    unsigned_report.verdict = Verdict::kIndeterminate;
    unsigned_report.sub_indication = signature::SubIndication::kSignedDataNotFound;
    unsigned_report.reason = "no signature covers " + list;
    p.outcome.signatures.push_back({std::string(form) + " unsigned data objects", unsigned_report});
  }
}

// Reads a record metadata sidecar into `p`; false, with `p` in error or
// refused, when it cannot be read or parsed.
bool ReadMetadata(Prepared& p, const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    p.outcome.error = true;
    p.outcome.reason = EscapeForDisplay(text.status().message());
    return false;
  }
  auto metadata = package::ParseRecordMetadata(text.value());
  if (!metadata.ok()) {
    Refuse(p, "METADATA_INVALID", EscapeForDisplay(path.filename().string()) + ": " + metadata.status().message());
    return false;
  }
  p.outcome.metadata = metadata.value();
  p.manifest.metadata = std::move(metadata).value();
  return true;
}

// Defence in depth: whatever the input layer let through, no name that is not
// UTF-8 in NFC enters a package record or a manifest (which must parse back as
// JSON for ever), and no manifest with text that is not UTF-8 is stored. A
// name is refused, never repaired here: repairing is the input layer's, which
// knows the code page.
bool NamesAreRecordable(Prepared& p, const Submission& s) {
  for (const std::string& name : {SignatureName(s), ContentName(s)}) {
    if (IsNfcUtf8(name)) continue;
    Refuse(p, "NAME_INVALID",
           "'" + name + "': " + (IsUtf8(name) ? "the name is not in Unicode normalization form C"
                                                   : "the name is not UTF-8 (its code page must be given to decode it)"));
    return false;
  }
  return true;
}
void CheckRecordedText(Prepared& p) {
  if (!p.outcome.accepted) return;
  for (const auto& object : p.manifest.objects) {
    if (!IsNfcUtf8(object.path))
      return Refuse(p, "NAME_INVALID", "'" + object.path + "': a name that is not UTF-8 in NFC");
  }
  const Bytes json = package::ManifestToJson(p.manifest);
  if (!IsUtf8(ToString(json))) Refuse(p, "NAME_INVALID", "the manifest would carry text that is not UTF-8");
}

// A submission the archive holds already, found before it is validated (the
// commit looks again, for what this run stores itself and for a large
// detached document, whose key is known only once it was read): reported as
// a duplicate of the package that holds it. False when it is new, or
// duplicates are allowed, or the index cannot be read (the commit then says why).
bool FoundHeld(Prepared& p, const storage::Store& store, const IngestOptions& options) {
  if (options.allow_duplicate) return false;
  auto holder = FindHolder(store, p.submission_key);
  if (!holder.ok() || !holder->has_value()) return false;
  p.outcome.duplicate = true;
  p.outcome.package_id = **holder;
  return true;
}

// Over 60 lines: reading a submission's files and dispatching on its format, in one place.
Prepared Prepare(const Submission& s, const IngestOptions& options, const signature::CmsValidationOptions& cms,
                 storage::Store& store, std::size_t chunk_size) {
  Prepared p;
  p.outcome.input = EscapeForDisplay(!s.name.empty() ? s.name : (s.content ? *s.content : s.signature).string());
  if (s.unusable) {
    Refuse(p, s.unusable->category, s.unusable->reason);
    return p;
  }
  auto fail = [&](const Status& status) {
    p.outcome.error = true;
    p.outcome.reason = EscapeForDisplay(status.message());
  };
  if (!NamesAreRecordable(p, s)) return p;
  auto signature = ReadFile(s.signature);
  if (!signature.ok()) {
    fail(signature.status());
    return p;
  }
  p.refused_sha256 = Digest(kContentHash, signature.value());
  std::error_code ec;
  const bool large = s.content && std::filesystem::file_size(*s.content, ec) > chunk_size && !ec;
  std::optional<Bytes> content;
  if (s.content && !large) {
    auto read = ReadFile(*s.content);
    if (!read.ok()) {
      fail(read.status());
      return p;
    }
    content = std::move(read).value();
    const Bytes content_sha256 = Digest(kContentHash, *content);
    p.submission_key = SubmissionKey(p.refused_sha256, &content_sha256);
  } else if (!s.content) {
    p.submission_key = SubmissionKey(p.refused_sha256, nullptr);
  }
  // The record metadata first: a duplicate is reported (and counted) with its organ.
  if (s.metadata && !ReadMetadata(p, *s.metadata)) return p;
  if (!p.submission_key.empty() && FoundHeld(p, store, options)) return p;
  if (large) {
    ValidateLargeDetachedCms(p, std::move(signature).value(), s, cms, store, chunk_size);
  } else if (content) {
    ValidateDetachedCms(p, std::move(signature).value(), std::move(*content), s, cms);
  } else if (signature::LooksLikePdf(signature.value())) {
    ValidateSignedPdf(p, std::move(signature).value(), s, cms);
  } else if (signature::LooksLikeAsic(signature.value()) || HasAsicExtension(s.signature)) {
    ValidateContainer(p, std::move(signature).value(), s, cms);
  } else {
    ValidateEnvelopingCms(p, std::move(signature).value(), s, cms);
  }
  if (p.outcome.reason.empty()) Decide(p, options);
  CheckRecordedText(p);
  return p;
}

// Who signed, for the signature-use report: the first signer's organization.
std::string SignerOrganization(const IngestOutcome& o) {
  for (const auto& s : o.signatures)
    if (!s.report.signer_organization.empty()) return s.report.signer_organization;
  return "";
}

// Validation options for a run of submissions, their trust material parsed
// once. Material that does not parse is left unprepared: each document's
// validation then refuses its document with that reason.
signature::CmsValidationOptions CmsOptions(const IngestOptions& options, const policy::AlgorithmCatalogue& policy,
                                        const Clock& clock) {
  signature::CmsValidationOptions cms;
  cms.trust_anchors = options.trust_anchors;
  cms.intermediates = options.intermediates;
  cms.timestamp_trust_anchors = options.timestamp_trust_anchors;
  cms.revocation = options.revocation;
  cms.catalogue = &policy;
  cms.clock = &clock;
  static_cast<void>(signature::PrepareTrust(cms));
  return cms;
}

std::string Organ(const IngestOutcome& o) { return o.metadata ? o.metadata->organ_name : ""; }

// The audit event of a refusal: the only trace a refused document leaves.
Bytes RefusalEvent(const Clock& clock, const Prepared& p) {
  const IngestOutcome& outcome = p.outcome;
  return AuditEvent(clock, "refused",
                    {{"input", outcome.input},
                     {"format", outcome.format},
                     {"signature_sha256", ToHex(p.refused_sha256)},
                     {"organ", Organ(outcome)},
                     {"signer_organization", EscapeForDisplay(SignerOrganization(outcome))},
                     {"category", outcome.category},
                     {"reason", outcome.reason},
                     {"submission", ToHex(p.submission_key)}});
}

// The audit event of a document handed in again: counted once, as a duplicate
// of the package that holds it.
Bytes DuplicateEvent(const Clock& clock, const Prepared& p) {
  return AuditEvent(clock, "duplicate",
                    {{"package", p.outcome.package_id},
                     {"input", p.outcome.input},
                     {"format", p.outcome.format},
                     {"organ", Organ(p.outcome)},
                     {"signature_sha256", ToHex(p.refused_sha256)},
                     {"submission", ToHex(p.submission_key)}});
}

// The content one run of ingests knows to be in the store or on its way
// there: the certificates and CRLs of a bulk ingest are in most of its
// packages, and are looked up in the store once, not once per package.
// Holding on to "present" across groups is as sound as the lookup itself: no
// Delete runs beside an ingest (archive.h).
class KnownContent {
 public:
  // Whether content with this digest still has to be put into the current
  // write; when it does, it is counted as in that write from now on.
  Result<bool> NeedsPut(const storage::Store& store, const Bytes& digest) {
    if (present_.count(digest) != 0 || in_write_.count(digest) != 0) return false;
    PRESERVE_ASSIGN_OR_RETURN(bool present, store.HasContent(digest));
    if (present) {
      if (present_.size() < kMaxPresent) present_.insert(digest);
      return false;
    }
    in_write_.insert(digest);
    return true;
  }

  // The current write was committed (or abandoned: the run ends then).
  void WriteDone() { in_write_.clear(); }

 private:
  // Only what was found present is kept across writes (what a write added is
  // new, and rarely met again): shared validation material, and documents
  // ingested twice, up to this many.
  static constexpr std::size_t kMaxPresent = 65536;
  std::set<Bytes> present_;
  std::set<Bytes> in_write_;
};

// Adds the prepared objects, then the manifest, to `record` and their content
// to `w`: identical content is stored once, within a write as across the
// store. A path `record` already holds (carried over from an earlier version)
// is not added again. A streamed object new to the store has its chunks,
// written as they were read, made durable here (ContentWriter::Put), just
// before the commit that refers to them; Commit flushes any chunk found
// present but written by another, unflushed writer.
Status StoreObjects(Prepared& p, const Bytes& manifest_json, const storage::Store& store, storage::WriteSet& w,
                    KnownContent& known, PackageRecord& record) {
  std::set<std::string> carried;
  for (const auto& o : record.objects) carried.insert(o.path);
  auto held = [&carried](const std::string& path) { return carried.count(path) != 0; };
  auto store_object = [&](const std::string& path, const Bytes& bytes, const Bytes& digest) -> Status {
    PRESERVE_ASSIGN_OR_RETURN(bool put, known.NeedsPut(store, digest));
    if (put) w.PutContent(digest, bytes);
    record.objects.push_back({path, digest, bytes.size()});
    return Status::Ok();
  };
  for (const auto& [path, object] : p.objects)
    if (!held(path)) PRESERVE_RETURN_IF_ERROR(store_object(path, object.data, object.sha256));
  for (auto& [path, streamed] : p.streamed) {
    if (held(path)) continue;
    const Bytes& digest = streamed.object.sha256;
    PRESERVE_ASSIGN_OR_RETURN(bool put, known.NeedsPut(store, digest));
    if (put) PRESERVE_RETURN_IF_ERROR(streamed.writer->Put(w));
    record.objects.push_back({path, digest, streamed.object.size});
  }
  return store_object(package::kManifestPath, manifest_json, Digest(kContentHash, manifest_json));
}

// At commit: whether the archive, or this run, came to hold the submission
// since it was prepared (the pre-check in Prepare cannot see what the groups
// before it stored, nor a large detached document's key). It is then a duplicate.
Status MarkIfHeld(Prepared& p, const storage::Store& store, const std::map<Bytes, std::string>& stored_this_run) {
  std::optional<std::string> holder;
  if (auto here = stored_this_run.find(p.submission_key); here != stored_this_run.end()) {
    holder = here->second;
  } else {
    PRESERVE_ASSIGN_OR_RETURN(holder, FindHolder(store, p.submission_key));
  }
  if (!holder) return Status::Ok();
  p.outcome.accepted = false;
  p.outcome.duplicate = true;
  p.outcome.package_id = *holder;
  p.objects.clear();
  p.streamed.clear();  // their writers erase the chunks they wrote: nothing is stored
  return Status::Ok();
}

// Puts an accepted submission into `w` as a new package queued for sealing:
// its record, content, lifecycle, submission index entry and audit event.
Status StoreNewPackage(Prepared& p, const Clock& clock, const storage::Store& store,
                       const std::vector<std::string>& anchor_subjects, RunTrust& trust, KnownContent& known,
                       storage::WriteSet& w) {
  IngestOutcome& outcome = p.outcome;
  PRESERVE_ASSIGN_OR_RETURN(outcome.package_id, NewId(clock));
  package::Manifest& manifest = p.manifest;
  manifest.package_id = outcome.package_id;
  manifest.created = clock.Now();
  manifest.producer = kProducer;
  manifest.trust_anchors = anchor_subjects;
  Bytes manifest_json = package::ManifestToJson(manifest);

  PackageRecord record;
  record.id = outcome.package_id;
  record.created = manifest.created;
  record.state = PackageState::kQueued;
  PRESERVE_RETURN_IF_ERROR(StoreObjects(p, manifest_json, store, w, known, record));
  w.PutPackage(record.id, EncodePackageRecord(record));
  w.Enqueue(record.id, EncodeQueueEntry(record));
  PutIndexEntry(w, MakeIndexEntry(record, manifest, nullptr), nullptr);
  // The first live package to hold a signed object stays the one a resubmission names.
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> holder, FindHolder(store, p.submission_key));
  if (!holder) w.PutSubmission(p.submission_key, record.id);
  Retention retention;
  if (manifest.metadata && manifest.metadata->retention_years > 0) {
    retention.permanent = false;
    retention.years = static_cast<int>(manifest.metadata->retention_years);
  }
  PRESERVE_RETURN_IF_ERROR(PutInitialLifecycle(w, record.id, record.created, retention));
  PackageLifecycle lifecycle;
  lifecycle.retain_until = RetainUntil(record.created, retention);
  ProtectObjects(w, record, lifecycle);
  const std::string trusted = trust.ListAnchorsUsed(outcome, clock, w);
  AppendSubmissionEvent(w, AuditEvent(clock, "ingest",
                           {{"package", record.id},
                            {"input", outcome.input},
                            {"format", outcome.format},
                            {"organ", Organ(outcome)},
                            {"signer_organization", EscapeForDisplay(SignerOrganization(outcome))},
                            {"manifest_sha256", ToHex(Digest(kContentHash, manifest_json))},
                            {"submission", ToHex(p.submission_key)},
                            {"trust_list_added", trusted}}));
  return Status::Ok();
}

}  // namespace

Submission UnusableSubmission(std::string name, std::string_view category, std::string reason) {
  Submission s;
  s.name = std::move(name);
  s.unusable = Submission::Unusable{std::string(category), std::move(reason)};
  return s;
}

std::vector<Submission> SubmissionsOf(const ingest::BulkInput& bulk,
                                      const std::function<std::string(const std::string&)>& name_of) {
  std::vector<Submission> out;
  for (const auto& s : bulk.submissions) {
    Submission submission;
    submission.name = name_of(s.name);
    if (s.detached_signature) {
      submission.signature = *s.detached_signature;
      submission.content = s.primary;
      submission.signature_name = s.signature_name;
      submission.content_name = s.name;
    } else {
      submission.signature = s.primary;
      submission.signature_name = s.name;
    }
    submission.metadata = s.metadata;
    out.push_back(std::move(submission));
  }
  for (const auto& file : bulk.unsigned_files)
    out.push_back(UnusableSubmission(name_of(file), kNotSigned,
                                     "no signature: neither a signed file (PDF, .p7m, ASiC) nor a document with "
                                     "DOCUMENT.p7s beside it"));
  for (const auto& problem : bulk.problems) {
    // "orphan.p7s: no document named orphan": the reasons hold no ": ", names may.
    const std::size_t colon = problem.rfind(": ");
    const std::string file = colon == std::string::npos ? problem : problem.substr(0, colon);
    const std::string why = colon == std::string::npos ? "not usable" : problem.substr(colon + 2);
    out.push_back(UnusableSubmission(name_of(file), kInputUnusable, why));
  }
  return out;
}

std::string_view OutcomeClass(const IngestOutcome& outcome) {
  if (outcome.error) return "error";
  if (outcome.accepted) return "accepted";
  if (outcome.duplicate) return "duplicate";
  return outcome.category == kNotSigned ? "not-signed" : "refused";
}

Ingestion::Ingestion(Archive& archive) : impl_(archive.impl_.get()) {}

Result<IngestOutcome> Ingestion::Ingest(const Submission& submission, const IngestOptions& options) {
  IngestOutcome result;
  PRESERVE_RETURN_IF_ERROR(IngestAll({submission}, options, [&](const IngestOutcome& o) { result = o; }));
  return result;
}

// Over 60 lines: the pipeline (validate in parallel, commit in groups, acknowledge in order) in one place.
Status Ingestion::IngestAll(const std::vector<Submission>& submissions, const IngestOptions& given,
                            const std::function<void(const IngestOutcome&)>& each) {
  const Clock& clock = *impl_->clock;
  PRESERVE_ASSIGN_OR_RETURN(RunTrust trust, RunTrust::Load(*impl_->store, given));
  PRESERVE_RETURN_IF_ERROR(EnsureSubmissionIndex(*impl_->store));
  const IngestOptions& options = trust.options();
  signature::CmsValidationOptions cms = CmsOptions(options, impl_->policy, clock);
  // Online revocation data: fetched once per source while fresh, kept for the next run.
  PRESERVE_ASSIGN_OR_RETURN(KeptRevocationData kept_revocation,
                            KeptRevocationData::Load(*impl_->store, cms.revocation, clock.Now()));
  std::vector<std::string> anchor_subjects;
  for (const auto& anchor : options.trust_anchors) anchor_subjects.push_back(CertificateSubject(anchor));

  // A group: bounded by count, and by bytes read (validation holds each file in memory).
  auto group_end = [&](std::size_t first) {
    std::size_t end = first;
    std::uint64_t group_bytes = 0;
    while (end < submissions.size() && end - first < kGroupSubmissions) {
      std::uint64_t size = InputSize(submissions[end], impl_->content_chunk_size);
      if (end > first && group_bytes + size > kGroupBytes) break;
      group_bytes += size;
      ++end;
    }
    return end;
  };
  auto prepare = [&](std::size_t first, std::size_t end) {
    std::vector<Prepared> prepared(end - first);
    Status validated = ParallelFor(prepared.size(), 1, [&](std::size_t i) {
      prepared[i] = Prepare(submissions[first + i], options, cms, *impl_->store, impl_->content_chunk_size);
      return Status::Ok();
    });
    return std::make_pair(std::move(validated), std::move(prepared));
  };

  // Stores one validated group: records, content and audit events in one
  // synced write; then acknowledges each submission, in order.
  KnownContent known;
  std::map<Bytes, std::string> stored_this_run;  // submission key -> package: a document handed in twice is stored once
  auto commit_group = [&](std::vector<Prepared>& prepared) -> Status {
    storage::WriteSet w;
    for (auto& p : prepared) {
      IngestOutcome& outcome = p.outcome;
      if (outcome.error) continue;
      if (outcome.accepted && !options.allow_duplicate)
        PRESERVE_RETURN_IF_ERROR(MarkIfHeld(p, *impl_->store, stored_this_run));
      if (outcome.duplicate) {
        AppendSubmissionEvent(w, DuplicateEvent(clock, p));
        continue;
      }
      if (!outcome.accepted) {
        AppendSubmissionEvent(w, RefusalEvent(clock, p));
        continue;
      }
      PRESERVE_RETURN_IF_ERROR(StoreNewPackage(p, clock, *impl_->store, anchor_subjects, trust, known, w));
      stored_this_run.emplace(p.submission_key, outcome.package_id);
    }
    kept_revocation.Put(w, clock.Now());
    PRESERVE_FAULT_POINT("ingest.before_commit");
    if (!w.empty()) PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
    known.WriteDone();
    PRESERVE_FAULT_POINT("ingest.after_commit");
    for (const auto& p : prepared) each(p.outcome);
    return Status::Ok();
  };

  // A pipeline of two groups: the next group is validated while the current
  // one is stored and committed, so the serial part (records, manifests, the
  // synced write) no longer leaves cores idle. A group is still acknowledged
  // only once its own commit is durable, and in order.
  std::size_t first = 0;
  std::size_t end = group_end(0);
  auto current = prepare(0, end);
  while (first < submissions.size()) {
    const std::size_t next_first = end;
    const std::size_t next_end = group_end(next_first);
    std::future<std::pair<Status, std::vector<Prepared>>> next;
    if (next_first < submissions.size()) next = std::async(std::launch::async, prepare, next_first, next_end);
    Status committed = current.first.ok() ? commit_group(current.second) : current.first;
    if (next.valid()) {
      auto prepared = next.get();  // joined before returning, whatever happened
      current = std::move(prepared);
    }
    PRESERVE_RETURN_IF_ERROR(committed);
    first = next_first;
    end = next_end;
  }
  return Status::Ok();
}

// Over 60 lines: one version's steps in order (load, validate, merge, one write), each commented.
Result<IngestOutcome> Lifecycle::AddVersion(const std::string& package_id, const VersionChange& change,
                                            const IngestOptions& given) {
  if (!impl_->writable()) return Status::FailedPrecondition("the store is open read-only");
  PRESERVE_ASSIGN_OR_RETURN(RunTrust trust, RunTrust::Load(*impl_->store, given));
  const IngestOptions& options = trust.options();
  if (!change.document && !change.metadata)
    return Status::InvalidArgument("a new version needs a document to add, or new record metadata");
  PRESERVE_ASSIGN_OR_RETURN(auto versions, impl_->VersionRecords(package_id));
  const std::uint32_t number = SplitVersionId(versions.back().first).second + 1;
  if (number > kMaxVersions)
    return Status::FailedPrecondition("package " + package_id + " has " + std::to_string(kMaxVersions) +
                                      " versions, the most a package may have");
  const std::string& latest_id = versions.back().first;
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord latest, DecodePackageRecord(versions.back().second, *impl_->store));
  if (latest.state == PackageState::kDeleted)
    return Status::FailedPrecondition("package " + package_id + " is deleted: it takes no new version");
  auto manifest_object = std::find_if(latest.objects.begin(), latest.objects.end(),
                                      [](const PackageRecord::Object& o) { return o.path == package::kManifestPath; });
  if (manifest_object == latest.objects.end())
    return Status::Corruption("package " + latest_id + " has no manifest");
  const Bytes previous_manifest_sha256 = manifest_object->sha256;
  PRESERVE_ASSIGN_OR_RETURN(Bytes previous_json, impl_->store->GetContent(previous_manifest_sha256));
  PRESERVE_ASSIGN_OR_RETURN(package::Manifest manifest, package::ManifestFromJson(previous_json));

  // The change, validated as an ingest validates it.
  const Clock& clock = *impl_->clock;
  Prepared p;
  if (change.document) {
    Submission document = *change.document;
    document.metadata = change.metadata;  // the change's metadata, not a sidecar of the document's
    // A version may add a document another package holds too: it is this package's record.
    IngestOptions version_options = options;
    version_options.allow_duplicate = true;
    p = Prepare(document, version_options, CmsOptions(options, impl_->policy, clock), *impl_->store,
                impl_->content_chunk_size);
  } else {
    p.outcome.input = EscapeForDisplay(change.metadata->string());
    p.outcome.format = "record metadata";
    p.outcome.accepted = ReadMetadata(p, *change.metadata);
  }
  // What it changes. A version adds documents; it never silently replaces
  // one, and a version that changes nothing is not made.
  std::map<std::string, const package::DataObjectEntry*> held;
  for (const auto& entry : manifest.objects) held[entry.path] = &entry;
  std::string what;
  for (const auto& entry : p.manifest.objects) {
    if (!p.outcome.accepted) break;
    auto found = held.find(entry.path);
    if (found != held.end() && found->second->sha256 != entry.sha256) {
      Refuse(p, "VERSION_CONFLICT",
             "package " + package_id + " already holds " + entry.path +
                 " with other content: a new version adds documents, it does not replace them");
    } else if (found == held.end() && entry.role != "certificate" && entry.role != "crl" &&
               entry.role != "ocsp-response") {
      what += (what.empty() ? "added " : ", ") + entry.path;
    }
  }
  const bool metadata_changed =
      p.outcome.accepted && change.metadata &&
      (!manifest.metadata || package::RecordMetadataToJson(*manifest.metadata) !=
                                 package::RecordMetadataToJson(*p.manifest.metadata));
  if (metadata_changed) what += std::string(what.empty() ? "" : "; ") + "record metadata replaced";
  if (p.outcome.accepted && what.empty())
    Refuse(p, "VERSION_UNCHANGED",
           "package " + latest_id + " already holds every document given and the same record metadata");
  if (p.outcome.error) return p.outcome;
  storage::WriteSet w;
  if (!p.outcome.accepted) {
    AppendSubmissionEvent(w, RefusalEvent(clock, p));
    PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
    return p.outcome;
  }

  // The new manifest: the latest version's, with the change, naming the version it follows.
  const std::string id = StoredVersionId(package_id, number);
  if (impl_->store->GetPackage(id).ok())
    return Status::FailedPrecondition("version " + id + " exists already: is another process adding versions?");
  manifest.package_id = id;
  manifest.version = number;
  manifest.previous_version = latest_id;
  manifest.previous_manifest_sha256 = previous_manifest_sha256;
  manifest.created = clock.Now();
  manifest.producer = kProducer;
  if (change.metadata) manifest.metadata = p.manifest.metadata;
  // Only what is new: a document held already keeps its signature entries.
  for (auto& signature : p.manifest.signatures)
    if (held.count(signature.signature_path) == 0) manifest.signatures.push_back(std::move(signature));
  for (auto& entry : p.manifest.objects)
    if (held.count(entry.path) == 0) manifest.objects.push_back(std::move(entry));
  held.clear();  // its values point into the manifest's objects, which may have moved
  for (const auto& anchor : options.trust_anchors) {
    std::string subject = CertificateSubject(anchor);
    if (change.document && std::find(manifest.trust_anchors.begin(), manifest.trust_anchors.end(), subject) ==
                               manifest.trust_anchors.end())
      manifest.trust_anchors.push_back(std::move(subject));
  }
  manifest.decision = "version " + std::to_string(number) + ": " + what +
                      (change.document ? " (" + p.manifest.decision + ")" : "");
  Bytes manifest_json = package::ManifestToJson(manifest);

  PackageRecord record;
  record.id = id;
  record.version = number;
  record.created = manifest.created;
  record.state = PackageState::kQueued;
  for (const auto& o : latest.objects)
    if (o.path != package::kManifestPath) record.objects.push_back(o);
  KnownContent known;
  PRESERVE_RETURN_IF_ERROR(StoreObjects(p, manifest_json, *impl_->store, w, known, record));
  w.PutPackage(record.id, EncodePackageRecord(record));
  w.Enqueue(record.id, EncodeQueueEntry(record));
  // A package not indexed yet (a store whose index is being built) is left to the build.
  PRESERVE_ASSIGN_OR_RETURN(std::optional<IndexEntry> indexed, ReadIndexEntry(*impl_->store, package_id));
  if (indexed) PutIndexEntry(w, MakeIndexEntry(record, manifest, &*indexed), &*indexed);
  // Retention and holds stay the package's: a version has no lifecycle record of its own.
  PRESERVE_ASSIGN_OR_RETURN(PackageLifecycle lifecycle, LoadLifecycle(*impl_->store, package_id));
  ProtectObjects(w, record, lifecycle);
  p.outcome.package_id = id;
  const std::string trusted = trust.ListAnchorsUsed(p.outcome, clock, w);
  if (!p.submission_key.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> holder, FindHolder(*impl_->store, p.submission_key));
    if (!holder) w.PutSubmission(p.submission_key, id);
  }
  AppendSubmissionEvent(w, AuditEvent(clock, "version",
                           {{"package", package_id},
                            {"version", std::to_string(number)},
                            {"id", id},
                            {"change", what},
                            {"input", p.outcome.input},
                            {"organ", manifest.metadata ? manifest.metadata->organ_name : ""},
                            {"signer_organization", EscapeForDisplay(SignerOrganization(p.outcome))},
                            {"manifest_sha256", ToHex(Digest(kContentHash, manifest_json))},
                            {"trust_list_added", trusted}}));
  PRESERVE_FAULT_POINT("version.before_commit");
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  p.outcome.package_id = id;
  return p.outcome;
}

}  // namespace preserve::archive
