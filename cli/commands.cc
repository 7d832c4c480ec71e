// The preserve subcommands: parse, call the library, print.
#include <iostream>
#include <map>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/audit/package_archive.h"
#include "preserve/package/manifest.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "preserve/policy/algorithm_catalogue.h"

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
Result<policy::AlgorithmCatalogue> LoadPolicyOption(const std::string& policy) {
  auto builtin = policy::AlgorithmCatalogue::Builtin(policy);
  if (builtin.ok()) return builtin;
  return policy::AlgorithmCatalogue::Load(policy);
}

}  // namespace

int CmdInit(int argc, char** argv) {
  CommonOptions common;
  std::string key = "ec-p256";
  std::string organization;
  std::string policy = "etsi";
  int margin_days = 180;
  int tsa_validity_years = 10;
  std::string content;
  storage::S3Location s3;
  std::string lock_mode = "COMPLIANCE";
  bool virtual_hosted = false;
  long s3_timeout = 30;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("tsa-key", po::value(&key), "embedded TSA key: ec-p256 (default), ec-p384, rsa-3072 or rsa-2048")
      ("content", po::value(&content),
       "where the documents' bytes go: s3://BUCKET[/PREFIX] for an S3 object store (with --s3-endpoint); "
       "default: the store's RocksDB database. The catalogue, evidence and audit trail stay in RocksDB")
      ("s3-endpoint", po::value(&s3.endpoint), "the object store's address, http(s)://HOST[:PORT]")
      ("s3-region", po::value(&s3.region), "region signed into requests (default us-east-1; Ceph: its zonegroup, "
       "usually 'default')")
      ("s3-virtual-hosted", po::bool_switch(&virtual_hosted),
       "address the bucket as BUCKET.HOST (default: path-style, HOST/BUCKET)")
      ("s3-lock-mode", po::value(&lock_mode),
       "S3 Object Lock mode for uploaded objects: COMPLIANCE (default), GOVERNANCE, or NONE for a bucket without "
       "Object Lock")
      ("s3-credentials-file", po::value(&s3.credentials_file),
       "file of AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines, readable by its owner only (default: "
       "those environment variables); credentials are never written to config.json or logged")
      ("s3-timeout", po::value(&s3_timeout), "seconds without progress after which a request fails (default 30)")
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
  if (!content.empty()) {
    Status parsed = storage::ParseS3Url(content, s3);
    auto mode = storage::ObjectLockModeFromName(lock_mode);
    if (parsed.ok() && !mode.ok()) parsed = mode.status();
    if (parsed.ok() && s3.endpoint.empty()) parsed = Status::InvalidArgument("--content s3://... needs --s3-endpoint");
    if (parsed.ok() && (s3_timeout < 1 || s3_timeout > 3600))
      parsed = Status::InvalidArgument("--s3-timeout must be 1 to 3600 seconds");
    if (!parsed.ok()) {
      std::cerr << "preserve init: " << parsed.message() << "\n";
      return kExitUsage;
    }
    s3.lock_mode = mode.value();
    s3.path_style = !virtual_hosted;
    s3.timeout = std::chrono::seconds(s3_timeout);
    if (!s3.credentials_file.empty()) s3.credentials_file = std::filesystem::absolute(s3.credentials_file).string();
    options.content = s3;
  } else if (!s3.endpoint.empty() || !s3.credentials_file.empty()) {
    std::cerr << "preserve init: the --s3-* options need --content s3://BUCKET[/PREFIX]\n";
    return kExitUsage;
  }
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto path = StorePath(common);
  if (!path.ok()) {
    std::cerr << "preserve: " << path.status().message() << "\n";
    return kExitUsage;
  }
  if (Status s = archive::Archive::Init(path.value(), options, *clock.value()); !s.ok()) return ExitFor(s);
  const std::filesystem::path ca_path = archive::Archive::LocalCaPath(path.value());
  auto ca = LoadCertificates(ca_path);
  std::cerr << "initialized the store at " << path->string() << "\n";
  if (options.content)
    std::cerr << "content goes to " << storage::DescribeS3Location(*options.content) << " at "
              << options.content->endpoint << " (Object Lock: " << storage::ObjectLockModeName(options.content->lock_mode)
              << ")\n";
  if (ca.ok()) {
    std::cerr << "local CA (publish it, or its fingerprint, for auditors: 'verify-package --tsa-trust' or "
                 "'--tsa-fingerprint'): "
              << ca_path.string() << "\n  SHA-256 fingerprint "
              << CertificateFingerprint(ca->front()) << "\n";
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
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  auto& archive = session.archive;
  auto sealed = archive::Sealing(*archive).Seal(batch_size);
  if (!sealed.ok()) return ExitFor(sealed.status());
  if (common.json) {
    json::array batches;
    for (const auto& s : sealed.value()) {
      PrintTsaFailovers(s.tsa_failovers);
      batches.push_back(json::object{{"batch", s.batch_id}, {"packages", s.packages}, {"time", FormatUtcTime(s.time)}});
    }
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
          ParseCommandWithArgument("verify", argc, argv, desc, "PACKAGE_ID", id, vm, "[--store DIR] PACKAGE_ID"))
    return *done;
  archive::VerifyOptions options;
  auto anchors = LoadAll(trust);
  if (!anchors.ok()) return ExitFor(anchors.status().WithContext("--trust"));
  options.signer_trust_anchors = std::move(anchors).value();
  Session session;
  if (auto failed = OpenSessionForAudit(common, "verify", session)) return *failed;
  if (auto failed = ResolveVersion(*session.archive, id, version)) return *failed;
  auto report = archive::Verification(*session.archive).Verify(id, options);
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
  hidden.add_options()("id", po::value(&id)->required(), "PACKAGE_ID")("out", po::value(&out)->required(), "OUT.zip");
  po::positional_options_description positional;
  positional.add("id", 1).add("out", 1);
  po::variables_map vm;
  if (auto done = ParseCommand("export", argc, argv, desc, hidden, positional, vm, "[--store DIR] PACKAGE_ID OUT.zip"))
    return *done;
  Session session;
  if (auto failed = OpenSessionForAudit(common, "export", session)) return *failed;
  auto& archive = session.archive;
  if (auto failed = ResolveVersion(*archive, id, version)) return *failed;
  if (Status s = archive::Verification(*archive).Export(id, out); !s.ok()) return ExitFor(s);
  std::cerr << "exported package " << id << " to " << out << "\n";
  return kExitOk;
}

namespace {

// What a verifier trusts, from the command line and the environment (its own
// configuration), never from the package: certificates and pinned fingerprints.
struct TrustOptions {
  std::vector<std::string> files;
  std::vector<std::string> fingerprints;
};

// `flag` names the options in messages ("--tsa-trust"); `env` is the
// variable naming a file or directory of certificates the verifier always trusts.
Result<audit::SuppliedTrust> SuppliedFrom(const TrustOptions& given, const char* flag, const char* pin_flag,
                                          const char* env) {
  audit::SuppliedTrust trust;
  std::vector<std::string> files = given.files;
  std::vector<std::string> sources;
  if (!files.empty()) sources.push_back(std::string(flag) + " " + files.front() + (files.size() > 1 ? ", ..." : ""));
  if (const char* configured = std::getenv(env); configured != nullptr && *configured != '\0') {
    files.emplace_back(configured);
    sources.push_back(std::string("$") + env + " (" + configured + ")");
  }
  PRESERVE_ASSIGN_OR_RETURN(trust.certificates, LoadAll(files));
  for (const auto& text : given.fingerprints) {
    PRESERVE_ASSIGN_OR_RETURN(Bytes pin, ParseSha256Fingerprint(text));
    trust.pinned_sha256.push_back(std::move(pin));
  }
  if (!given.fingerprints.empty()) sources.push_back(std::string(pin_flag) + " (pinned)");
  for (const auto& s : sources) trust.source += (trust.source.empty() ? "" : ", ") + s;
  return trust;
}

void AddTrustOptions(po::options_description& desc, TrustOptions& tsa, TrustOptions& signers) {
  desc.add_options()
      ("tsa-trust", po::value(&tsa.files),
       "the archive's time-stamping CA (FILE or DIR, repeatable; also $PRESERVE_TSA_TRUST): the only way, with "
       "--tsa-fingerprint, to make the evidence VALID")
      ("tsa-fingerprint", po::value(&tsa.fingerprints),
       "SHA256:AB:CD:... of the archive's CA as the archive published it: the copy in the package is trusted "
       "only when it has this fingerprint (repeatable)")
      ("trust", po::value(&signers.files),
       "trust anchors for the signers (FILE or DIR, repeatable; also $PRESERVE_TRUST); without them signatures "
       "are at best INDETERMINATE")
      ("trust-fingerprint", po::value(&signers.fingerprints),
       "SHA256:... of a signer root CA the package carries that you trust (repeatable)");
}

constexpr const char* kTsaTrustHint =
    "Get the archive's time-stamping CA certificate, or its SHA-256 fingerprint, from the archive itself (it is "
    "printed by 'preserve init' and 'preserve status', and an archive publishes it), then give --tsa-trust FILE or "
    "--tsa-fingerprint SHA256:...";
constexpr const char* kSignerTrustHint =
    "Give the signers' root CAs you trust with --trust FILE (for Vietnamese official documents: the VGCA root "
    "certificates), or --trust-fingerprint SHA256:...";

// A built-in profile name, else a catalogue file: the policy given, judged
// together with the one the package carries (the stricter rule wins).
Status UsePolicies(const std::string& given, bool given_explicitly, const audit::PackageContents* contents,
                   audit::PackageVerifyOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(policy::AlgorithmCatalogue policy, LoadPolicyOption(given));
  const std::string given_name = policy.name() + (given_explicitly ? " (given with --policy)" : " (the default)");
  if (contents == nullptr || !contents->sealing_policy) {
    audit::UsePolicy(policy, options);
    options.policy_source = given_name;
    return Status::Ok();
  }
  auto carried = policy::AlgorithmCatalogue::Parse(ToString(*contents->sealing_policy), "info/policy.json");
  if (!carried.ok()) {
    audit::UsePolicy(policy, options);
    options.policy_source = given_name + "; the package's info/policy.json cannot be read (" +
                            carried.status().message() + ") and was not used";
    return Status::Ok();
  }
  audit::UseStricterPolicy(policy, carried.value(), options);
  options.policy_source = "the stricter, rule by rule, of " + given_name + " and " + carried->name() +
                          " (the archive's, carried in info/policy.json)";
  return Status::Ok();
}

}  // namespace

int CmdVerifyPackage(int argc, char** argv) {
  CommonOptions common;
  std::string zip;
  TrustOptions tsa, signers;
  std::string policy = "etsi";
  po::options_description desc("Options");
  AddCommonOptions(desc, common, false);
  AddTrustOptions(desc, tsa, signers);
  desc.add_options()("policy", po::value(&policy),
                     "algorithm policy: etsi (default), sogis, bsi, or a file; the stricter of it and the policy the "
                     "package carries is applied, rule by rule");
  po::options_description hidden;
  hidden.add_options()("zip", po::value(&zip)->required(), "PACKAGE.zip");
  po::positional_options_description positional;
  positional.add("zip", 1);
  po::variables_map vm;
  if (auto done = ParseCommand("verify-package", argc, argv, desc, hidden, positional, vm,
                               "PACKAGE.zip --tsa-trust CA.pem|--tsa-fingerprint SHA256:... [--trust ROOTS]"))
    return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto contents = audit::ReadPackageZip(zip);
  if (!contents.ok()) return ExitFor(contents.status());
  audit::PackageVerifyOptions options;
  options.clock = clock.value().get();
  if (Status s = UsePolicies(policy, vm.count("policy") > 0 && !vm["policy"].defaulted(), &contents.value(), options);
      !s.ok())
    return ExitFor(s.WithContext("--policy"));
  auto tsa_trust = SuppliedFrom(tsa, "--tsa-trust", "--tsa-fingerprint", "PRESERVE_TSA_TRUST");
  if (!tsa_trust.ok()) return ExitFor(tsa_trust.status());
  options.tsa_trust = std::move(tsa_trust).value();
  options.tsa_trust.missing_hint = kTsaTrustHint;
  if (!contents->archive_tsa_ca_sha256.empty())
    options.tsa_trust.missing_hint += "; the package says its archive's CA has SHA-256 " +
                                      contents->archive_tsa_ca_sha256 + ": compare it with the published one";
  auto signer_trust = SuppliedFrom(signers, "--trust", "--trust-fingerprint", "PRESERVE_TRUST");
  if (!signer_trust.ok()) return ExitFor(signer_trust.status());
  options.signer_trust = std::move(signer_trust).value();
  options.signer_trust.missing_hint = kSignerTrustHint;
  audit::PackageReport report = audit::VerifyPackage(contents.value(), options);
  PrintReport(report, common.json);
  return ExitFor(report.verdict);
}

int CmdVerifyEr(int argc, char** argv) {
  CommonOptions common;
  std::string er_path;
  std::vector<std::string> files;
  TrustOptions tsa;
  std::string policy = "etsi";
  po::options_description desc("Options");
  AddCommonOptions(desc, common, false);
  desc.add_options()
      ("policy", po::value(&policy), "algorithm policy to judge the evidence by: etsi (default), sogis, bsi, or a file")
      ("er", po::value(&er_path)->required(), "the evidence record (DER)")
      ("tsa-trust", po::value(&tsa.files),
       "trust anchor for the time-stamps (FILE or DIR, repeatable; also $PRESERVE_TSA_TRUST); without it, or "
       "--tsa-fingerprint, the verdict is at best INDETERMINATE")
      ("tsa-fingerprint", po::value(&tsa.fingerprints),
       "SHA256:... of a TSA certificate the record's tokens carry that you trust (repeatable)");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files)->required(), "DATA_FILE");
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
  if (Status s = UsePolicies(policy, vm.count("policy") > 0 && !vm["policy"].defaulted(), nullptr, options); !s.ok())
    return ExitFor(s.WithContext("--policy"));
  auto tsa_trust = SuppliedFrom(tsa, "--tsa-trust", "--tsa-fingerprint", "PRESERVE_TSA_TRUST");
  if (!tsa_trust.ok()) return ExitFor(tsa_trust.status());
  options.tsa_trust = std::move(tsa_trust).value();
  options.tsa_trust.missing_hint = kTsaTrustHint;
  audit::PackageReport report = audit::VerifyEvidenceOverFiles(er.value(), data, files, options);
  PrintReport(report, common.json);
  return ExitFor(report.verdict);
}

}  // namespace preserve::cli

namespace preserve::cli {

namespace {

json::array LapsedJson(const std::vector<archive::RenewalItem>& lapsed) {
  json::array out;
  for (const auto& item : lapsed)
    out.push_back(json::object{{"id", item.package_id},
                               {"subject", archive::SubjectName(item.package_id)},
                               {"ended", FormatUtcTime(item.deadline)},
                               {"what_ended", item.reason}});
  return out;
}

// One line per lapsed subject on stdout, after a headline that cannot be missed.
void PrintLapsed(const std::vector<archive::RenewalItem>& lapsed) {
  if (lapsed.empty()) return;
  std::cout << "LAPSED: the evidence of " << lapsed.size() << " subject" << (lapsed.size() == 1 ? "" : "s")
            << " ended before any renewal covered it; renewal cannot repair that, and nothing was renewed for "
               "them. Start new evidence chains with 'preserve restart-evidence --reason TEXT' (existence is "
               "then proven only from the restart):\n";
  for (const auto& item : lapsed)
    std::cout << "  " << archive::SubjectName(item.package_id) << ": lapsed " << FormatUtcTime(item.deadline)
              << ", because " << item.reason << "\n";
}

// Prints what renew would do (grouped by kind, hash and reason); exit 5 when evidence has lapsed.
int PrintRenewalPlan(const archive::RenewalPlan& plan, bool as_json) {
  // Packages sealed together share their reason: count them by (kind, algorithm, reason).
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> counts;
  for (const auto& item : plan.items)
    ++counts[{std::string(archive::RenewalKindName(item.kind)), std::string(HashAlgorithmName(item.hash_algorithm)),
              item.reason}];
  if (as_json) {
    json::array groups;
    for (const auto& [key, n] : counts)
      groups.push_back(json::object{{"kind", std::get<0>(key)}, {"hash", std::get<1>(key)},
                                    {"reason", std::get<2>(key)}, {"packages", n}});
    std::cout << json::serialize(json::object{{"now", FormatUtcTime(plan.now)},
                                              {"horizon", FormatUtcTime(plan.horizon)},
                                              {"tsa_rollover", plan.tsa_rollover},
                                              {"trail_anchor", plan.trail_anchor},
                                              {"packages", plan.items.size()},
                                              {"renewals", std::move(groups)},
                                              {"lapsed", LapsedJson(plan.lapsed)}})
              << "\n";
  } else {
    std::cout << "renewal plan as of " << FormatUtcTime(plan.now) << ", for what ends before "
              << FormatUtcTime(plan.horizon) << ":\n";
    if (!plan.tsa_rollover.empty()) std::cout << "  embedded TSA: " << plan.tsa_rollover << "\n";
    if (!plan.trail_anchor.empty()) std::cout << "  audit trail: " << plan.trail_anchor << "\n";
    if (plan.items.empty()) std::cout << "  nothing is due in time\n";
    for (const auto& [key, n] : counts)
      std::cout << "  " << n << " subject" << (n == 1 ? "" : "s") << ": " << std::get<0>(key) << " ("
                << std::get<1>(key) << "), because " << std::get<2>(key) << "\n";
    PrintLapsed(plan.lapsed);
  }
  return plan.lapsed.empty() ? kExitOk : kExitLapsed;
}

// Prints what renew did; exit 5 when evidence had lapsed, a renewal does not verify or left a damaged subject out.
int PrintRenewal(const archive::RenewalOutcome& outcome, bool as_json) {
  std::size_t total = 0;
  for (const auto& b : outcome.batches) total += b.packages;
  for (const auto& b : outcome.batches) PrintTsaFailovers(b.tsa_failovers);
  if (as_json) {
    json::array batches;
    for (const auto& b : outcome.batches)
      batches.push_back(json::object{{"batch", b.batch_id}, {"kind", archive::RenewalKindName(b.kind)},
                                     {"hash", HashAlgorithmName(b.hash_algorithm)}, {"packages", b.packages},
                                     {"trail_heads", b.trail_heads}, {"time", FormatUtcTime(b.time)}});
    json::array failures;
    for (const auto& f : outcome.self_check_failures) failures.emplace_back(f);
    json::array left_out;
    for (const auto& b : outcome.batches)
      for (const auto& line : b.left_out) left_out.emplace_back(line);
    std::cout << json::serialize(json::object{{"tsa_rollover", outcome.tsa_rollover},
                                              {"trail_anchor", outcome.trail_anchor},
                                              {"packages", total},
                                              {"batches", std::move(batches)},
                                              {"lapsed", LapsedJson(outcome.lapsed)},
                                              {"self_check_failures", std::move(failures)},
                                              {"left_out", std::move(left_out)}})
              << "\n";
  } else {
    if (!outcome.tsa_rollover.empty()) std::cout << outcome.tsa_rollover << "\n";
    if (!outcome.trail_anchor.empty()) std::cout << outcome.trail_anchor << "\n";
    for (const auto& b : outcome.batches)
      std::cout << "renewed " << b.packages << " package" << (b.packages == 1 ? "" : "s")
                << (b.trail_heads == 0 ? std::string()
                                       : " and " + std::to_string(b.trail_heads) + " audit trail head" +
                                             (b.trail_heads == 1 ? "" : "s"))
                << " in time: " << archive::RenewalKindName(b.kind) << " (" << HashAlgorithmName(b.hash_algorithm)
                << ") in batch " << b.batch_id << ", time-stamp " << FormatUtcTime(b.time) << "\n";
    if (outcome.batches.empty() && outcome.lapsed.empty()) std::cout << "nothing is due for renewal\n";
    PrintLapsed(outcome.lapsed);
    for (const auto& f : outcome.self_check_failures)
      std::cout << "NOT VERIFIED after renewal: " << f << "\n";
    for (const auto& b : outcome.batches)
      for (const auto& line : b.left_out) std::cout << "NOT RENEWED, damaged: " << line << "\n";
  }
  std::size_t left_out = 0;
  for (const auto& b : outcome.batches) left_out += b.left_out.size();
  if (left_out > 0)
    std::cerr << "preserve renew: " << left_out << " not renewed because their content or record is damaged; "
              << "run 'preserve fixity' and 'preserve repair' (exit " << kExitLapsed << ")\n";
  if (!outcome.lapsed.empty())
    std::cerr << "preserve renew: " << outcome.lapsed.size() << " lapsed (exit " << kExitLapsed << ")\n";
  if (!outcome.self_check_failures.empty())
    std::cerr << "preserve renew: " << outcome.self_check_failures.size()
              << " renewal(s) do not verify (exit " << kExitLapsed << ")\n";
  return outcome.lapsed.empty() && outcome.self_check_failures.empty() && left_out == 0 ? kExitOk : kExitLapsed;
}

}  // namespace

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
  if (auto done = ParseCommand("renew", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--dry-run] [--margin-days N]\n\n"
                               "Exit 0 when everything due was renewed in time; 5 when evidence had already lapsed\n"
                               "(its deadline passed before this run: listed, recorded in the audit trail, not\n"
                               "renewed; see 'preserve restart-evidence'), a renewal does not verify, or a\n"
                               "hash-tree renewal left a package out because its content is absent or changed\n"
                               "(NOT RENEWED, damaged: it stays due; see 'preserve fixity' and 'preserve repair')."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, dry_run ? archive::OpenMode::kReadOnly : archive::OpenMode::kWritable, session))
    return *failed;
  auto& archive = session.archive;
  archive::RenewOptions options;
  options.max_batch = batch_size;
  if (margin_days >= 0) options.margin = std::chrono::days(margin_days);

  if (dry_run) {
    auto plan = archive::Sealing(*archive).PlanRenewal(options);
    if (!plan.ok()) return ExitFor(plan.status());
    return PrintRenewalPlan(plan.value(), common.json);
  }

  auto outcome = archive::Sealing(*archive).Renew(options);
  if (!outcome.ok()) return ExitFor(outcome.status());
  return PrintRenewal(outcome.value(), common.json);
}

// Over 60 lines: its option table and both renderings (text, --json) of one overview.
int CmdStatus(int argc, char** argv) {
  CommonOptions common;
  std::size_t deadlines = 5;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("deadlines", po::value(&deadlines), "how many nearest deadlines and lapsed subjects to name (5)");
  po::variables_map vm;
  if (auto done = ParseCommand("status", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--json]\n\n"
                               "Holdings, queued and sealed packages, the nearest renewal deadlines, lapsed evidence,\n"
                               "the last seal, renewal and fixity runs, the store's size, and the fingerprint of the\n"
                               "archive's time-stamping CA that auditors compare. Exit 0, or 5 when evidence lapsed."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto status = archive::Catalogue(*session.archive).Overview(deadlines);
  if (!status.ok()) return ExitFor(status.status());
  const archive::StoreStatus& st = status.value();
  auto list = [](const std::vector<archive::StoreStatus::Deadline>& items) {
    json::array out;
    for (const auto& d : items) out.push_back(json::object{{"subject", d.subject}, {"due", FormatUtcTime(d.due)}});
    return out;
  };
  const std::string fingerprint = CertificateFingerprint(st.tsa_ca_certificate);
  if (common.json) {
    std::cout << json::serialize(json::object{
                     {"packages", st.packages},
                     {"versions", st.versions},
                     {"sealed", st.sealed},
                     {"queued", st.queued},
                     {"deleted", st.deleted},
                     {"lapsed", st.lapsed},
                     {"first_lapsed", list(st.first_lapsed)},
                     {"next_deadlines", list(st.next_deadlines)},
                     {"last_seal", JobRunJson(st.last_seal)},
                     {"last_renewal", JobRunJson(st.last_renewal)},
                     {"last_fixity", JobRunJson(st.last_fixity)},
                     {"store_bytes", st.store_bytes},
                     {"tsa_ca_sha256", fingerprint},
                     {"tsa_certificate_not_after",
                      st.tsa_certificate_not_after ? FormatUtcTime(*st.tsa_certificate_not_after) : ""},
                     {"policy", st.policy},
                     {"trust_anchors", st.trust_anchors}})
              << "\n";
  } else {
    std::cout << "holdings: " << st.packages << " packages (" << st.versions << " further versions); " << st.sealed
              << " sealed, " << st.queued << " queued, " << st.deleted << " deleted\n";
    if (st.lapsed > 0) {
      std::cout << "LAPSED: " << st.lapsed << " evidence subject" << (st.lapsed == 1 ? "" : "s")
                << " whose renewal came too late ('preserve renew --dry-run' lists them; 'preserve "
                   "restart-evidence' starts new chains):\n";
      for (const auto& d : st.first_lapsed)
        std::cout << "  " << archive::SubjectName(d.subject) << ": lapsed " << FormatUtcTime(d.due) << "\n";
    } else {
      std::cout << "lapsed evidence: none\n";
    }
    std::cout << "next renewal deadlines:" << (st.next_deadlines.empty() ? " none" : "") << "\n";
    for (const auto& d : st.next_deadlines)
      std::cout << "  " << FormatUtcTime(d.due) << "  " << archive::SubjectName(d.subject) << "\n";
    auto print_job = [](const char* name, const std::optional<archive::JobRun>& run) {
      std::cout << "last " << name << ": "
                << (run ? FormatUtcTime(run->time) + " (" + run->outcome + ")" +
                              (run->failed ? " FAILED" : run->ok ? "" : " NOT OK")
                        : std::string("never"))
                << "\n";
    };
    print_job("seal", st.last_seal);
    print_job("renewal", st.last_renewal);
    print_job("fixity", st.last_fixity);
    std::cout << "store size: " << st.store_bytes << " bytes\n"
              << "time-stamping CA (give auditors its fingerprint): SHA-256 " << fingerprint << "\n";
    if (st.tsa_certificate_not_after)
      std::cout << "embedded TSA certificate valid until " << FormatUtcTime(*st.tsa_certificate_not_after) << "\n";
    std::cout << "algorithm policy: " << st.policy << "\n"
              << "signers' trust list: " << st.trust_anchors << " anchor" << (st.trust_anchors == 1 ? "" : "s")
              << "\n";
  }
  return st.lapsed == 0 ? kExitOk : kExitLapsed;
}

int CmdRestartEvidence(int argc, char** argv) {
  CommonOptions common;
  std::vector<std::string> ids;
  bool all_lapsed = false;
  std::string reason, by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddActorOptions(desc, reason, by);
  desc.add_options()("all-lapsed", po::bool_switch(&all_lapsed), "every subject whose evidence lapsed");
  po::options_description hidden;
  hidden.add_options()("id", po::value(&ids), "PACKAGE_ID");
  po::positional_options_description positional;
  positional.add("id", -1);
  po::variables_map vm;
  if (auto done = ParseCommand(
          "restart-evidence", argc, argv, desc, hidden, positional, vm,
          "[--store DIR] (PACKAGE_ID... | --all-lapsed) --reason TEXT [--by NAME] [--json]\n\n"
          "Starts a new evidence chain for packages (or audit trail heads) whose evidence lapsed: one new\n"
          "time-stamp over their data objects, now. The lapsed chain is kept for the record; verification then\n"
          "says that existence is proven only from the new chain's time-stamp, and when the earlier one\n"
          "lapsed. Nothing is back-dated. Recorded in the audit trail with the reason."))
    return *done;
  if (ids.empty() == !all_lapsed) {
    std::cerr << "preserve restart-evidence: give the packages' ids, or --all-lapsed\n";
    return kExitUsage;
  }
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  for (auto& id : ids)
    if (id.rfind("audit-head:", 0) != 0)
      if (auto failed = ResolveVersion(*session.archive, id, 0)) return *failed;
  auto outcome = archive::Sealing(*session.archive).RestartLapsedEvidence(ids, reason, Actor(by));
  if (!outcome.ok()) return ExitFor(outcome.status());
  PrintTsaFailovers(outcome->tsa_failovers);
  if (common.json) {
    json::array subjects;
    for (const auto& id : outcome->subjects) subjects.emplace_back(id);
    std::cout << json::serialize(json::object{{"batch", outcome->batch_id},
                                              {"time", outcome->subjects.empty() ? "" : FormatUtcTime(outcome->time)},
                                              {"subjects", std::move(subjects)}})
              << "\n";
  } else if (outcome->subjects.empty()) {
    std::cout << "no evidence has lapsed\n";
  } else {
    for (const auto& id : outcome->subjects)
      std::cout << archive::SubjectName(id) << ": new evidence chain from " << FormatUtcTime(outcome->time)
                << " (batch " << outcome->batch_id << ")\n";
  }
  return kExitOk;
}

int CmdPolicy(int argc, char** argv) {
  if (argc < 2 || (std::string(argv[1]) != "show" && std::string(argv[1]) != "set")) {
    const bool help = argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h");
    (help ? std::cout : std::cerr) << "Usage: preserve policy show [--store DIR | --policy PROFILE|FILE] [--json]\n"
                                      "       preserve policy set --store DIR PROFILE|FILE\n";
    return help ? kExitOk : kExitUsage;
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
    hidden.add_options()("profile", po::value(&policy)->required(), "PROFILE|FILE");
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
    auto archive = OpenArchive(common, *clock.value(), archive::OpenMode::kWritable, exit_code);
    if (!archive) return exit_code;
    if (Status s = archive::Catalogue(*archive).SetPolicy(policy); !s.ok()) return ExitFor(s);
    std::cerr << "policy in force: " << archive->policy().name() << "\n";
    return kExitOk;
  }
  std::optional<policy::AlgorithmCatalogue> catalogue;
  if (!policy.empty()) {
    auto loaded = LoadPolicyOption(policy);
    if (!loaded.ok()) return ExitFor(loaded.status());
    catalogue = std::move(loaded).value();
  } else if (!common.store.empty() || std::getenv("PRESERVE_STORE") != nullptr) {
    int exit_code = kExitOk;
    auto archive = OpenArchive(common, *clock.value(), archive::OpenMode::kReadOnly, exit_code);
    if (!archive) return exit_code;
    catalogue = archive->policy();
  } else {
    catalogue = policy::AlgorithmCatalogue::Default();
  }
  std::cout << (common.json ? catalogue->ToJson() : catalogue->ToText(clock.value()->Now()));
  return kExitOk;
}

}  // namespace preserve::cli
