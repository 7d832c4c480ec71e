// Renewal as a scheduled job meets it, through the real executable: a yearly
// job that comes after a TSA certificate ended reports the lapse loudly
// (exit 5, the list, an audit event) and `status`, `check` and
// `renew --dry-run` say the same; `restart-evidence` starts a new chain.
// Also the signers' trust list as `trust` manages it.
#include <gtest/gtest.h>

#include "preserve/util/bytes.h"
#include "testing.h"

namespace preserve {
namespace {

using testing::CommandResult;

const std::filesystem::path kFixtures = testing::SourceDir() / "tests" / "fixtures";
const std::string kRootCa = (kFixtures / "pki" / "root-ca.pem").string();

class RenewalCli : public ::testing::Test {
 protected:
  // Runs preserve on the test's store at the simulated time `now`.
  CommandResult Preserve(const std::string& now, std::vector<std::string> args) {
    args.insert(args.begin(), PRESERVE_BIN);
    return testing::Run(args, {"PRESERVE_STORE=" + store_.string(), "PRESERVE_NOW=" + now});
  }

  std::string IngestAt(const std::string& now) {
    CommandResult r = Preserve(now, {"ingest", "--ids-only", "--allow-duplicate", "--trust", kRootCa, (kFixtures / "signed" / "letter.p7m").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  testing::TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A TSA certificate of one year, the default 180-day margin, and a renewal
// job that runs once a year, on 1 June: the run of 2027 comes after the
// certificate ended (1 January 2027).
TEST_F(RenewalCli, YearlyJobAcrossATsaCertificatesEndReportsTheLapse) {
  ASSERT_EQ(Preserve("2026-01-01", {"init", "--tsa-validity-years", "1"}).exit_code, 0);
  const std::string early = IngestAt("2026-01-02");
  CommandResult first = Preserve("2026-06-01", {"renew"});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;  // nothing due yet: the margin ends 2026-11-28

  // Activity inside the margin rolls the embedded TSA over ahead of its end.
  const std::string late = IngestAt("2026-09-01");
  CommandResult status = Preserve("2026-09-02", {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_TRUE(Contains(status.out, "embedded TSA certificate valid until 2027-09-01")) << status.out;
  EXPECT_TRUE(Contains(status.out, "lapsed evidence: none")) << status.out;

  // The yearly run of 2027 is too late for what the first certificate sealed.
  CommandResult dry = Preserve("2027-06-01", {"renew", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 5) << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out, "LAPSED")) << dry.out;
  CommandResult run = Preserve("2027-06-01", {"renew", "--json"});
  EXPECT_EQ(run.exit_code, 5) << run.out << run.err;
  EXPECT_TRUE(Contains(run.out, "\"lapsed\":[{\"id\":\"" + early + "\"")) << run.out;
  EXPECT_TRUE(Contains(run.out, "the TSA certificate that signed it expires 2027-01-01")) << run.out;
  EXPECT_FALSE(Contains(run.out, late)) << run.out;  // renewed in time, not lapsed
  CommandResult text = Preserve("2027-06-02", {"renew"});
  EXPECT_EQ(text.exit_code, 5);
  EXPECT_TRUE(Contains(text.out, "package " + early + ": lapsed 2027-01-01")) << text.out;

  status = Preserve("2027-06-02", {"status", "--json"});
  EXPECT_EQ(status.exit_code, 5) << status.out;
  EXPECT_TRUE(Contains(status.out, "\"lapsed\":2")) << status.out;  // the package and its batch's trail head
  EXPECT_TRUE(Contains(status.out, "\"ok\":false")) << status.out;  // the last renewal run
  CommandResult check = Preserve("2027-06-02", {"check"});
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_TRUE(Contains(check.out, "package " + early + ": its evidence lapsed on 2027-01-01")) << check.out;
  CommandResult trail = Preserve("2027-06-02", {"audit-log", "show"});
  EXPECT_TRUE(Contains(trail.out, "  lapse  subjects=2")) << trail.out;
  EXPECT_EQ(Preserve("2027-06-02", {"verify", early}).exit_code, 1);

  // A new chain, explicitly; the lapsed one stays for the record.
  EXPECT_EQ(Preserve("2027-06-03", {"restart-evidence", late, "--reason", "x"}).exit_code, 4);  // not lapsed
  CommandResult restart =
      Preserve("2027-06-03", {"restart-evidence", "--all-lapsed", "--reason", "the 2027 run came too late"});
  EXPECT_EQ(restart.exit_code, 0) << restart.out << restart.err;
  EXPECT_TRUE(Contains(restart.out, "package " + early + ": new evidence chain from 2027-06-03")) << restart.out;
  CommandResult verify = Preserve("2027-06-04", {"verify", early});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_TRUE(Contains(verify.out, "The data existed, unchanged, at 2027-06-03")) << verify.out;
  EXPECT_TRUE(Contains(verify.out, "earlier evidence record 1")) << verify.out;
  EXPECT_EQ(Preserve("2027-06-04", {"status"}).exit_code, 0);
  EXPECT_EQ(Preserve("2027-06-04", {"check"}).exit_code, 0);
  EXPECT_EQ(Preserve("2027-06-04", {"audit-log", "verify"}).exit_code, 0);
  CommandResult events = Preserve("2027-06-04", {"audit-log", "show"});
  EXPECT_TRUE(Contains(events.out, "evidence-restart")) << events.out;

  // The same holds in an export, offline.
  const std::string zip = (dir_ / "restarted.zip").string();
  ASSERT_EQ(Preserve("2027-06-04", {"export", early, zip}).exit_code, 0);
  CommandResult offline = testing::Run({PRESERVE_BIN, "verify-package", zip, "--now", "2027-06-05", "--tsa-trust",
                                        (store_ / "tsa" / "ca.pem").string(), "--trust", kRootCa});
  EXPECT_EQ(offline.exit_code, 0) << offline.out;
  EXPECT_TRUE(Contains(offline.out, "earlier evidence record 1")) << offline.out;
  EXPECT_TRUE(Contains(offline.out, "lapsed")) << offline.out;
}

// The trust list: ingest --trust adds the anchor used (recorded in the ingest
// event), verify relies on the list, and an anchor taken off it leaves the
// package INDETERMINATE until it is given again.
TEST_F(RenewalCli, TrustListDecidesWhatVerifyTrusts) {
  ASSERT_EQ(Preserve("2026-12-05", {"init"}).exit_code, 0);
  const std::string id = IngestAt("2026-12-05");
  CommandResult list = Preserve("2026-12-05", {"trust", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_TRUE(Contains(list.out, "CN=Preserve Test Root CA")) << list.out;
  EXPECT_TRUE(Contains(list.out, "given with --trust when package " + id)) << list.out;
  EXPECT_EQ(Preserve("2026-12-05", {"verify", id}).exit_code, 0);

  CommandResult fingerprint = testing::Run({"openssl", "x509", "-in", kRootCa, "-noout", "-fingerprint", "-sha256"});
  const std::string fp = "SHA256:" + fingerprint.out.substr(fingerprint.out.find('=') + 1, 95);
  EXPECT_EQ(Preserve("2026-12-05", {"trust", "remove", fp}).exit_code, 64);  // --reason is required
  CommandResult removed = Preserve("2026-12-05", {"trust", "remove", fp, "--reason", "root withdrawn"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  CommandResult verify = Preserve("2026-12-05", {"verify", id});
  EXPECT_EQ(verify.exit_code, 2) << verify.out;
  EXPECT_TRUE(Contains(verify.out, "NO_CERTIFICATE_CHAIN_FOUND")) << verify.out;
  EXPECT_EQ(Preserve("2026-12-05", {"verify", id, "--trust", kRootCa}).exit_code, 0);
  CommandResult added = Preserve("2026-12-05", {"trust", "add", kRootCa, "--reason", "root restored"});
  EXPECT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(Preserve("2026-12-05", {"verify", id}).exit_code, 0);
  CommandResult events = Preserve("2026-12-05", {"audit-log", "show"});
  EXPECT_TRUE(Contains(events.out, "trust-remove")) << events.out;
  EXPECT_TRUE(Contains(events.out, "trust-add")) << events.out;
}

}  // namespace
}  // namespace preserve
