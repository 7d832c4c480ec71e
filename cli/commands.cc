// The preserve subcommands: parse, call the library, print.
#include <iostream>
#include <map>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/archive.h"
#include "preserve/audit/package_archive.h"
#include "preserve/ingest/manifest.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

// Opens the store named by --store / PRESERVE_STORE. On failure prints why and
// sets `exit_code`.
std::unique_ptr<archive::Archive> OpenArchive(const CommonOptions& common, const Clock& clock, bool read_only,
                                              int& exit_code) {
  auto path = StorePath(common);
  if (!path.ok()) {
    std::cerr << "preserve: " << path.status().message() << "\n";
    exit_code = kExitUsage;
    return nullptr;
  }
  auto opened = archive::Archive::Open(path.value(), read_only, clock);
  if (!opened.ok()) {
    exit_code = ExitFor(opened.status());
    return nullptr;
  }
  return std::move(opened).value();
}

void PrintReport(const audit::PackageReport& report, bool as_json) {
  if (as_json) {
    std::cout << audit::ReportToJson(report) << "\n";
  } else {
    std::cout << audit::ReportToText(report);
  }
}

json::object SignerJson(const ingest::SignatureReport& s) {
  return json::object{{"verdict", VerdictName(s.verdict)},
                      {"sub_indication", s.sub_indication == ingest::SubIndication::kNone
                                             ? ""
                                             : std::string(ingest::SubIndicationName(s.sub_indication))},
                      {"reason", s.reason},
                      {"signer", s.signer_subject},
                      {"organization", s.signer_organization},
                      {"signing_time", s.signing_time ? FormatUtcTime(*s.signing_time) : ""},
                      {"signing_time_source", s.signing_time_source}};
}

// Pairs the files named on the ingest command line into submissions: FILE.p7m
// is enveloping; a detached signature (FILE.p7s, or any --signature) goes with
// the document whose name it extends, or with the only document given.
Result<std::vector<archive::Submission>> PairSubmissions(const std::vector<std::string>& files,
                                                         const std::vector<std::string>& signatures) {
  std::vector<std::filesystem::path> documents, detached;
  std::vector<archive::Submission> out;
  for (const auto& s : signatures) detached.emplace_back(s);
  for (const auto& f : files) {
    std::filesystem::path p(f);
    std::string ext = p.extension().string();
    if (ext == ".p7m") {
      out.push_back({p, std::nullopt});
    } else if (ext == ".p7s") {
      detached.push_back(p);
    } else {
      documents.push_back(p);
    }
  }
  std::vector<bool> used(documents.size(), false);
  for (const auto& sig : detached) {
    std::optional<std::size_t> match;
    for (std::size_t i = 0; i < documents.size(); ++i) {
      if (!used[i] && documents[i].filename().string() == sig.stem().string()) match = i;
    }
    if (!match && documents.size() == 1 && detached.size() == 1 && !used[0]) match = 0;
    if (!match)
      return Status::InvalidArgument("no document given for the detached signature " + sig.string() +
                                     " (name it DOCUMENT.p7s or pass the document too)");
    used[*match] = true;
    out.push_back({sig, documents[*match]});
  }
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (!used[i])
      return Status::InvalidArgument(documents[i].string() +
                                     ": no signature given (pass --signature FILE, or FILE.p7s beside it)");
  }
  if (out.empty()) return Status::InvalidArgument("nothing to ingest");
  return out;
}

void PrintSeal(const std::vector<archive::SealOutcome>& sealed) {
  for (const auto& s : sealed) {
    std::cerr << "sealed " << s.packages << " package" << (s.packages == 1 ? "" : "s") << " in batch " << s.batch_id
              << " (time-stamp " << FormatUtcTime(s.time) << ")\n";
  }
}

}  // namespace

int CmdInit(int argc, char** argv) {
  CommonOptions common;
  std::string key = "ec-p256";
  std::string organization;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("tsa-key", po::value(&key), "embedded TSA key: ec-p256 (default) or rsa-3072")
      ("organization", po::value(&organization), "organization named in the local CA and TSA certificates");
  po::variables_map vm;
  if (auto done = ParseCommand("init", argc, argv, desc, {}, {}, vm, "[--store DIR] [options]")) return *done;

  archive::InitOptions options;
  if (key == "rsa-3072") {
    options.tsa.key_type = timestamp::TsaKeyType::kRsa3072;
  } else if (key != "ec-p256") {
    std::cerr << "preserve init: --tsa-key must be ec-p256 or rsa-3072\n";
    return kExitUsage;
  }
  if (!organization.empty()) options.tsa.organization = organization;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto path = StorePath(common);
  if (!path.ok()) {
    std::cerr << "preserve: " << path.status().message() << "\n";
    return kExitUsage;
  }
  if (Status s = archive::Archive::Init(path.value(), options, *clock.value()); !s.ok()) return ExitFor(s);
  auto ca = LoadCertificates(path.value() / "tsa" / "ca.pem");
  std::cerr << "initialized the store at " << path->string() << "\n";
  if (ca.ok()) {
    std::cerr << "local CA (give this trust anchor to auditors): " << (path.value() / "tsa" / "ca.pem").string()
              << "\n  SHA-256 fingerprint " << ToHex(Digest(HashAlgorithm::kSha256, ca->front())) << "\n";
  }
  return kExitOk;
}

int CmdIngest(int argc, char** argv) {
  CommonOptions common;
  std::vector<std::string> files, signatures, trust, intermediates;
  bool no_seal = false;
  std::size_t batch_size = 1000000;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("trust", po::value(&trust)->required(), "trust anchors for the signers: PEM/DER file or directory (repeatable)")
      ("intermediates", po::value(&intermediates), "extra intermediate certificates: file or directory (repeatable)")
      ("signature", po::value(&signatures), "detached signature of a document given (repeatable)")
      ("no-seal", po::bool_switch(&no_seal), "leave the new packages queued; seal later with 'preserve seal'")
      ("batch-size", po::value(&batch_size), "most packages sealed by one time-stamp (default 1000000)");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files));
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  const std::string usage = "--trust CA [--signature SIG] DOCUMENT... | SIGNED.p7m...";
  if (auto done = ParseCommand("ingest", argc, argv, desc, hidden, positional, vm, usage)) return *done;
  auto submissions = PairSubmissions(files, signatures);
  if (!submissions.ok()) {
    std::cerr << "preserve ingest: " << submissions.status().message() << "\n";
    return kExitUsage;
  }
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  archive::IngestOptions options;
  auto anchors = LoadAll(trust);
  if (!anchors.ok()) return ExitFor(anchors.status().WithContext("--trust"));
  options.trust_anchors = std::move(anchors).value();
  auto pool = LoadAll(intermediates);
  if (!pool.ok()) return ExitFor(pool.status().WithContext("--intermediates"));
  options.intermediates = std::move(pool).value();

  int exit_code = kExitOk;
  auto archive = OpenArchive(common, *clock.value(), false, exit_code);
  if (!archive) return exit_code;

  std::size_t accepted = 0, refused = 0, failed = 0;
  for (const auto& submission : submissions.value()) {
    auto outcome = archive->Ingest(submission, options);
    if (!outcome.ok()) {
      std::cerr << "preserve: error: " << outcome.status().message() << "\n";
      ++failed;
      continue;
    }
    if (outcome->accepted) {
      ++accepted;
      if (common.json) {
        json::array signers;
        for (const auto& s : outcome->signatures) signers.push_back(SignerJson(s));
        std::cout << json::serialize(json::object{{"id", outcome->package_id},
                                                  {"input", outcome->input},
                                                  {"signers", std::move(signers)}})
                  << "\n";
      } else {
        std::cout << outcome->package_id << "\n";
      }
    } else {
      ++refused;
      std::cerr << "refused: " << outcome->input << ": " << outcome->reason << "\n";
    }
  }
  std::cout.flush();
  if (accepted > 0 && !no_seal) {
    auto sealed = archive->Seal(batch_size);
    if (!sealed.ok()) {
      std::cerr << "preserve: the accepted packages are stored and queued, but sealing failed (run 'preserve seal' "
                   "again): "
                << sealed.status().message() << "\n";
      return kExitError;
    }
    PrintSeal(sealed.value());
  }
  if (failed > 0) return kExitError;
  return refused > 0 ? kExitRefused : kExitOk;
}

int CmdSeal(int argc, char** argv) {
  CommonOptions common;
  std::size_t batch_size = 1000000;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("batch-size", po::value(&batch_size), "most packages sealed by one time-stamp (default 1000000)");
  po::variables_map vm;
  if (auto done = ParseCommand("seal", argc, argv, desc, {}, {}, vm, "[--store DIR] [--batch-size N]")) return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  int exit_code = kExitOk;
  auto archive = OpenArchive(common, *clock.value(), false, exit_code);
  if (!archive) return exit_code;
  auto sealed = archive->Seal(batch_size);
  if (!sealed.ok()) return ExitFor(sealed.status());
  if (common.json) {
    json::array batches;
    for (const auto& s : sealed.value())
      batches.push_back(json::object{{"batch", s.batch_id}, {"packages", s.packages}, {"time", FormatUtcTime(s.time)}});
    std::cout << json::serialize(json::object{{"batches", std::move(batches)}}) << "\n";
  } else if (sealed->empty()) {
    std::cout << "nothing to seal\n";
  } else {
    PrintSeal(sealed.value());
  }
  return kExitOk;
}

int CmdVerify(int argc, char** argv) {
  CommonOptions common;
  std::string id;
  std::vector<std::string> trust;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("trust", po::value(&trust),
                     "check the signers against these anchors instead of those kept in the package (repeatable)");
  po::options_description hidden;
  hidden.add_options()("id", po::value(&id)->required());
  po::positional_options_description positional;
  positional.add("id", 1);
  po::variables_map vm;
  if (auto done = ParseCommand("verify", argc, argv, desc, hidden, positional, vm, "[--store DIR] PACKAGE_ID")) return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  archive::VerifyOptions options;
  auto anchors = LoadAll(trust);
  if (!anchors.ok()) return ExitFor(anchors.status().WithContext("--trust"));
  options.signer_trust_anchors = std::move(anchors).value();
  int exit_code = kExitOk;
  auto archive = OpenArchive(common, *clock.value(), true, exit_code);
  if (!archive) return exit_code;
  auto report = archive->Verify(id, options);
  if (!report.ok()) return ExitFor(report.status());
  PrintReport(report.value(), common.json);
  return ExitFor(report->verdict);
}

int CmdExport(int argc, char** argv) {
  CommonOptions common;
  std::string id, out;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::options_description hidden;
  hidden.add_options()("id", po::value(&id)->required())("out", po::value(&out)->required());
  po::positional_options_description positional;
  positional.add("id", 1).add("out", 1);
  po::variables_map vm;
  if (auto done = ParseCommand("export", argc, argv, desc, hidden, positional, vm, "[--store DIR] PACKAGE_ID OUT.zip"))
    return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  int exit_code = kExitOk;
  auto archive = OpenArchive(common, *clock.value(), true, exit_code);
  if (!archive) return exit_code;
  if (Status s = archive->Export(id, out); !s.ok()) return ExitFor(s);
  std::cerr << "exported package " << id << " to " << out << "\n";
  return kExitOk;
}

int CmdVerifyPackage(int argc, char** argv) {
  CommonOptions common;
  std::string zip;
  std::vector<std::string> trust, tsa_trust;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, false);
  desc.add_options()
      ("trust", po::value(&trust), "trust anchors for the signers (default: those kept in the package)")
      ("tsa-trust", po::value(&tsa_trust),
       "trust anchor for the time-stamps (default: the package's own tsa/ca.pem, whose fingerprint is printed)");
  po::options_description hidden;
  hidden.add_options()("zip", po::value(&zip)->required());
  po::positional_options_description positional;
  positional.add("zip", 1);
  po::variables_map vm;
  if (auto done = ParseCommand("verify-package", argc, argv, desc, hidden, positional, vm, "PACKAGE.zip [--tsa-trust CA]"))
    return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto contents = audit::ReadPackageZip(zip);
  if (!contents.ok()) return ExitFor(contents.status());
  audit::PackageVerifyOptions options;
  options.clock = clock.value().get();
  auto signer_anchors = LoadAll(trust);
  if (!signer_anchors.ok()) return ExitFor(signer_anchors.status().WithContext("--trust"));
  options.signer_trust_anchors = std::move(signer_anchors).value();
  if (!tsa_trust.empty()) {
    auto anchors = LoadAll(tsa_trust);
    if (!anchors.ok()) return ExitFor(anchors.status().WithContext("--tsa-trust"));
    options.tsa_trust_anchors = std::move(anchors).value();
    options.tsa_trust_source = "given with --tsa-trust";
  } else if (!contents->tsa_certificates.empty()) {
    options.tsa_trust_anchors = {contents->tsa_certificates.front()};
    options.tsa_trust_source = "the package's own tsa/ca.pem, SHA-256 fingerprint " +
                               ToHex(Digest(HashAlgorithm::kSha256, contents->tsa_certificates.front())) +
                               ": compare it with the one the archive published";
  }
  audit::PackageReport report = audit::VerifyPackage(contents.value(), options);
  PrintReport(report, common.json);
  return ExitFor(report.verdict);
}

int CmdVerifyEr(int argc, char** argv) {
  CommonOptions common;
  std::string er_path;
  std::vector<std::string> files, tsa_trust;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, false);
  desc.add_options()
      ("er", po::value(&er_path)->required(), "the evidence record (DER)")
      ("tsa-trust", po::value(&tsa_trust),
       "trust anchor for the time-stamps (without it the verdict is at best INDETERMINATE)");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files)->required());
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  if (auto done = ParseCommand("verify-er", argc, argv, desc, hidden, positional, vm,
                               "--er EVIDENCE.ers [--tsa-trust CA] DATA_FILE..."))
    return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto er = ReadFile(er_path);
  if (!er.ok()) return ExitFor(er.status());
  std::vector<Bytes> data;
  for (const auto& f : files) {
    auto bytes = ReadFile(f);
    if (!bytes.ok()) return ExitFor(bytes.status());
    data.push_back(std::move(bytes).value());
  }
  audit::PackageVerifyOptions options;
  options.clock = clock.value().get();
  auto anchors = LoadAll(tsa_trust);
  if (!anchors.ok()) return ExitFor(anchors.status().WithContext("--tsa-trust"));
  options.tsa_trust_anchors = std::move(anchors).value();
  if (!tsa_trust.empty()) options.tsa_trust_source = "given with --tsa-trust";
  audit::PackageReport report = audit::VerifyEvidenceOverFiles(er.value(), data, files, options);
  PrintReport(report, common.json);
  return ExitFor(report.verdict);
}

}  // namespace preserve::cli

namespace preserve::cli {

int CmdList(int argc, char** argv) {
  CommonOptions common;
  std::string after;
  std::size_t limit = 100;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("after", po::value(&after), "start after this package id (paging)")
      ("limit", po::value(&limit), "most packages to list (default 100)");
  po::variables_map vm;
  if (auto done = ParseCommand("list", argc, argv, desc, {}, {}, vm, "[--store DIR] [--after ID] [--limit N]"))
    return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  int exit_code = kExitOk;
  auto archive = OpenArchive(common, *clock.value(), true, exit_code);
  if (!archive) return exit_code;
  auto page = archive->List(after, limit);
  if (!page.ok()) return ExitFor(page.status());
  for (const auto& p : page.value()) {
    if (common.json) {
      json::array docs;
      for (const auto& d : p.documents) docs.emplace_back(d);
      std::cout << json::serialize(json::object{{"id", p.id},
                                                {"created", FormatUtcTime(p.created)},
                                                {"state", p.state},
                                                {"documents", std::move(docs)},
                                                {"next_renewal", p.next_renewal ? FormatUtcTime(*p.next_renewal) : ""}})
                << "\n";
    } else {
      std::cout << p.id << "  " << FormatUtcTime(p.created) << "  " << p.state;
      for (const auto& d : p.documents) std::cout << "  " << d.substr(std::string(ingest::kDocumentsDir).size());
      std::cout << "\n";
    }
  }
  return kExitOk;
}

}  // namespace preserve::cli
