#include "preserve/audit/package_verification.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "preserve/ingest/asic_validation.h"
#include "preserve/ingest/manifest.h"
#include "preserve/ingest/pdf_validation.h"
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

Verdict Overall(const PackageReport& report) {
  Verdict v = Verdict::kValid;
  for (const auto& s : report.steps) v = Worse(v, s.verdict);
  return v;
}

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

// Checks the evidence record over the data objects `hashes` gives (taken as one group) and adds its steps.
void CheckEvidence(const Bytes& er_der, const timestamp::DataObjectHashes& hashes, const PackageVerifyOptions& options,
                   PackageReport& report) {
  ReportBuilder add(report);
  auto record = timestamp::DecodeEvidenceRecord(er_der);
  if (!record.ok()) {
    add.Add("evidence", "evidence record", Verdict::kInvalid, record.status().message());
    return;
  }
  timestamp::EvidenceVerifyOptions ev;
  ev.tokens.trust_anchors = options.tsa_trust_anchors;
  ev.hash_algorithm_end = options.hash_algorithm_end;
  ev.signature_algorithm_end = options.signature_algorithm_end;
  ev.clock = options.clock;
  timestamp::EvidenceReport er = timestamp::VerifyEvidenceRecord(record.value(), hashes, ev);
  if (!options.tsa_trust_source.empty()) {
    add.Add("evidence", "time-stamp trust anchor: " + options.tsa_trust_source);
  }
  bool step_explains_verdict = false;
  for (const auto& step : er.steps) {
    add.Add("evidence", step.what, step.verdict, step.detail);
    if (step.verdict == er.verdict) step_explains_verdict = true;
  }
  // The record's verdict stands even when no single step carries it.
  if (!step_explains_verdict) add.Add("evidence", "evidence record", er.verdict, er.failure);
  if (er.verdict == Verdict::kValid) report.existence_time = er.first_time;
}

// What an auditor validates a signature with: only what the package keeps
// (its certificates, CRLs and OCSP responses; no network, so the verdict is
// reproducible offline) and the trust anchors given, else the one the package
// kept for each signature.
ingest::CmsValidationOptions ValidationFromPackage(const std::vector<const ingest::SignatureEntry*>& entries,
                                                   const PackageContents& contents,
                                                   const PackageVerifyOptions& options, const Clock& as_of,
                                                   std::string& anchor_source) {
  ingest::CmsValidationOptions cms;
  cms.clock = &as_of;
  cms.revocation.online = false;
  auto object = [&](const std::string& path) -> std::optional<Bytes> {
    auto bytes = ObjectBytes(contents, path);
    return bytes.ok() ? std::optional<Bytes>(std::move(bytes).value()) : std::nullopt;
  };
  for (const auto* sig : entries) {
    for (const auto& path : sig->certificate_paths)
      if (auto cert = object(path)) cms.intermediates.push_back(std::move(*cert));
    for (const auto& path : sig->revocation_paths) {
      auto data = object(path);
      if (!data) continue;
      auto& list = path.size() > 4 && path.substr(path.size() - 4) == ".crl" ? cms.revocation.crls
                                                                              : cms.revocation.ocsp_responses;
      list.push_back(std::move(*data));
    }
  }
  if (!options.signer_trust_anchors.empty()) {
    cms.trust_anchors = options.signer_trust_anchors;
    anchor_source = "the given trust anchors";
    return cms;
  }
  for (const auto* sig : entries) {
    if (sig->certificate_paths.empty()) continue;
    auto anchor = object(sig->certificate_paths.back());
    if (!anchor || std::find(cms.trust_anchors.begin(), cms.trust_anchors.end(), *anchor) !=
                                 cms.trust_anchors.end())
      continue;
    cms.trust_anchors.push_back(*anchor);
    anchor_source += (anchor_source.empty() ? "the trust anchor kept in the package (" : "; (") +
                     CertificateSubject(*anchor) + ")";
  }
  return cms;
}

// The signature reports of one signed data object, in the order ingest
// recorded them: a CMS signature's signers, a PDF's signatures and document
// time-stamps, an ASiC container's signatures.
Result<std::vector<ingest::SignatureReport>> Revalidate(const ingest::SignatureEntry& first, const Bytes& signed_object,
                                                        const PackageContents& contents,
                                                        const ingest::CmsValidationOptions& cms) {
  std::vector<ingest::SignatureReport> out;
  if (first.format.rfind("PAdES", 0) == 0 || first.format.rfind("PDF", 0) == 0) {
    PRESERVE_ASSIGN_OR_RETURN(ingest::PdfValidation pdf, ingest::ValidatePdf(signed_object, cms));
    for (auto& s : pdf.signatures) out.push_back(std::move(s.report));
    return out;
  }
  if (first.format.rfind("ASiC", 0) == 0) {
    PRESERVE_ASSIGN_OR_RETURN(ingest::AsicValidation asic, ingest::ValidateAsic(signed_object, cms));
    for (auto& s : asic.signatures) out.push_back(std::move(s.report));
    return out;
  }
  std::optional<ByteView> detached;
  if (!first.enveloping) {
    // A large document is streamed through the signature's digests, never held whole.
    if (auto large = contents.streamed.find(first.document_path); large != contents.streamed.end()) {
      PRESERVE_ASSIGN_OR_RETURN(ingest::CmsValidation result,
                                ingest::ValidateCmsDetached(signed_object, large->second.read, cms));
      return std::move(result.signers);
    }
    auto doc = contents.data.find(first.document_path);
    if (doc == contents.data.end()) return Status::NotFound("the signed document is missing from the package");
    detached = ByteView(doc->second);
  }
  PRESERVE_ASSIGN_OR_RETURN(ingest::CmsValidation result, ingest::ValidateCms(signed_object, detached, cms));
  return std::move(result.signers);
}

void CheckSignatures(const ingest::Manifest& manifest, const PackageContents& contents,
                     const PackageVerifyOptions& options, PackageReport& report) {
  ReportBuilder add(report);
  // Signatures are judged as of the first archive timestamp: from then on the
  // evidence, not the certificates' lifetime, proves they existed.
  ManualClock as_of(report.existence_time.value_or(options.clock->Now()));
  // One signed data object (a .p7s, a PDF, a container) may carry several signatures.
  std::map<std::string, std::vector<const ingest::SignatureEntry*>> by_object;
  std::vector<std::string> order;
  for (const auto& sig : manifest.signatures) {
    if (by_object.count(sig.signature_path) == 0) order.push_back(sig.signature_path);
    by_object[sig.signature_path].push_back(&sig);
  }
  for (const auto& path : order) {
    const auto& entries = by_object[path];
    const ingest::SignatureEntry& first = *entries.front();
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
    std::string anchor_source;
    ingest::CmsValidationOptions cms = ValidationFromPackage(entries, contents, options, as_of, anchor_source);
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
      const ingest::SignatureReport& signer = (*reports)[i];
      std::string what = i < entries.size() && !entries[i]->format.empty() ? object_name + " (" + entries[i]->format + ")"
                                                                           : object_name;
      if (signer.verdict == Verdict::kValid) {
        std::string detail = "signed by " + signer.signer_subject;
        if (signer.signing_time)
          detail += " at " + FormatUtcTime(*signer.signing_time) + " (" + signer.signing_time_source + ")";
        detail += "; certificate path to " + anchor_source + " valid at the signing time";
        if (!signer.revocation.empty()) detail += "; revocation: " + signer.revocation;
        add.Add("signature", what + ": " + detail);
      } else {
        add.Add("signature", what, signer.verdict,
                std::string(ingest::SubIndicationName(signer.sub_indication)) + ": " + signer.reason);
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

void UsePolicy(const timestamp::AlgorithmCatalogue& policy, PackageVerifyOptions& options) {
  options.hash_algorithm_end = [policy](HashAlgorithm alg) { return policy.HashEnd(alg); };
  options.signature_algorithm_end = [policy](const std::string& key_type,
                                             int key_bits) -> std::optional<TimePoint> {
    auto key = timestamp::SignatureKeyTypeFromName(key_type);
    // A key type the policy cannot name was never approved by it.
    if (!key.ok()) return TimePoint{};
    return policy.SignatureEnd(key.value(), key_bits);
  };
}

PackageReport VerifyPackage(const PackageContents& contents, const PackageVerifyOptions& options) {
  PackageReport report;
  ReportBuilder add(report);

  // 1. The data objects against the manifest.
  auto manifest_bytes = contents.data.find(ingest::kManifestPath);
  std::optional<ingest::Manifest> manifest;
  if (manifest_bytes == contents.data.end()) {
    add.Add("data", "manifest.json", Verdict::kInvalid, "the package has no manifest");
  } else if (auto parsed = ingest::ManifestFromJson(manifest_bytes->second); !parsed.ok()) {
    add.Add("data", "manifest.json", Verdict::kInvalid, parsed.status().message());
  } else {
    manifest = std::move(parsed).value();
    report.package_id = manifest->package_id;
    std::set<std::string> listed = {ingest::kManifestPath};
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
  CheckEvidence(contents.evidence_record, hashes, options, report);

  // 3. The signatures, with the validation material the package carries.
  if (manifest) CheckSignatures(*manifest, contents, options, report);

  report.verdict = Overall(report);
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
  CheckEvidence(evidence_record, hashes, options, report);
  report.verdict = Overall(report);
  return report;
}

std::string ReportToText(const PackageReport& report) {
  std::string out;
  out += (report.package_id.empty() ? std::string("Evidence") : "Package " + report.package_id) + ": " +
         std::string(VerdictName(report.verdict)) + "\n";
  if (report.existence_time && report.verdict == Verdict::kValid) {
    out += "The data existed, unchanged, at " + FormatUtcTime(*report.existence_time) +
           " (the first archive time-stamp).\n";
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
                    {"steps", std::move(steps)}};
  return json::serialize(root);
}

}  // namespace preserve::audit
