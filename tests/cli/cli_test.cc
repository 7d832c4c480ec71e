// End-to-end: init, ingest, seal, verify, export, verify-package and verify-er
// through the real executable, on a real store, with the test PKI's fixtures.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "preserve/util/bytes.h"
#include "testing.h"

namespace preserve {
namespace {

using testing::CommandResult;

using testing::TempDir;

const std::filesystem::path kFixtures = testing::SourceDir() / "tests" / "fixtures";
const std::string kRootCa = (kFixtures / "pki" / "root-ca.pem").string();

std::string Fixture(const std::string& name) { return (kFixtures / "signed" / name).string(); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult init = Preserve({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  CommandResult Preserve(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), PRESERVE_BIN);
    env.push_back("PRESERVE_STORE=" + store_.string());
    return testing::Run(args, env);
  }

  // Ingests and returns the one package id printed, failing the test otherwise.
  std::string IngestOne(const std::vector<std::string>& files) {
    // The fixtures hold a few signed letters; tests make packages of them again and again.
    std::vector<std::string> args = {"ingest", "--ids-only", "--allow-duplicate", "--trust", kRootCa};
    args.insert(args.end(), files.begin(), files.end());
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id.size(), 36u) << r.out;
    return id;
  }

  std::string ListOutput() { return Preserve({"list"}).out; }

  // Unzips `zip` into a new directory and returns it.
  std::filesystem::path Unzip(const std::filesystem::path& zip) {
    std::filesystem::path out = dir_ / ("unzipped-" + zip.stem().string());
    CommandResult r = testing::Run({"unzip", "-q", "-o", zip.string(), "-d", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
};

std::vector<std::string> DataFiles(const std::filesystem::path& root) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root / "data"))
    if (e.is_regular_file()) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void FlipLastByte(const std::filesystem::path& path) {
  Bytes b = testing::ReadFileOrDie(path);
  ASSERT_FALSE(b.empty());
  b.back() ^= 0x01;
  testing::WriteFile(path, b);
}

TEST_F(Cli, DetachedSignatureFromIngestToOfflineVerification) {
  std::string id = IngestOne({Fixture("letter.txt"), "--signature", Fixture("letter.txt.p7s")});

  CommandResult verify = Preserve({"verify", id});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("Package " + id + ": VALID"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("documents/letter.txt"), std::string::npos);

  std::filesystem::path zip = dir_ / "out.zip";
  CommandResult exported = Preserve({"export", id, zip.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;

  // Offline: the zip alone proves nothing about who sealed and signed it...
  CommandResult offline = testing::Run({PRESERVE_BIN, "verify-package", zip.string()});
  EXPECT_EQ(offline.exit_code, 2) << offline.out << offline.err;
  EXPECT_NE(offline.out.find("--tsa-trust FILE or --tsa-fingerprint"), std::string::npos) << offline.out;
  // ...until the auditor brings the archive's CA and the signers' root,
  CommandResult trusted =
      testing::Run({PRESERVE_BIN, "verify-package", zip.string(), "--tsa-trust", (store_ / "tsa" / "ca.pem").string(),
           "--trust", kRootCa});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.out << trusted.err;
  // or their published fingerprints, which pin the copies the zip carries.
  auto fingerprint = [](const std::string& pem) {
    CommandResult r = testing::Run({"openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256"});
    return r.out.substr(r.out.find('=') + 1, 95);
  };
  CommandResult pinned = testing::Run({PRESERVE_BIN, "verify-package", zip.string(), "--tsa-fingerprint",
                                       "SHA256:" + fingerprint((store_ / "tsa" / "ca.pem").string()),
                                       "--trust-fingerprint", fingerprint(kRootCa)});
  EXPECT_EQ(pinned.exit_code, 0) << pinned.out << pinned.err;

  // The zip's evidence.ers covers exactly its data/ files, as one group.
  std::filesystem::path unzipped = Unzip(zip);
  std::vector<std::string> args = {PRESERVE_BIN, "verify-er", "--er", (unzipped / "evidence.ers").string(),
                                   "--tsa-trust", (store_ / "tsa" / "ca.pem").string()};
  std::vector<std::string> data = DataFiles(unzipped);
  EXPECT_GE(data.size(), 4u);  // document, signature, certificates, manifest
  args.insert(args.end(), data.begin(), data.end());
  CommandResult er = testing::Run(args);
  EXPECT_EQ(er.exit_code, 0) << er.out << er.err;

  // Without a trust anchor for the TSA nothing is broken, but nothing is proven.
  std::vector<std::string> untrusted = {PRESERVE_BIN, "verify-er", "--er", (unzipped / "evidence.ers").string()};
  untrusted.insert(untrusted.end(), data.begin(), data.end());
  EXPECT_EQ(testing::Run(untrusted).exit_code, 2);

  // One data object fewer is another group: INVALID.
  std::vector<std::string> missing_one = args;
  missing_one.pop_back();
  EXPECT_EQ(testing::Run(missing_one).exit_code, 1);
}

TEST_F(Cli, EnvelopingSignatureIsStoredWithItsContent) {
  std::string id = IngestOne({Fixture("letter.p7m")});
  CommandResult verify = Preserve({"verify", "--json", id});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("\"verdict\":\"VALID\""), std::string::npos);
  EXPECT_NE(ListOutput().find("letter"), std::string::npos);
}

TEST_F(Cli, JsonIngestPrintsAnObjectPerPackage) {
  CommandResult r = Preserve({"ingest", "--json", "--trust", kRootCa, Fixture("letter.txt"), Fixture("letter.txt.p7s"),
                              Fixture("letter.p7m")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = testing::Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;  // one object per input, then the counts
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(lines[i].rfind("{\"id\":\"", 0), 0u) << lines[i];
  EXPECT_EQ(lines[2], R"({"summary":{"inputs":2,"accepted":2,"duplicate":0,"refused":0,"not_signed":0,"error":0}})");
}

struct Refusal {
  std::vector<std::string> files;
  std::string sub_indication;
};

class CliRefusal : public Cli, public ::testing::WithParamInterface<Refusal> {};

TEST_P(CliRefusal, UntrustworthyDocumentIsRefusedAndNothingStored) {
  std::vector<std::string> args = {"ingest", "--trust", kRootCa};
  for (const auto& f : GetParam().files) args.push_back(f.rfind("--", 0) == 0 ? f : Fixture(f));
  CommandResult r = Preserve(args);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  // One line: the document, and why it was refused.
  ASSERT_EQ(testing::Lines(r.out).size(), 1u) << r.out;
  EXPECT_NE(r.out.find(" -> refused: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(GetParam().sub_indication), std::string::npos) << r.out;
  EXPECT_TRUE(ListOutput().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Refusals, CliRefusal,
    ::testing::Values(Refusal{{"letter.txt", "letter-expired-signer.txt.p7s"}, "EXPIRED"},
                      Refusal{{"letter.txt", "letter-untrusted-signer.txt.p7s"}, "NO_CERTIFICATE_CHAIN_FOUND"},
                      Refusal{{"letter-tampered.txt", "--signature", "letter.txt.p7s"}, "HASH_FAILURE"}),
    [](const auto& param_info) { return param_info.param.sub_indication; });

TEST_F(Cli, RefusalStillAcceptsTheGoodDocumentsBesideIt) {
  CommandResult r = Preserve({"ingest", "--trust", kRootCa, Fixture("letter.p7m"), "--signature",
                              Fixture("letter-untrusted-signer.txt.p7s"), Fixture("letter.txt")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // One line per input: the accepted one with its id, the refused one with its reason.
  const std::vector<std::string> lines = testing::Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const std::string accepted = Fixture("letter.p7m") + " -> ";
  const std::string& first = lines[0].rfind(accepted, 0) == 0 ? lines[0] : lines[1];
  const std::string& second = &first == &lines[0] ? lines[1] : lines[0];
  EXPECT_EQ(first.rfind(accepted, 0), 0u) << r.out;
  EXPECT_EQ(first.size(), accepted.size() + 36) << r.out;  // the package id
  EXPECT_NE(second.find(Fixture("letter.txt") + " -> refused: NO_CERTIFICATE_CHAIN_FOUND"), std::string::npos)
      << r.out;
}

TEST_F(Cli, BadInputFailsClearlyAndLeavesTheStoreUnchanged) {
  std::string id = IngestOne({Fixture("letter.p7m")});
  std::string before = ListOutput();
  std::filesystem::path lonely = dir_ / "lonely.txt";  // no lonely.txt.p7s beside it
  testing::WriteFile(lonely, "unsigned\n");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"ingest", "--trust", kRootCa, (dir_ / "nope.txt").string(), "--signature", Fixture("letter.txt.p7s")},
       4, "no such file"},
      // Malformed signatures are refused (FORMAT_FAILURE, exit 3) with the reason, and audited as refusals.
      {{"ingest", "--trust", kRootCa, Fixture("letter.txt"), "--signature", Fixture("not-cms.p7s")}, 3,
       "FORMAT_FAILURE: not-cms.p7s: not a CMS signature"},
      {{"ingest", "--trust", kRootCa, Fixture("letter.txt"), "--signature", Fixture("truncated.p7s")}, 3,
       "FORMAT_FAILURE: truncated.p7s: truncated"},
      // A named document without a signature is refused like any other, not a usage error.
      {{"ingest", "--trust", kRootCa, lonely.string()}, 3, "not a signed document: no signature given"},
      {{"ingest", Fixture("letter.p7m")}, 64, "--trust"},
      {{"verify", "0190aaaa-0000-7000-8000-000000000000"}, 4, "not in the store"},
      {{"export", "0190aaaa-0000-7000-8000-000000000000", (dir_ / "x.zip").string()}, 4, "not in the store"},
      {{"frobnicate"}, 64, "unknown command"},
  };
  for (const auto& c : cases) {
    CommandResult r = Preserve(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args[0] << " " << r.err;
    // An ingest's outcome lines are on stdout, errors on stderr.
    EXPECT_NE((r.out + r.err).find(c.message), std::string::npos) << r.out << r.err;
  }
  EXPECT_EQ(ListOutput(), before);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.zip"));
  EXPECT_EQ(Preserve({"verify", id}).exit_code, 0);
}

TEST_F(Cli, MissingStoreIsAnErrorAndIsNotCreated) {
  std::filesystem::path nowhere = dir_ / "no-store";
  CommandResult r = testing::Run({PRESERVE_BIN, "verify", "--store", nowhere.string(), "some-id"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("no store at"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(nowhere));
  CommandResult ingest = testing::Run({PRESERVE_BIN, "ingest", "--store", nowhere.string(), "--trust", kRootCa,
                              Fixture("letter.p7m")});
  EXPECT_EQ(ingest.exit_code, 4);
  EXPECT_FALSE(std::filesystem::exists(nowhere));
}

TEST_F(Cli, InitRefusesAnExistingStore) {
  CommandResult r = Preserve({"init"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
}

// The attack of issue 12: anyone can make a store of their own, sign a fake
// letter with a self-made certificate in the province's name, ingest it
// trusting their own CA and export it. The zip then carries that CA, and
// the store's TSA CA: neither may make it VALID.
TEST_F(Cli, ForgedPackageIsValidOnlyForWhoTrustsTheForger) {
  const std::filesystem::path forger = dir_ / "forger";
  std::filesystem::create_directories(forger);
  auto openssl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    CommandResult r = testing::Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  const std::string ext = (forger / "ext.cnf").string();
  testing::WriteFile(ext, ToBytes("[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, "
                                  "cRLSign\nsubjectKeyIdentifier = hash\n[signer]\nbasicConstraints = critical, "
                                  "CA:FALSE\nkeyUsage = critical, digitalSignature, nonRepudiation\n"
                                  "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n"));
  auto in = [&](const char* name) { return (forger / name).string(); };
  openssl({"genpkey", "-quiet", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", in("ca.key")});
  openssl({"req", "-new", "-x509", "-key", in("ca.key"), "-subj", "/C=VN/O=UBND tinh Dak Nong/CN=UBND tinh Dak Nong CA",
           "-days", "3650", "-config", ext, "-extensions", "ca", "-out", in("ca.pem")});
  openssl({"genpkey", "-quiet", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", in("signer.key")});
  openssl({"req", "-new", "-key", in("signer.key"), "-subj", "/C=VN/O=UBND tinh Dak Nong/CN=Chu tich UBND tinh",
           "-out", in("signer.csr")});
  openssl({"x509", "-req", "-in", in("signer.csr"), "-CA", in("ca.pem"), "-CAkey", in("ca.key"), "-CAcreateserial",
           "-days", "3650", "-extfile", ext, "-extensions", "signer", "-out", in("signer.pem")});
  testing::WriteFile(in("letter.txt"), ToBytes("UBND tinh Dak Nong: a letter nobody in the province wrote.\n"));
  openssl({"cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in", in("letter.txt"), "-signer", in("signer.pem"),
           "-inkey", in("signer.key"), "-outform", "DER", "-out", in("letter.txt.p7s")});

  const std::string store = in("store");
  CommandResult init = testing::Run({PRESERVE_BIN, "init", "--store", store});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  CommandResult ingest = testing::Run({PRESERVE_BIN, "ingest", "--ids-only", "--store", store, "--trust", in("ca.pem"),
                                       "--accept-indeterminate", in("letter.txt"), "--signature", in("letter.txt.p7s")});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  const std::string id = ingest.out.substr(0, ingest.out.find('\n'));
  const std::string zip = in("fake.zip");
  ASSERT_EQ(testing::Run({PRESERVE_BIN, "export", "--store", store, id, zip}).exit_code, 0);

  // The documented command, with nothing but the zip: not VALID.
  CommandResult alone = testing::Run({PRESERVE_BIN, "verify-package", zip});
  EXPECT_EQ(alone.exit_code, 2) << alone.out;
  EXPECT_NE(alone.out.find("INDETERMINATE"), std::string::npos) << alone.out;
  EXPECT_NE(alone.out.find("proves nothing by itself"), std::string::npos) << alone.out;

  // With the real archive's CA and the real signers' root: INVALID.
  CommandResult genuine = testing::Run({PRESERVE_BIN, "verify-package", zip, "--tsa-trust",
                                        (store_ / "tsa" / "ca.pem").string(), "--trust", kRootCa});
  EXPECT_EQ(genuine.exit_code, 1) << genuine.out;
  EXPECT_NE(genuine.out.find("not one the verifier trusts"), std::string::npos) << genuine.out;
  // Pinning the real archive's fingerprint: INVALID as well.
  CommandResult fingerprint = testing::Run(
      {"openssl", "x509", "-in", (store_ / "tsa" / "ca.pem").string(), "-noout", "-fingerprint", "-sha256"});
  CommandResult pinned = testing::Run({PRESERVE_BIN, "verify-package", zip, "--tsa-fingerprint",
                                       fingerprint.out.substr(fingerprint.out.find('=') + 1, 95)});
  EXPECT_EQ(pinned.exit_code, 1) << pinned.out;
  EXPECT_NE(pinned.out.find("none of the pinned fingerprints"), std::string::npos) << pinned.out;

  // Only who trusts the forger's own CAs finds it VALID, and the report names them.
  CommandResult forgers = testing::Run(
      {PRESERVE_BIN, "verify-package", zip, "--tsa-trust", store + "/tsa/ca.pem", "--trust", in("ca.pem")});
  EXPECT_EQ(forgers.exit_code, 0) << forgers.out;
  EXPECT_NE(forgers.out.find("UBND tinh Dak Nong CA"), std::string::npos) << forgers.out;
}

// The export carries the policy it was sealed under, and verify-package holds
// the package to the stricter of it and the one given: the same verdict as
// `verify` in the store, without guessing --policy.
TEST_F(Cli, VerifyPackageAppliesTheStricterOfGivenAndCarriedPolicy) {
  const std::string store = (dir_ / "simulated").string();
  const std::string policy = (testing::SourceDir() / "examples" / "policy" / "simulation-2026-2076.json").string();
  ASSERT_EQ(testing::Run({PRESERVE_BIN, "init", "--store", store, "--policy", policy, "--tsa-validity-years", "30"})
                .exit_code,
            0);
  CommandResult ingest = testing::Run({PRESERVE_BIN, "ingest", "--ids-only", "--store", store, "--trust", kRootCa,
                                       Fixture("letter.txt"), "--signature", Fixture("letter.txt.p7s")});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  const std::string id = ingest.out.substr(0, ingest.out.find('\n'));
  const std::string zip = (dir_ / "simulated.zip").string();
  ASSERT_EQ(testing::Run({PRESERVE_BIN, "export", "--store", store, id, zip}).exit_code, 0);
  auto verify_package = [&](const std::string& now) {
    return testing::Run({PRESERVE_BIN, "verify-package", zip, "--now", now, "--tsa-trust", store + "/tsa/ca.pem",
                         "--trust", kRootCa});
  };
  // Before the carried policy retires SHA-256 (2040-01-01), as in the store.
  CommandResult before = verify_package("2035-01-01");
  EXPECT_EQ(before.exit_code, 0) << before.out;
  EXPECT_NE(before.out.find("the stricter, rule by rule, of ETSI"), std::string::npos) << before.out;
  // After it, unrenewed: INVALID, although the default policy (etsi) never ends SHA-256.
  CommandResult after = verify_package("2040-06-01");
  EXPECT_EQ(after.exit_code, 1) << after.out;
  EXPECT_NE(after.out.find("SHA-256"), std::string::npos) << after.out;
  CommandResult in_store = testing::Run({PRESERVE_BIN, "verify", "--store", store, "--now", "2040-06-01", id});
  EXPECT_EQ(in_store.exit_code, 1) << in_store.out;
}

TEST_F(Cli, CorruptOrForeignZipIsAnError) {
  std::filesystem::path garbage = dir_ / "garbage.zip";
  testing::WriteFile(garbage, "PK\x03\x04 this is not a zip at all");
  CommandResult r = testing::Run({PRESERVE_BIN, "verify-package", garbage.string()});
  EXPECT_EQ(r.exit_code, 4) << r.out;
  EXPECT_FALSE(r.err.empty());

  std::filesystem::path other = dir_ / "other.zip";
  ASSERT_EQ(testing::Run({"zip", "-q", "-j", other.string(), Fixture("letter.txt")}).exit_code, 0);
  CommandResult foreign = testing::Run({PRESERVE_BIN, "verify-package", other.string()});
  EXPECT_EQ(foreign.exit_code, 4);
  EXPECT_NE(foreign.err.find("not a preserve package"), std::string::npos) << foreign.err;

  EXPECT_EQ(testing::Run({PRESERVE_BIN, "verify-package", (dir_ / "absent.zip").string()}).exit_code, 4);
}

TEST_F(Cli, ChangedByteInAnExportedPackageIsInvalid) {
  std::string id = IngestOne({Fixture("letter.txt"), Fixture("letter.txt.p7s")});
  std::filesystem::path zip = dir_ / "p.zip";
  ASSERT_EQ(Preserve({"export", id, zip.string()}).exit_code, 0);
  std::filesystem::path unzipped = Unzip(zip);

  // Tamper with each kind of member in turn, re-zip, and expect INVALID.
  for (const std::string member : {"data/documents/letter.txt", "data/manifest.json", "evidence.ers"}) {
    std::filesystem::path copy = dir_ / "tampered";
    std::filesystem::remove_all(copy);
    std::filesystem::copy(unzipped, copy, std::filesystem::copy_options::recursive);
    FlipLastByte(copy / member);
    std::filesystem::path rezipped = dir_ / "tampered.zip";
    std::filesystem::remove(rezipped);
    CommandResult z = testing::Run({"sh", "-c", "cd '" + copy.string() + "' && zip -q -r '" + rezipped.string() + "' ."});
    ASSERT_EQ(z.exit_code, 0) << z.err;
    CommandResult r = testing::Run({PRESERVE_BIN, "verify-package", rezipped.string()});
    EXPECT_NE(r.exit_code, 0) << member << "\n" << r.out;
    if (member != "evidence.ers") {
      EXPECT_EQ(r.exit_code, 1) << member << "\n" << r.out;
    }
    EXPECT_NE(r.out.find("INVALID"), std::string::npos) << member << "\n" << r.out << r.err;
  }
}

TEST_F(Cli, SealCanBeDeferredAndRunLater) {
  CommandResult r = Preserve({"ingest", "--ids-only", "--no-seal", "--trust", kRootCa, Fixture("letter.p7m")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string id = r.out.substr(0, 36);
  EXPECT_NE(ListOutput().find("queued"), std::string::npos);
  CommandResult unsealed = Preserve({"verify", id});
  EXPECT_EQ(unsealed.exit_code, 4);
  EXPECT_NE(unsealed.err.find("not sealed yet"), std::string::npos) << unsealed.err;
  CommandResult seal = Preserve({"seal"});
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  EXPECT_NE(seal.err.find("sealed 1 package"), std::string::npos) << seal.err;
  EXPECT_EQ(Preserve({"verify", id}).exit_code, 0);
}

TEST_F(Cli, ManyPackagesShareOneTimeStamp) {
  CommandResult r = Preserve({"ingest", "--no-seal", "--trust", kRootCa, Fixture("letter.p7m")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Preserve({"ingest", "--allow-duplicate", "--trust", kRootCa, Fixture("letter.p7m"), Fixture("letter.txt"),
                Fixture("letter.txt.p7s")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sealed 3 packages in batch"), std::string::npos) << r.err;
  EXPECT_EQ(ListOutput().find("queued"), std::string::npos);
}

TEST_F(Cli, HelpAndUsage) {
  CommandResult help = testing::Run({PRESERVE_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("verify-package"), std::string::npos);
  for (const char* cmd : {"init", "ingest", "seal", "list", "verify", "export", "verify-package", "verify-er"}) {
    CommandResult r = testing::Run({PRESERVE_BIN, cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage: preserve "), std::string::npos) << cmd;
  }
  EXPECT_EQ(testing::Run({PRESERVE_BIN}).exit_code, 64);
  EXPECT_EQ(testing::Run({PRESERVE_BIN, "verify", "--bogus"}).exit_code, 64);
}

}  // namespace
}  // namespace preserve
