// The signers' trust list: trust list, trust add, trust remove. Parse, call
// the library, print.
#include <iostream>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/catalogue.h"
#include "preserve/util/certificates.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

constexpr const char* kTrustUsage =
    "Usage: preserve trust list [--store DIR] [--json]\n"
    "       preserve trust add [--store DIR] CERTIFICATE... --reason TEXT [--by NAME]\n"
    "       preserve trust remove [--store DIR] SHA256:FINGERPRINT --reason TEXT [--by NAME]\n"
    "\n"
    "The CAs whose signers this archive accepts. Ingest validates against them (an anchor\n"
    "given with 'ingest --trust' joins the list with the first document accepted on it),\n"
    "and 'preserve verify' re-validates against them: never against a certificate a\n"
    "package carries. Every change is recorded in the audit trail.\n";

int TrustList(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("trust list", argc, argv, desc, {}, {}, vm, "[--store DIR] [--json]")) return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  auto list = archive::Catalogue(*session.archive).TrustList();
  if (!list.ok()) return ExitFor(list.status());
  if (common.json) {
    json::array anchors;
    for (const auto& e : list.value())
      anchors.push_back(json::object{{"subject", e.subject},
                                     {"sha256", e.fingerprint},
                                     {"added", FormatUtcTime(e.added)},
                                     {"by", e.added_by},
                                     {"reason", e.reason}});
    std::cout << json::serialize(json::object{{"trust_anchors", std::move(anchors)}}) << "\n";
    return kExitOk;
  }
  if (list->empty()) std::cout << "the trust list is empty\n";
  for (const auto& e : list.value())
    std::cout << e.subject << "\n  SHA-256 " << e.fingerprint << "\n  added " << FormatUtcTime(e.added) << " by "
              << e.added_by << ": " << e.reason << "\n";
  return kExitOk;
}

int TrustAdd(int argc, char** argv) {
  CommonOptions common;
  std::vector<std::string> files;
  std::string reason, by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddActorOptions(desc, reason, by);
  po::options_description hidden;
  hidden.add_options()("certificate", po::value(&files)->required(), "CERTIFICATE");
  po::positional_options_description positional;
  positional.add("certificate", -1);
  po::variables_map vm;
  if (auto done = ParseCommand("trust add", argc, argv, desc, hidden, positional, vm,
                               "[--store DIR] CERTIFICATE... --reason TEXT [--by NAME]"))
    return *done;
  auto certificates = LoadAll(files);
  if (!certificates.ok()) return ExitFor(certificates.status());
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  for (const Bytes& der : certificates.value()) {
    Status added = archive::Catalogue(*session.archive).AddTrustAnchor(der, reason, Actor(by));
    if (added.code() == StatusCode::kAlreadyExists) {
      std::cerr << added.message() << "\n";
      continue;
    }
    if (!added.ok()) return ExitFor(added);
    std::cout << "added " << CertificateSubject(der) << " (SHA-256 " << CertificateFingerprint(der) << ")\n";
  }
  return kExitOk;
}

int TrustRemove(int argc, char** argv) {
  CommonOptions common;
  std::string fingerprint, reason, by;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  AddActorOptions(desc, reason, by);
  po::variables_map vm;
  if (auto done = ParseCommandWithArgument("trust remove", argc, argv, desc, "SHA256:FINGERPRINT", fingerprint, vm,
                                           "[--store DIR] SHA256:FINGERPRINT --reason TEXT [--by NAME]"))
    return *done;
  auto sha256 = ParseSha256Fingerprint(fingerprint);
  if (!sha256.ok()) {
    std::cerr << "preserve trust remove: " << sha256.status().message() << "\n";
    return kExitUsage;
  }
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  if (Status s = archive::Catalogue(*session.archive).RemoveTrustAnchor(sha256.value(), reason, Actor(by)); !s.ok())
    return ExitFor(s);
  std::cout << "removed the trust anchor with SHA-256 " << fingerprint << "\n";
  return kExitOk;
}

}  // namespace

int CmdTrust(int argc, char** argv) {
  const std::string action = argc >= 2 ? argv[1] : "";
  if (action == "list") return TrustList(argc - 1, argv + 1);
  if (action == "add") return TrustAdd(argc - 1, argv + 1);
  if (action == "remove") return TrustRemove(argc - 1, argv + 1);
  const bool help = action == "--help" || action == "-h";
  (help ? std::cout : std::cerr) << kTrustUsage;
  return help ? kExitOk : kExitUsage;
}

}  // namespace preserve::cli
