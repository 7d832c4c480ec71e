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
#include "preserve/timestamp/algorithm_catalogue.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

void PrintReport(const audit::PackageReport& report, bool as_json) {
  if (as_json) {
    std::cout << audit::ReportToJson(report) << "\n";
  } else {
    std::cout << audit::ReportToText(report);
  }
}

// A built-in profile name, else a catalogue file.
Result<timestamp::AlgorithmCatalogue> LoadPolicyOption(const std::string& policy) {
  auto builtin = timestamp::AlgorithmCatalogue::Builtin(policy);
  if (builtin.ok()) return builtin;
  return timestamp::AlgorithmCatalogue::Load(policy);
}

}  // namespace

int CmdInit(int argc, char** argv) {
  CommonOptions common;
  std::string key = "ec-p256";
  std::string organization;
  std::string policy = "etsi";
  int margin_days = 180;
  int tsa_validity_years = 10;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("tsa-key", po::value(&key), "embedded TSA key: ec-p256 (default), ec-p384, rsa-3072 or rsa-2048")
      ("tsa-validity-years", po::value(&tsa_validity_years), "validity of each TSA certificate (default 10)")
      ("organization", po::value(&organization), "organization named in the local CA and TSA certificates")
      ("policy", po::value(&policy), "algorithm policy: etsi (default), sogis, bsi, or a catalogue file")
      ("renewal-margin-days", po::value(&margin_days),
       "renew this long before anything the evidence relies on ends (default 180; must exceed the interval "
       "between 'preserve renew' runs)");
  po::variables_map vm;
  if (auto done = ParseCommand("init", argc, argv, desc, {}, {}, vm, "[--store DIR] [options]")) return *done;

  archive::InitOptions options;
  auto key_type = timestamp::TsaKeyTypeFromName(key);
  if (!key_type.ok()) {
    std::cerr << "preserve init: " << key_type.status().message() << "\n";
    return kExitUsage;
  }
  if (margin_days < 0 || tsa_validity_years < 1) {
    std::cerr << "preserve init: --renewal-margin-days must be >= 0 and --tsa-validity-years >= 1\n";
    return kExitUsage;
  }
  options.tsa.key_type = key_type.value();
  options.tsa.tsa_validity_years = tsa_validity_years;
  if (!organization.empty()) options.tsa.organization = organization;
  options.policy = policy;
  options.renewal_margin = std::chrono::days(margin_days);
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

int CmdSeal(int argc, char** argv) {
  CommonOptions common;
  std::size_t batch_size = 1000000;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("batch-size", po::value(&batch_size), "most packages sealed by one time-stamp (default 1000000)");
  po::variables_map vm;
  if (auto done = ParseCommand("seal", argc, argv, desc, {}, {}, vm, "[--store DIR] [--batch-size N]")) return *done;
  Session session;
  if (auto failed = OpenSession(common, false, session)) return *failed;
  auto& archive = session.archive;
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
  std::uint32_t version = 0;
  std::vector<std::string> trust;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("trust", po::value(&trust),
                     "check the signers against these anchors instead of those kept in the package (repeatable)");
  AddVersionOption(desc, version);
  po::variables_map vm;
  if (auto done =
          ParseCommandWithArgument("verify", argc, argv, desc, "package-id", id, vm, "[--store DIR] PACKAGE_ID"))
    return *done;
  archive::VerifyOptions options;
  auto anchors = LoadAll(trust);
  if (!anchors.ok()) return ExitFor(anchors.status().WithContext("--trust"));
  options.signer_trust_anchors = std::move(anchors).value();
  Session session;
  if (auto failed = OpenSessionForAudit(common, "verify", session)) return *failed;
  if (auto failed = ResolveVersion(*session.archive, id, version)) return *failed;
  auto report = session.archive->Verify(id, options);
  if (!report.ok()) return ExitFor(report.status());
  PrintReport(report.value(), common.json);
  return ExitFor(report->verdict);
}

int CmdExport(int argc, char** argv) {
  CommonOptions common;
  std::string id, out;
  std::uint32_t version = 0;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddVersionOption(desc, version);
  po::options_description hidden;
  hidden.add_options()("id", po::value(&id)->required())("out", po::value(&out)->required());
  po::positional_options_description positional;
  positional.add("id", 1).add("out", 1);
  po::variables_map vm;
  if (auto done = ParseCommand("export", argc, argv, desc, hidden, positional, vm, "[--store DIR] PACKAGE_ID OUT.zip"))
    return *done;
  Session session;
  if (auto failed = OpenSessionForAudit(common, "export", session)) return *failed;
  auto& archive = session.archive;
  if (auto failed = ResolveVersion(*archive, id, version)) return *failed;
  if (Status s = archive->Export(id, out); !s.ok()) return ExitFor(s);
  std::cerr << "exported package " << id << " to " << out << "\n";
  return kExitOk;
}

int CmdVerifyPackage(int argc, char** argv) {
  CommonOptions common;
  std::string zip;
  std::vector<std::string> trust, tsa_trust;
  std::string policy = "etsi";
  po::options_description desc("Options");
  AddCommonOptions(desc, common, false);
  desc.add_options()
      ("policy", po::value(&policy), "algorithm policy to judge the evidence by: etsi (default), sogis, bsi, or a file")
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
  auto catalogue = LoadPolicyOption(policy);
  if (!catalogue.ok()) return ExitFor(catalogue.status().WithContext("--policy"));
  audit::UsePolicy(catalogue.value(), options);
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
  std::string policy = "etsi";
  po::options_description desc("Options");
  AddCommonOptions(desc, common, false);
  desc.add_options()
      ("policy", po::value(&policy), "algorithm policy to judge the evidence by: etsi (default), sogis, bsi, or a file")
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
  auto catalogue = LoadPolicyOption(policy);
  if (!catalogue.ok()) return ExitFor(catalogue.status().WithContext("--policy"));
  audit::UsePolicy(catalogue.value(), options);
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

int CmdRenew(int argc, char** argv) {
  CommonOptions common;
  bool dry_run = false;
  int margin_days = -1;
  std::size_t batch_size = 1000000;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("dry-run", po::bool_switch(&dry_run), "print the plan (how many packages, which renewal, why) and change nothing")
      ("margin-days", po::value(&margin_days), "renew what ends within this many days (default: the store's, 180)")
      ("batch-size", po::value(&batch_size), "most packages renewed by one time-stamp (default 1000000)");
  po::variables_map vm;
  if (auto done = ParseCommand("renew", argc, argv, desc, {}, {}, vm, "[--store DIR] [--dry-run] [--margin-days N]"))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, false, session)) return *failed;
  auto& archive = session.archive;
  archive::RenewOptions options;
  options.max_batch = batch_size;
  if (margin_days >= 0) options.margin = std::chrono::days(margin_days);

  if (dry_run) {
    auto plan = archive->PlanRenewal(options);
    if (!plan.ok()) return ExitFor(plan.status());
    // Packages sealed together share their reason: count them by (kind, algorithm, reason).
    std::map<std::tuple<std::string, std::string, std::string>, std::size_t> counts;
    for (const auto& item : plan->items)
      ++counts[{std::string(archive::RenewalKindName(item.kind)), std::string(HashAlgorithmName(item.hash_algorithm)),
                item.reason}];
    if (common.json) {
      json::array groups;
      for (const auto& [key, n] : counts)
        groups.push_back(json::object{{"kind", std::get<0>(key)}, {"hash", std::get<1>(key)},
                                      {"reason", std::get<2>(key)}, {"packages", n}});
      std::cout << json::serialize(json::object{{"now", FormatUtcTime(plan->now)},
                                                {"horizon", FormatUtcTime(plan->horizon)},
                                                {"tsa_rollover", plan->tsa_rollover},
                                                {"packages", plan->items.size()},
                                                {"renewals", std::move(groups)}})
                << "\n";
    } else {
      std::cout << "renewal plan as of " << FormatUtcTime(plan->now) << ", for what ends before "
                << FormatUtcTime(plan->horizon) << ":\n";
      if (!plan->tsa_rollover.empty()) std::cout << "  embedded TSA: " << plan->tsa_rollover << "\n";
      if (plan->items.empty()) std::cout << "  no package is due\n";
      for (const auto& [key, n] : counts)
        std::cout << "  " << n << " package" << (n == 1 ? "" : "s") << ": " << std::get<0>(key) << " ("
                  << std::get<1>(key) << "), because " << std::get<2>(key) << "\n";
    }
    return kExitOk;
  }

  auto outcome = archive->Renew(options);
  if (!outcome.ok()) return ExitFor(outcome.status());
  std::size_t total = 0;
  for (const auto& b : outcome->batches) total += b.packages;
  if (common.json) {
    json::array batches;
    for (const auto& b : outcome->batches)
      batches.push_back(json::object{{"batch", b.batch_id}, {"kind", archive::RenewalKindName(b.kind)},
                                     {"hash", HashAlgorithmName(b.hash_algorithm)}, {"packages", b.packages},
                                     {"time", FormatUtcTime(b.time)}});
    std::cout << json::serialize(json::object{{"tsa_rollover", outcome->tsa_rollover},
                                              {"packages", total},
                                              {"batches", std::move(batches)}})
              << "\n";
  } else {
    if (!outcome->tsa_rollover.empty()) std::cout << outcome->tsa_rollover << "\n";
    for (const auto& b : outcome->batches)
      std::cout << "renewed " << b.packages << " package" << (b.packages == 1 ? "" : "s") << ": "
                << archive::RenewalKindName(b.kind) << " (" << HashAlgorithmName(b.hash_algorithm) << ") in batch "
                << b.batch_id << ", time-stamp " << FormatUtcTime(b.time) << "\n";
    if (outcome->batches.empty()) std::cout << "no package is due for renewal\n";
  }
  return kExitOk;
}

int CmdPolicy(int argc, char** argv) {
  if (argc < 2 || (std::string(argv[1]) != "show" && std::string(argv[1]) != "set")) {
    std::cerr << "Usage: preserve policy show [--store DIR | --policy PROFILE|FILE] [--json]\n"
                 "       preserve policy set --store DIR PROFILE|FILE\n";
    return (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) ? kExitOk : kExitUsage;
  }
  std::string action = argv[1];
  CommonOptions common;
  std::string policy;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  if (action == "show")
    desc.add_options()("policy", po::value(&policy), "show a built-in profile (etsi, sogis, bsi) or a file instead");
  po::options_description hidden;
  po::positional_options_description positional;
  if (action == "set") {
    hidden.add_options()("profile", po::value(&policy)->required());
    positional.add("profile", 1);
  }
  po::variables_map vm;
  if (auto done = ParseCommand("policy " + action, argc - 1, argv + 1, desc, hidden, positional, vm,
                               action == "show" ? "[--store DIR | --policy PROFILE|FILE] [--json]"
                                                : "[--store DIR] PROFILE|FILE"))
    return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());

  if (action == "set") {
    int exit_code = kExitOk;
    auto archive = OpenArchive(common, *clock.value(), false, exit_code);
    if (!archive) return exit_code;
    if (Status s = archive->SetPolicy(policy); !s.ok()) return ExitFor(s);
    std::cerr << "policy in force: " << archive->policy().name() << "\n";
    return kExitOk;
  }
  std::optional<timestamp::AlgorithmCatalogue> catalogue;
  if (!policy.empty()) {
    auto loaded = LoadPolicyOption(policy);
    if (!loaded.ok()) return ExitFor(loaded.status());
    catalogue = std::move(loaded).value();
  } else if (!common.store.empty() || std::getenv("PRESERVE_STORE") != nullptr) {
    int exit_code = kExitOk;
    auto archive = OpenArchive(common, *clock.value(), true, exit_code);
    if (!archive) return exit_code;
    catalogue = archive->policy();
  } else {
    catalogue = timestamp::AlgorithmCatalogue::Default();
  }
  std::cout << (common.json ? catalogue->ToJson() : catalogue->ToText(clock.value()->Now()));
  return kExitOk;
}

}  // namespace preserve::cli
