#include "preserve/audit/package_verification.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "preserve/signature/asic_validation.h"
#include "preserve/package/manifest.h"
#include "preserve/signature/pdf_validation.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"

namespace preserve::audit {

namespace {

namespace json = boost::json;

class ReportBuilder {
 public:
  explicit ReportBuilder(PackageReport& report) : report_(report) {}
  void Add(std::string section, std::string what, Verdict verdict = Verdict::kValid, std::string detail = "") {
    if (verdict != Verdict::kValid) report_.reasons.push_back(what + (detail.empty() ? "" : ": " + detail));
    report_.steps.push_back({std::move(section), std::move(what), verdict, std::move(detail)});
  }

 private:
  PackageReport& report_;
};

// A data object's digest, whether held in memory or streamed.
Result<Bytes> ObjectDigest(const PackageContents& contents, const std::string& path, HashAlgorithm alg) {
  if (auto it = contents.data.find(path); it != contents.data.end()) return Digest(alg, it->second);
  auto it = contents.streamed.find(path);
  if (it == contents.streamed.end()) return Status::NotFound(path + " is missing from the package");
  Hasher hasher(alg);
  PRESERVE_RETURN_IF_ERROR(it->second.read([&hasher](ByteView piece) {
    hasher.Update(piece);
    return Status::Ok();
  }));
  return hasher.Finish();
}

// A data object's bytes: what is validated whole (signatures, PDFs,
// containers, validation material) is read into memory even when streamed.
Result<Bytes> ObjectBytes(const PackageContents& contents, const std::string& path) {
  if (auto it = contents.data.find(path); it != contents.data.end()) return it->second;
  auto it = contents.streamed.find(path);
  if (it == contents.streamed.end()) return Status::NotFound(path + " is missing from the package");
  Bytes out;
  PRESERVE_RETURN_IF_ERROR(it->second.read([&out](ByteView piece) {
    out.insert(out.end(), piece.begin(), piece.end());
    return Status::Ok();
  }));
  return out;
}

// Which of the verifier's trust becomes anchors: the certificates it gave,
// and the certificates the package carries whose fingerprint it pinned.
struct ResolvedTrust {
  std::vector<Bytes> anchors;
  std::vector<std::string> unmatched_pins;  // "SHA256:AB:..." pinned but carried by nothing
};

ResolvedTrust Resolve(const SuppliedTrust& supplied, const std::vector<Bytes>& carried) {
  ResolvedTrust out;
  out.anchors = supplied.certificates;
  for (const Bytes& pin : supplied.pinned_sha256) {
    bool matched = false;
    for (const Bytes& cert : carried) {
      if (Digest(HashAlgorithm::kSha256, cert) != pin) continue;
      matched = true;
      if (std::find(out.anchors.begin(), out.anchors.end(), cert) == out.anchors.end()) out.anchors.push_back(cert);
    }
    if (!matched) out.unmatched_pins.push_back("SHA256:" + ToHex(pin));
  }
  return out;
}

std::string Describe(const Bytes& cert) {
  std::string subject = CertificateSubject(cert);
  return (subject.empty() ? std::string("an unreadable certificate") : subject) + ", SHA-256 " +
         CertificateFingerprint(cert);
}

// The steps that say whose trust judges `what` ("time-stamps", "signers"):
// the anchors supplied, and how the roots the package carries compare with
// them. Returns the anchors to use.
std::vector<Bytes> AddTrustSteps(const std::string& section, const std::string& what, const SuppliedTrust& supplied,
                                 const std::vector<Bytes>& carried, PackageReport& report) {
  ReportBuilder add(report);
  ResolvedTrust trust = Resolve(supplied, carried);
  std::vector<Bytes> carried_roots;
  for (const Bytes& cert : carried)
    if (IsSelfIssued(cert) && std::find(carried_roots.begin(), carried_roots.end(), cert) == carried_roots.end())
      carried_roots.push_back(cert);
  std::string carried_text;
  for (const Bytes& root : carried_roots) carried_text += (carried_text.empty() ? "" : "; ") + Describe(root);

  if (supplied.empty()) {
    add.Add(section, "trust anchors for the " + what, Verdict::kIndeterminate,
            "none was supplied, and a certificate the package carries proves nothing by itself (anyone can make a "
            "package that carries a CA of their own)" +
                (carried_text.empty() ? std::string() : "; the package carries " + carried_text) +
                (supplied.missing_hint.empty() ? std::string() : ". " + supplied.missing_hint));
    return {};
  }
  if (trust.anchors.empty()) {
    // The verifier named what it trusts, and the package carries none of it.
    add.Add(section, "trust anchors for the " + what, Verdict::kInvalid,
            "none of the pinned fingerprints (" + supplied.source + ") is a certificate the package carries" +
                (carried_text.empty() ? std::string() : ": it carries " + carried_text));
    return {};
  }
  std::string anchors_text;
  for (const Bytes& anchor : trust.anchors) anchors_text += (anchors_text.empty() ? "" : "; ") + Describe(anchor);
  add.Add(section, "trust anchors for the " + what + " (" + supplied.source + "): " + anchors_text);
  for (const Bytes& root : carried_roots) {
    const bool supplied_root = std::find(trust.anchors.begin(), trust.anchors.end(), root) != trust.anchors.end();
    add.Add(section, "the package carries " + Describe(root) +
                         (supplied_root ? ": one of the anchors supplied"
                                        : ": not an anchor supplied, so used only to build paths"));
  }
  for (const std::string& pin : trust.unmatched_pins)
    add.Add(section, "pinned fingerprint " + pin + ": no certificate the package carries has it");
  return trust.anchors;
}

// The TSA certificates the record's tokens carry (unreadable tokens are the verifier's to report).
std::vector<Bytes> TokenCertificates(const timestamp::EvidenceRecord& record) {
  std::vector<Bytes> out;
  for (const auto& chain : record.sequence)
    for (const auto& ats : chain) {
      auto info = timestamp::ParseToken(ats.time_stamp);
      if (info.ok() && !info->tsa_certificate.empty() &&
          std::find(out.begin(), out.end(), info->tsa_certificate) == out.end())
        out.push_back(info->tsa_certificate);
    }
  return out;
}

// Verifies one evidence record without the trust steps (which the caller adds once).
timestamp::EvidenceReport RunEvidence(const timestamp::EvidenceRecord& record,
                                      const timestamp::DataObjectHashes& hashes, const std::vector<Bytes>& anchors,
                                      const PackageVerifyOptions& options) {
  timestamp::EvidenceVerifyOptions ev;
  ev.tokens.trust_anchors = anchors;
  ev.hash_algorithm_end = options.hash_algorithm_end;
  ev.signature_algorithm_end = options.signature_algorithm_end;
  ev.clock = options.clock;
  return timestamp::VerifyEvidenceRecord(record, hashes, ev);
}

// Adds the checks of the package's lapsed evidence records, one summary line
// each: what ended, and that a new chain took over, so existence before the
// current record's first time-stamp is not claimed.
void AddLapsedEvidence(const PackageContents& contents, const timestamp::DataObjectHashes& hashes,
                       const std::vector<Bytes>& anchors, const PackageVerifyOptions& options,
                       PackageReport& report) {
  ReportBuilder add(report);
  for (std::size_t i = 0; i < contents.lapsed_evidence.size(); ++i) {
    const LapsedEvidence& lapsed = contents.lapsed_evidence[i];
    const std::string name = "earlier evidence record " + std::to_string(i + 1);
    auto record = timestamp::DecodeEvidenceRecord(lapsed.evidence_record);
    std::string line;
    if (!record.ok()) {
      line = name + " cannot be read: " + record.status().message();
    } else {
      timestamp::EvidenceReport er = RunEvidence(*record, hashes, anchors, options);
      line = name + (er.first_time ? " (first time-stamp " + FormatUtcTime(*er.first_time) + ")" : std::string()) +
             (er.verdict == Verdict::kValid ? ": still verifies, but was superseded"
                                            : ": lapsed: " + er.failure);
    }
    line += "; a new evidence chain was started " + lapsed.restarted +
            ", and existence is proven only from the current record's first time-stamp";
    add.Add("evidence", line);
    report.lapsed_evidence.push_back(std::move(line));
  }
}

}  // namespace

void AddEvidenceSteps(const timestamp::EvidenceRecord& record, const timestamp::DataObjectHashes& hashes,
                      const std::vector<Bytes>& carried, const PackageVerifyOptions& options, PackageReport& report) {
  ReportBuilder add(report);
  std::vector<Bytes> carried_all = carried;
  for (Bytes& cert : TokenCertificates(record))
    if (std::find(carried_all.begin(), carried_all.end(), cert) == carried_all.end())
      carried_all.push_back(std::move(cert));
  std::vector<Bytes> anchors = AddTrustSteps("evidence", "time-stamps", options.tsa_trust, carried_all, report);
  if (!options.policy_source.empty()) add.Add("evidence", "algorithm policy: " + options.policy_source);
  timestamp::EvidenceReport er = RunEvidence(record, hashes, anchors, options);
  bool step_explains_verdict = false;
  for (const auto& step : er.steps) {
    add.Add("evidence", step.what, step.verdict, step.detail);
    if (step.verdict == er.verdict) step_explains_verdict = true;
  }
  // The record's verdict stands even when no single step carries it.
  if (!step_explains_verdict) add.Add("evidence", "evidence record", er.verdict, er.failure);
  if (er.verdict == Verdict::kValid) report.existence_time = er.first_time;
}

Verdict WorstStep(const PackageReport& report) {
  Verdict v = Verdict::kValid;
  for (const auto& s : report.steps) v = Worse(v, s.verdict);
  return v;
}

namespace {

// Checks the package's evidence record (and any lapsed ones) over the data
// objects `hashes` gives, taken as one group, and adds its steps.
void CheckEvidence(const PackageContents& contents, const timestamp::DataObjectHashes& hashes,
                   const PackageVerifyOptions& options, PackageReport& report) {
  ReportBuilder add(report);
  auto record = timestamp::DecodeEvidenceRecord(contents.evidence_record);
  if (!record.ok()) {
    add.Add("evidence", "evidence record", Verdict::kInvalid, record.status().message());
    return;
  }
  AddEvidenceSteps(*record, hashes, contents.tsa_certificates, options, report);
  if (contents.lapsed_evidence.empty()) return;
  std::vector<Bytes> carried = contents.tsa_certificates;
  for (Bytes& cert : TokenCertificates(*record)) carried.push_back(std::move(cert));
  AddLapsedEvidence(contents, hashes, Resolve(options.tsa_trust, carried).anchors, options, report);
}

// What an auditor validates a signature with: only what the package keeps
// (its certificates, CRLs and OCSP responses; no network, so the verdict is
// reproducible offline) and the trust anchors the verifier supplied. The
// anchor ingest used is kept with the other certificates, for path building
// only.
signature::CmsValidationOptions ValidationFromPackage(const std::vector<const package::SignatureEntry*>& entries,
                                                   const PackageContents& contents,
                                                   const std::vector<Bytes>& anchors, TimePoint as_of) {
  signature::CmsValidationOptions cms;
  cms.validation_time = as_of;
  cms.revocation.online = false;
  cms.trust_anchors = anchors;
  for (const auto* sig : entries) {
    for (const auto& path : sig->certificate_paths)
      if (auto cert = ObjectBytes(contents, path); cert.ok()) cms.intermediates.push_back(std::move(cert).value());
    for (const auto& path : sig->revocation_paths) {
      auto data = ObjectBytes(contents, path);
      if (!data.ok()) continue;
      auto& list = path.size() > 4 && path.substr(path.size() - 4) == ".crl" ? cms.revocation.crls
                                                                              : cms.revocation.ocsp_responses;
      list.push_back(std::move(data).value());
    }
  }
  return cms;
}

// Every certificate the package keeps as validation material (what a pinned fingerprint may name).
std::vector<Bytes> CarriedValidationCertificates(const package::Manifest& manifest, const PackageContents& contents) {
  std::vector<Bytes> out;
  for (const auto& sig : manifest.signatures)
    for (const auto& path : sig.certificate_paths)
      if (auto cert = ObjectBytes(contents, path); cert.ok() && std::find(out.begin(), out.end(), *cert) == out.end())
        out.push_back(std::move(cert).value());
  return out;
}

// The signature reports of one signed data object, in the order ingest
// recorded them: a CMS signature's signers, a PDF's signatures and document
// time-stamps, an ASiC container's signatures.
Result<std::vector<signature::SignatureReport>> Revalidate(const package::SignatureEntry& first, const Bytes& signed_object,
                                                        const PackageContents& contents,
                                                        const signature::CmsValidationOptions& cms) {
  std::vector<signature::SignatureReport> out;
  if (first.format.rfind("PAdES", 0) == 0 || first.format.rfind("PDF", 0) == 0) {
    PRESERVE_ASSIGN_OR_RETURN(signature::PdfValidation pdf, signature::ValidatePdf(signed_object, cms));
    for (auto& s : pdf.signatures) out.push_back(std::move(s.report));
    return out;
  }
  if (first.format.rfind("ASiC", 0) == 0) {
    PRESERVE_ASSIGN_OR_RETURN(signature::AsicValidation asic, signature::ValidateAsic(signed_object, cms));
    for (auto& s : asic.signatures) out.push_back(std::move(s.report));
    return out;
  }
  std::optional<ByteView> detached;
  if (!first.enveloping) {
    // A large document is streamed through the signature's digests, never held whole.
    if (auto large = contents.streamed.find(first.document_path); large != contents.streamed.end()) {
      PRESERVE_ASSIGN_OR_RETURN(signature::CmsValidation result,
                                signature::ValidateCmsDetached(signed_object, large->second.read, cms));
      return std::move(result.signers);
    }
    auto doc = contents.data.find(first.document_path);
    if (doc == contents.data.end()) return Status::NotFound("the signed document is missing from the package");
    detached = ByteView(doc->second);
  }
  PRESERVE_ASSIGN_OR_RETURN(signature::CmsValidation result, signature::ValidateCms(signed_object, detached, cms));
  return std::move(result.signers);
}

void CheckSignatures(const package::Manifest& manifest, const PackageContents& contents,
                     const PackageVerifyOptions& options, PackageReport& report) {
  ReportBuilder add(report);
  // Signatures are judged as of the first archive timestamp: from then on the
  // evidence, not the certificates' lifetime, proves they existed.
  const TimePoint as_of = report.existence_time.value_or(options.clock->Now());
  // One signed data object (a .p7s, a PDF, a container) may carry several signatures.
  std::map<std::string, std::vector<const package::SignatureEntry*>> by_object;
  std::vector<std::string> order;
  for (const auto& sig : manifest.signatures) {
    if (by_object.count(sig.signature_path) == 0) order.push_back(sig.signature_path);
    by_object[sig.signature_path].push_back(&sig);
  }
  if (order.empty()) return;
  const std::vector<Bytes> anchors = AddTrustSteps("signature", "signers", options.signer_trust,
                                                   CarriedValidationCertificates(manifest, contents), report);
  const std::string anchor_source =
      options.signer_trust.source.empty() ? std::string("a trust anchor supplied") : options.signer_trust.source;
  for (const auto& path : order) {
    const auto& entries = by_object[path];
    const package::SignatureEntry& first = *entries.front();
    std::string object_name = first.signature_path + (first.enveloping || first.document_path == first.signature_path
                                                          ? ""
                                                          : " over " + first.document_path);
    auto sig_bytes = ObjectBytes(contents, path);
    if (!sig_bytes.ok()) {
      add.Add("signature", object_name, Verdict::kInvalid,
              sig_bytes.status().code() == StatusCode::kNotFound ? "the signature is missing from the package"
                                                                 : sig_bytes.status().message());
      continue;
    }
    signature::CmsValidationOptions cms = ValidationFromPackage(entries, contents, anchors, as_of);
    auto reports = Revalidate(first, sig_bytes.value(), contents, cms);
    if (!reports.ok()) {
      add.Add("signature", object_name, Verdict::kInvalid, reports.status().message());
      continue;
    }
    if (reports->size() != entries.size()) {
      add.Add("signature", object_name, Verdict::kInvalid,
              "the manifest records " + std::to_string(entries.size()) + " signatures, the object carries " +
                  std::to_string(reports->size()));
    }
    for (std::size_t i = 0; i < reports->size(); ++i) {
      const signature::SignatureReport& signer = (*reports)[i];
      std::string what = i < entries.size() && !entries[i]->format.empty() ? object_name + " (" + entries[i]->format + ")"
                                                                           : object_name;
      if (signer.verdict == Verdict::kValid) {
        std::string detail = "signed by " + signer.signer_subject;
        if (signer.signing_time)
          detail += " at " + FormatUtcTime(*signer.signing_time) + " (" + signer.signing_time_source + ")";
        detail += "; certificate path to a trust anchor (" + anchor_source + ") valid at the signing time";
        if (!signer.revocation.empty()) detail += "; revocation: " + signer.revocation;
        add.Add("signature", what + ": " + detail);
      } else if (anchors.empty() && signer.sub_indication == signature::SubIndication::kNoCertificateChainFound) {
        // Say why plainly: nothing failed, the verifier named no anchor.
        const package::SignatureEntry& entry = *entries[std::min(i, entries.size() - 1)];
        auto kept = entry.certificate_paths.empty() ? Result<Bytes>(Status::NotFound(""))
                                                    : ObjectBytes(contents, entry.certificate_paths.back());
        add.Add("signature", what, signer.verdict,
                "NO_CERTIFICATE_CHAIN_FOUND: no trust anchor for the signers was supplied" +
                    (kept.ok() ? "; the signer's path ends at " + Describe(*kept) +
                                     ", the anchor ingest used, which the package keeps but which proves nothing "
                                     "by itself"
                               : std::string()));
      } else {
        add.Add("signature", what, signer.verdict,
                std::string(signature::SubIndicationName(signer.sub_indication)) + ": " + signer.reason);
      }
    }
  }
}

std::vector<std::string> SortedPaths(const PackageContents& contents) {
  std::vector<std::string> out;
  for (const auto& [path, bytes] : contents.data) out.push_back(path);
  for (const auto& [path, object] : contents.streamed) out.push_back(path);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void UsePolicy(const policy::AlgorithmCatalogue& policy, PackageVerifyOptions& options) {
  options.hash_algorithm_end = [policy](HashAlgorithm alg) { return policy.HashEnd(alg); };
  options.signature_algorithm_end = [policy](const std::string& key_type,
                                             int key_bits) -> std::optional<TimePoint> {
    auto key = policy::SignatureKeyTypeFromName(key_type);
    // A key type the policy cannot name was never approved by it.
    if (!key.ok()) return TimePoint{};
    return policy.SignatureEnd(key.value(), key_bits);
  };
}

void UseStricterPolicy(const policy::AlgorithmCatalogue& a, const policy::AlgorithmCatalogue& b,
                       PackageVerifyOptions& options) {
  // nullopt is "no end": the earlier of two ends, where one has none, is the other.
  auto earlier = [](std::optional<TimePoint> x, std::optional<TimePoint> y) -> std::optional<TimePoint> {
    if (!x) return y;
    if (!y) return x;
    return std::min(*x, *y);
  };
  options.hash_algorithm_end = [a, b, earlier](HashAlgorithm alg) { return earlier(a.HashEnd(alg), b.HashEnd(alg)); };
  options.signature_algorithm_end = [a, b, earlier](const std::string& key_type,
                                                    int key_bits) -> std::optional<TimePoint> {
    auto key = policy::SignatureKeyTypeFromName(key_type);
    if (!key.ok()) return TimePoint{};
    return earlier(a.SignatureEnd(key.value(), key_bits), b.SignatureEnd(key.value(), key_bits));
  };
}

PackageReport VerifyPackage(const PackageContents& contents, const PackageVerifyOptions& options) {
  PackageReport report;
  ReportBuilder add(report);

  // 1. The data objects against the manifest.
  auto manifest_bytes = contents.data.find(package::kManifestPath);
  std::optional<package::Manifest> manifest;
  if (manifest_bytes == contents.data.end()) {
    add.Add("data", "manifest.json", Verdict::kInvalid, "the package has no manifest");
  } else if (auto parsed = package::ManifestFromJson(manifest_bytes->second); !parsed.ok()) {
    add.Add("data", "manifest.json", Verdict::kInvalid, parsed.status().message());
  } else {
    manifest = std::move(parsed).value();
    report.package_id = manifest->package_id;
    std::set<std::string> listed = {package::kManifestPath};
    for (const auto& entry : manifest->objects) {
      listed.insert(entry.path);
      auto digest = ObjectDigest(contents, entry.path, HashAlgorithm::kSha256);
      if (!digest.ok() && digest.status().code() == StatusCode::kNotFound) {
        add.Add("data", entry.path, Verdict::kInvalid, "listed in the manifest but missing");
      } else if (!digest.ok()) {
        add.Add("data", entry.path, Verdict::kInvalid, "unreadable: " + digest.status().message());
      } else if (digest.value() != entry.sha256) {
        add.Add("data", entry.path, Verdict::kInvalid, "its SHA-256 differs from the manifest's");
      } else {
        add.Add("data", entry.path + ": SHA-256 matches the manifest (" + std::to_string(entry.size) + " bytes)");
      }
    }
    for (const auto& path : SortedPaths(contents)) {
      if (listed.count(path) == 0) add.Add("data", path, Verdict::kInvalid, "not listed in the manifest");
    }
  }

  // 2. The evidence record over every data object, taken as one group.
  timestamp::DataObjectHashes hashes = [&contents](HashAlgorithm alg) -> Result<std::vector<Bytes>> {
    std::vector<Bytes> out;
    for (const auto& path : SortedPaths(contents)) {
      PRESERVE_ASSIGN_OR_RETURN(Bytes digest, ObjectDigest(contents, path, alg));
      out.push_back(std::move(digest));
    }
    return out;
  };
  CheckEvidence(contents, hashes, options, report);

  // 3. The signatures, with the validation material the package carries.
  if (manifest) CheckSignatures(*manifest, contents, options, report);

  report.verdict = WorstStep(report);
  return report;
}

PackageReport VerifyEvidenceOverFiles(const Bytes& evidence_record, const std::vector<Bytes>& data_objects,
                                      const std::vector<std::string>& names, const PackageVerifyOptions& options) {
  PackageReport report;
  ReportBuilder add(report);
  for (std::size_t i = 0; i < data_objects.size(); ++i) {
    add.Add("data", (i < names.size() ? names[i] : "data object " + std::to_string(i + 1)) +
                        ": SHA-256 " + ToHex(Digest(HashAlgorithm::kSha256, data_objects[i])));
  }
  timestamp::DataObjectHashes hashes = [&data_objects](HashAlgorithm alg) -> Result<std::vector<Bytes>> {
    std::vector<Bytes> out;
    out.reserve(data_objects.size());
    for (const Bytes& o : data_objects) out.push_back(Digest(alg, o));
    return out;
  };
  auto record = timestamp::DecodeEvidenceRecord(evidence_record);
  if (!record.ok())
    add.Add("evidence", "evidence record", Verdict::kInvalid, record.status().message());
  else
    AddEvidenceSteps(*record, hashes, {}, options, report);
  report.verdict = WorstStep(report);
  return report;
}

std::string ReportToText(const PackageReport& report) {
  std::string out;
  out += (report.package_id.empty() ? std::string("Evidence") : "Package " + report.package_id) + ": " +
         std::string(VerdictName(report.verdict)) + "\n";
  if (report.existence_time && report.verdict == Verdict::kValid) {
    out += "The data existed, unchanged, at " + FormatUtcTime(*report.existence_time) +
           " (the first archive time-stamp" +
           (report.lapsed_evidence.empty() ? std::string(")")
                                           : " of the current evidence record; an earlier one lapsed, so nothing "
                                             "earlier is proven)") +
           ".\n";
  }
  std::string section;
  for (const auto& step : report.steps) {
    if (step.section != section) {
      section = step.section;
      out += section == "data" ? "Data objects\n" : section == "evidence" ? "Evidence record (RFC 4998)\n"
                                                                         : "Signatures\n";
    }
    out += "  [" + std::string(VerdictName(step.verdict)) + "] " + step.what;
    if (!step.detail.empty()) out += ": " + step.detail;
    out += "\n";
  }
  return out;
}

std::string ReportToJson(const PackageReport& report) {
  json::array steps;
  for (const auto& s : report.steps) {
    steps.push_back(json::object{{"section", s.section}, {"what", s.what}, {"verdict", VerdictName(s.verdict)},
                                 {"detail", s.detail}});
  }
  json::array reasons;
  for (const auto& r : report.reasons) reasons.emplace_back(r);
  json::object root{{"verdict", VerdictName(report.verdict)},
                    {"package_id", report.package_id},
                    {"existence_time", report.existence_time ? FormatUtcTime(*report.existence_time) : ""},
                    {"reasons", std::move(reasons)},
                    {"lapsed_evidence", json::value_from(report.lapsed_evidence)},
                    {"steps", std::move(steps)}};
  return json::serialize(root);
}

}  // namespace preserve::audit
