// Evidence records against BouncyCastle 1.72's org.bouncycastle.tsp.ers
// (tests/interop/bouncycastle/ErsCheck.java): what preserve writes, BouncyCastle
// accepts; what either must reject, both reject; what BouncyCastle writes,
// preserve accepts. A missing JDK or jar fails these tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/evidence_record.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

namespace fs = std::filesystem;
using preserve::testing::ReadFileOrDie;
using preserve::testing::WriteFile;

constexpr HashAlgorithm kSha256 = HashAlgorithm::kSha256;

class BouncyCastleErs : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* jar : {"bcprov.jar", "bcpkix.jar", "bcutil.jar"})
      ASSERT_TRUE(fs::exists(fs::path("/usr/share/java") / jar)) << jar << " is missing";
    ASSERT_TRUE(fs::exists(PRESERVE_JAVA)) << "no java runtime found at configure time";
    ASSERT_TRUE(fs::exists(fs::path(PRESERVE_ERS_CHECK_CLASSES) / "ErsCheck.class")) << "ErsCheck.java was not compiled";
    // Real time: BouncyCastle checks presence as of its own clock.
    ASSERT_TRUE(CreateEmbeddedTsa(dir_ / "tsa", {}, clock_).ok());
    auto tsa = EmbeddedTsa::Open(dir_ / "tsa", clock_);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    tsa_ = std::move(*tsa);
    options_.tokens.trust_anchors = {tsa_->ca_certificate()};
    options_.clock = &clock_;
  }

  preserve::testing::CommandResult ErsCheck(std::vector<std::string> args) {
    std::vector<std::string> argv = {PRESERVE_JAVA, "-cp",
                                     std::string(PRESERVE_ERS_CHECK_CLASSES) + ":" + PRESERVE_BC_CLASSPATH, "ErsCheck"};
    argv.insert(argv.end(), args.begin(), args.end());
    return preserve::testing::Run(argv);
  }

  // BouncyCastle's verdict on `record` for the data files.
  std::string BouncyCastleSays(const Bytes& record, const std::vector<fs::path>& files) {
    const fs::path er = dir_ / ("er" + std::to_string(counter_++) + ".ers");
    WriteFile(er, record);
    std::vector<std::string> args = {"verify", er.string()};
    for (const fs::path& f : files) args.push_back(f.string());
    auto result = ErsCheck(args);
    std::string out = result.out + result.err;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if ((result.exit_code == 0) != (out == "VALID")) return "checker confused: " + out;
    return out;
  }

  Verdict PreserveSays(const Bytes& record, const std::vector<fs::path>& files) {
    auto decoded = DecodeEvidenceRecord(record);
    if (!decoded.ok()) return Verdict::kInvalid;
    DataObjectHashes hashes = [files](HashAlgorithm alg) -> Result<std::vector<Bytes>> {
      std::vector<Bytes> out;
      for (const fs::path& f : files) {
        PRESERVE_ASSIGN_OR_RETURN(Bytes h, DigestFile(alg, f));
        out.push_back(std::move(h));
      }
      return out;
    };
    return VerifyEvidenceRecord(*decoded, hashes, options_).verdict;
  }

  std::vector<fs::path> Files(const std::string& prefix, int count) {
    std::vector<fs::path> out;
    for (int i = 0; i < count; ++i) {
      out.push_back(dir_ / (prefix + "-" + std::to_string(i) + ".bin"));
      WriteFile(out.back(), "Chỉ thị 6587/UBND-CNXD, " + prefix + " part " + std::to_string(i));
    }
    return out;
  }

  // Seals the groups in one batch with preserve; returns each group's ER (DER).
  std::vector<Bytes> Seal(const std::vector<std::vector<fs::path>>& groups) {
    std::vector<std::vector<Bytes>> batch;
    for (const auto& group : groups) {
      batch.emplace_back();
      for (const fs::path& f : group) batch.back().push_back(*DigestFile(kSha256, f));
    }
    auto tree = BuildHashTree(kSha256, batch);
    EXPECT_TRUE(tree.ok());
    auto token = RequestTimeStamp(*tsa_, kSha256, tree->root());
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < tree->groups(); ++i) {
      auto der = EncodeEvidenceRecord(NewEvidenceRecord(kSha256, tree->ReducedFor(i), *token));
      EXPECT_TRUE(der.ok());
      out.push_back(*der);
    }
    return out;
  }

  // Both implementations must reject each tampering of a valid record.
  void ExpectBothRejectTampering(const Bytes& record, const std::vector<fs::path>& files) {
    ASSERT_EQ(BouncyCastleSays(record, files), "VALID");
    ASSERT_EQ(PreserveSays(record, files), Verdict::kValid);

    // A flipped byte in a data object.
    Bytes original = ReadFileOrDie(files.front());
    Bytes changed = original;
    changed[0] ^= 0x01;
    WriteFile(files.front(), changed);
    EXPECT_NE(BouncyCastleSays(record, files), "VALID") << "tampered data";
    EXPECT_EQ(PreserveSays(record, files), Verdict::kInvalid) << "tampered data";
    WriteFile(files.front(), original);

    auto decoded = DecodeEvidenceRecord(record);
    ASSERT_TRUE(decoded.ok());
    const Bytes& token = decoded->sequence[0][0].time_stamp;
    const auto token_at = std::search(record.begin(), record.end(), token.begin(), token.end()) - record.begin();

    // A flipped byte of the ER outside the token: a hash of the reduced tree,
    // or (sealed alone, where only the header lies outside the token) the
    // digestAlgorithms OID changed to SHA-512's. BouncyCastle never reads
    // digestAlgorithms, so only preserve is required to reject that one.
    Bytes outside = record;
    if (decoded->sequence[0][0].reduced_hashtree) {
      const Bytes& value = decoded->sequence[0][0].reduced_hashtree->front().front();
      auto at = std::search(outside.begin(), outside.end(), value.begin(), value.end());
      ASSERT_LT(at - outside.begin(), token_at);
      *(at + 7) ^= 0x01;
    } else {
      const Bytes sha256_oid = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
      auto at = std::search(outside.begin(), outside.end(), sha256_oid.begin(), sha256_oid.end());
      ASSERT_LT(at - outside.begin(), token_at);
      *(at + 8) = 0x03;
    }
    if (decoded->sequence[0][0].reduced_hashtree) {
      EXPECT_NE(BouncyCastleSays(outside, files), "VALID") << "tampered ER";
    }
    EXPECT_EQ(PreserveSays(outside, files), Verdict::kInvalid) << "tampered ER";

    // A flipped byte inside the token: the end of its signature value.
    Bytes inside = record;
    inside[static_cast<std::size_t>(token_at) + token.size() - 3] ^= 0x01;
    EXPECT_NE(BouncyCastleSays(inside, files), "VALID") << "tampered token";
    EXPECT_EQ(PreserveSays(inside, files), Verdict::kInvalid) << "tampered token";
  }

  // Answers a BouncyCastle TimeStampReq through the embedded TSA.
  fs::path Answer(const fs::path& request) {
    // Tokens carry whole seconds, and a renewal's must be later than what it
    // renews: on a fast machine both would fall in one second.
    while (clock_.Now() <= last_answer_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    last_answer_ = clock_.Now();
    auto response = tsa_->Exchange(ReadFileOrDie(request));
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    fs::path out = request;
    out.replace_extension(".tsr");
    WriteFile(out, *response);
    return out;
  }

  void ExpectOk(const preserve::testing::CommandResult& result) {
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  }

  preserve::testing::TempDir dir_;
  SystemClock clock_;
  TimePoint last_answer_{};
  std::unique_ptr<EmbeddedTsa> tsa_;
  EvidenceVerifyOptions options_;
  int counter_ = 0;
};

TEST_F(BouncyCastleErs, SingleGroup) {
  auto files = Files("letter", 3);
  ExpectBothRejectTampering(Seal({files})[0], files);
}

TEST_F(BouncyCastleErs, SingleObject) {
  auto files = Files("alone", 1);
  ExpectBothRejectTampering(Seal({files})[0], files);
}

TEST_F(BouncyCastleErs, BatchOfGroupsEachWithItsReducedTree) {
  std::vector<std::vector<fs::path>> groups;
  for (int i = 0; i < 37; ++i) groups.push_back(Files("package" + std::to_string(i), 1 + i % 3));
  auto records = Seal(groups);
  for (int i : {0, 1, 17, 35, 36})
    EXPECT_EQ(BouncyCastleSays(records[static_cast<std::size_t>(i)], groups[static_cast<std::size_t>(i)]), "VALID")
        << "package " << i;
  ExpectBothRejectTampering(records[17], groups[17]);
  // One package's record does not vouch for another's data.
  EXPECT_NE(BouncyCastleSays(records[3], groups[4]), "VALID");
  EXPECT_EQ(PreserveSays(records[3], groups[4]), Verdict::kInvalid);
}

TEST_F(BouncyCastleErs, PreserveReadsWhatBouncyCastleWrites) {
  for (int count : {1, 3}) {
    SCOPED_TRACE(std::to_string(count) + " data object(s)");
    auto files = Files("bc" + std::to_string(count), count);
    std::vector<std::string> data;
    for (const fs::path& f : files) data.push_back(f.string());
    auto with_data = [&data](std::vector<std::string> args) {
      args.insert(args.end(), data.begin(), data.end());
      return args;
    };
    const std::string prefix = (dir_ / ("bc" + std::to_string(count))).string();

    ExpectOk(ErsCheck(with_data({"seal-request", prefix + "-seal.tsq"})));
    fs::path response = Answer(prefix + "-seal.tsq");
    ExpectOk(ErsCheck(with_data({"seal-finish", response.string(), prefix + "-1.ers"})));
    Bytes sealed = ReadFileOrDie(prefix + "-1.ers");
    EXPECT_EQ(PreserveSays(sealed, files), Verdict::kValid);
    auto decoded = DecodeEvidenceRecord(sealed);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    auto again = EncodeEvidenceRecord(*decoded);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, sealed) << "preserve re-encodes BouncyCastle's record byte for byte";

    ExpectOk(ErsCheck({"renew-ts-request", prefix + "-1.ers", prefix + "-ts.tsq"}));
    response = Answer(prefix + "-ts.tsq");
    ExpectOk(ErsCheck({"renew-ts-finish", prefix + "-1.ers", response.string(), prefix + "-2.ers"}));
    EXPECT_EQ(PreserveSays(ReadFileOrDie(prefix + "-2.ers"), files), Verdict::kValid);

    ExpectOk(ErsCheck(with_data({"renew-hash-request", prefix + "-2.ers", prefix + "-hash.tsq"})));
    response = Answer(prefix + "-hash.tsq");
    ExpectOk(ErsCheck(with_data({"renew-hash-finish", prefix + "-2.ers", response.string(), prefix + "-3.ers"})));
    Bytes renewed = ReadFileOrDie(prefix + "-3.ers");
    EXPECT_EQ(BouncyCastleSays(renewed, files), "VALID");
    EXPECT_EQ(PreserveSays(renewed, files), Verdict::kValid);
  }
}

TEST_F(BouncyCastleErs, BouncyCastleReadsPreserveRenewals) {
  auto files = Files("renewed", 2);
  auto decoded = DecodeEvidenceRecord(Seal({files})[0]);
  ASSERT_TRUE(decoded.ok());
  EvidenceRecord record = *decoded;

  // Timestamp renewal, twice (the second covers two tokens).
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // genTimes must strictly increase
    auto group = TimeStampRenewalGroup(record);
    ASSERT_TRUE(group.ok());
    auto tree = BuildHashTree(kSha256, {*group});
    ASSERT_TRUE(tree.ok());
    auto token = RequestTimeStamp(*tsa_, kSha256, tree->root());
    ASSERT_TRUE(token.ok());
    ASSERT_TRUE(AppendTimeStampRenewal(record, tree->ReducedFor(0), *token).ok());
    auto der = EncodeEvidenceRecord(record);
    ASSERT_TRUE(der.ok());
    EXPECT_EQ(BouncyCastleSays(*der, files), "VALID") << "after timestamp renewal " << i + 1;
    EXPECT_EQ(PreserveSays(*der, files), Verdict::kValid);
  }

  // Hash-tree renewal to SHA-512.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::vector<Bytes> hashes;
  for (const fs::path& f : files) hashes.push_back(*DigestFile(HashAlgorithm::kSha512, f));
  auto group = HashTreeRenewalGroup(record, HashAlgorithm::kSha512, hashes);
  ASSERT_TRUE(group.ok());
  auto tree = BuildHashTree(HashAlgorithm::kSha512, {*group});
  ASSERT_TRUE(tree.ok());
  auto token = RequestTimeStamp(*tsa_, HashAlgorithm::kSha512, tree->root());
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(AppendHashTreeRenewal(record, HashAlgorithm::kSha512, tree->ReducedFor(0), *token).ok());
  auto der = EncodeEvidenceRecord(record);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(BouncyCastleSays(*der, files), "VALID") << "after hash-tree renewal";
  EXPECT_EQ(PreserveSays(*der, files), Verdict::kValid);
}

}  // namespace
}  // namespace preserve::timestamp
