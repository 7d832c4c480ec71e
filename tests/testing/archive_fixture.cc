#include "archive_fixture.h"

#include <utility>

#include "preserve/archive/ingestion.h"
#include "preserve/archive/maintenance.h"
#include "preserve/util/certificates.h"

namespace preserve::testing {

TimePoint At(const std::string& text) { return ParseUtcTime(text).value(); }

std::vector<std::string> AuditEventsOfType(archive::Archive& archive, const std::string& type) {
  std::vector<std::string> out;
  Status scanned = archive::Maintenance(archive).ScanAuditLog(0, [&](const archive::AuditLogEvent& e) {
    if (e.json.find("\"event\":\"" + type + "\"") != std::string::npos) out.push_back(e.json);
    return true;
  });
  EXPECT_TRUE(scanned.ok()) << scanned.ToString();
  return out;
}

archive::InitOptions ArchiveTest::SimulationOptions() {
  archive::InitOptions options;
  options.policy = (SourceDir() / "examples" / "policy" / "simulation-2026-2076.json").string();
  options.renewal_margin = std::chrono::days(400);
  return options;
}

void ArchiveTest::InitAndOpen(const archive::InitOptions& options) {
  ASSERT_TRUE(archive::Archive::Init(root_, options, clock_).ok());
  Reopen();
}

void ArchiveTest::Reopen() {
  archive_.reset();
  auto opened = archive::Archive::Open(root_, clock_, {.mode = archive::OpenMode::kWritable});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  archive_ = std::move(opened).value();
}

std::string ArchiveTest::Ingest(const std::string& signature, std::optional<std::string> content) {
  archive::Submission s;
  s.signature = FixturePath("signed/" + signature);
  if (content) s.content = FixturePath("signed/" + *content);
  archive::IngestOptions options;
  options.trust_anchors = LoadCertificates(FixturePath("pki/root-ca.pem")).value();
  options.allow_duplicate = true;  // the fixtures hold a few signed letters; tests make many packages of them
  auto outcome = archive::Ingestion(*archive_).Ingest(s, options);
  EXPECT_TRUE(outcome.ok() && outcome->accepted) << (outcome.ok() ? outcome->reason : outcome.status().ToString());
  return outcome.ok() ? outcome->package_id : "";
}

}  // namespace preserve::testing
