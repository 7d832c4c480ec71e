// RFC 4998 section 5.3 verification against records sealed and renewed by the
// embedded TSA on a simulated clock: what must pass, and what each broken link
// reports.
#include <gtest/gtest.h>

#include <chrono>

#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/evidence_record.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

using std::chrono::days;

constexpr HashAlgorithm kSha256 = HashAlgorithm::kSha256;
constexpr HashAlgorithm kSha512 = HashAlgorithm::kSha512;

TimePoint Utc(const char* text) { return *ParseUtcTime(text); }

bool Mentions(const EvidenceReport& report, const std::string& text) {
  return report.failure.find(text) != std::string::npos;
}

std::string Describe(const EvidenceReport& report) {
  std::string out = std::string(VerdictName(report.verdict)) + "\n";
  for (const EvidenceStep& step : report.steps)
    out += "  [" + std::string(VerdictName(step.verdict)) + "] " + step.what +
           (step.detail.empty() ? "" : " -- " + step.detail) + "\n";
  return out;
}

class EvidenceVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateEmbeddedTsa(dir_ / "tsa", {}, clock_).ok());
    auto tsa = EmbeddedTsa::Open(dir_ / "tsa", clock_);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    tsa_ = std::move(*tsa);
    options_.tokens.trust_anchors = {tsa_->ca_certificate()};
    options_.clock = &clock_;
  }

  Bytes Stamp(HashAlgorithm alg, const Bytes& imprint) {
    auto token = RequestTimeStamp(*tsa_, alg, imprint);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : Bytes{};
  }

  static std::vector<Bytes> Hashes(HashAlgorithm alg, const std::vector<std::string>& objects) {
    std::vector<Bytes> out;
    for (const std::string& o : objects) out.push_back(Digest(alg, AsBytes(o)));
    return out;
  }

  static DataObjectHashes DataOf(std::vector<std::string> objects) {
    return [objects](HashAlgorithm alg) -> Result<std::vector<Bytes>> { return Hashes(alg, objects); };
  }

  // Seals `groups` in one batch; returns one record per group.
  std::vector<EvidenceRecord> Seal(const std::vector<std::vector<std::string>>& groups) {
    std::vector<std::vector<Bytes>> batch;
    for (const auto& g : groups) batch.push_back(Hashes(kSha256, g));
    auto tree = BuildHashTree(kSha256, batch);
    EXPECT_TRUE(tree.ok());
    Bytes token = Stamp(kSha256, tree->root());
    std::vector<EvidenceRecord> records;
    for (std::size_t i = 0; i < tree->groups(); ++i)
      records.push_back(NewEvidenceRecord(kSha256, tree->ReducedFor(i), token));
    return records;
  }

  void RenewTimeStamp(EvidenceRecord& record) {
    auto group = TimeStampRenewalGroup(record);
    ASSERT_TRUE(group.ok()) << group.status().ToString();
    auto alg = record.sequence.back().front().digest_algorithm.value_or(kSha256);
    auto tree = BuildHashTree(alg, {*group});
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(AppendTimeStampRenewal(record, tree->ReducedFor(0), Stamp(alg, tree->root())).ok());
  }

  void RenewHashTree(EvidenceRecord& record, const std::vector<std::string>& objects) {
    auto group = HashTreeRenewalGroup(record, kSha512, Hashes(kSha512, objects));
    ASSERT_TRUE(group.ok()) << group.status().ToString();
    auto tree = BuildHashTree(kSha512, {*group});
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(AppendHashTreeRenewal(record, kSha512, tree->ReducedFor(0), Stamp(kSha512, tree->root())).ok());
  }

  // Gives the TSA a new key and certificate, as the archive does before one ends.
  void RollOver(TsaKeyType key_type, int validity_years) {
    ASSERT_TRUE(RollOverEmbeddedTsa(dir_ / "tsa", key_type, validity_years, clock_).ok());
    auto tsa = EmbeddedTsa::Open(dir_ / "tsa", clock_);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    tsa_ = std::move(*tsa);
  }

  preserve::testing::TempDir dir_;
  ManualClock clock_{Utc("2026-01-05T09:00:00Z")};
  std::unique_ptr<EmbeddedTsa> tsa_;
  EvidenceVerifyOptions options_;
};

const std::vector<std::string> kLetter = {"Công văn 123/UBND-CNXD", "signature of the letter", "validation material"};

TEST_F(EvidenceVerify, SingleGroupIsValid) {
  auto records = Seal({kLetter});
  clock_.Advance(days(1));
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kValid) << Describe(report);
  EXPECT_EQ(report.first_time, Utc("2026-01-05T09:00:00Z"));
  EXPECT_TRUE(report.failure.empty());
}

TEST_F(EvidenceVerify, EveryRecordOfABatchIsValid) {
  std::vector<std::vector<std::string>> groups;
  for (int i = 0; i < 9; ++i) groups.push_back({"document " + std::to_string(i), "signature " + std::to_string(i)});
  groups.push_back({"a single object"});
  auto records = Seal(groups);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    EvidenceReport report = VerifyEvidenceRecord(records[i], DataOf(groups[i]), options_);
    EXPECT_EQ(report.verdict, Verdict::kValid) << "group " << i << "\n" << Describe(report);
  }
  // A record of the batch does not prove another group's data.
  EXPECT_EQ(VerifyEvidenceRecord(records[0], DataOf(groups[1]), options_).verdict, Verdict::kInvalid);
}

TEST_F(EvidenceVerify, SingleObjectSealedAloneIsValid) {
  auto records = Seal({{"only one"}});
  EXPECT_FALSE(records[0].sequence[0][0].reduced_hashtree.has_value());
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf({"only one"}), options_);
  EXPECT_EQ(report.verdict, Verdict::kValid) << Describe(report);
}

TEST_F(EvidenceVerify, TimeStampRenewalsVerify) {
  auto records = Seal({kLetter});
  clock_.Advance(days(365));
  RenewTimeStamp(records[0]);
  clock_.Advance(days(365));
  RenewTimeStamp(records[0]);  // covers two earlier tokens: a reduced tree of one sorted list
  ASSERT_EQ(records[0].sequence[0].size(), 3u);
  EXPECT_TRUE(records[0].sequence[0][2].reduced_hashtree.has_value());
  auto der = EncodeEvidenceRecord(records[0]);
  ASSERT_TRUE(der.ok());
  auto decoded = DecodeEvidenceRecord(*der);
  ASSERT_TRUE(decoded.ok());
  EvidenceReport report = VerifyEvidenceRecord(*decoded, DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kValid) << Describe(report);
  EXPECT_EQ(report.first_time, Utc("2026-01-05T09:00:00Z"));
  EXPECT_EQ(report.last_time, Utc("2026-01-05T09:00:00Z") + days(730));
}

TEST_F(EvidenceVerify, HashTreeRenewalsVerify) {
  auto records = Seal({kLetter, {"another package"}});
  clock_.Advance(days(400));
  RenewHashTree(records[0], kLetter);
  clock_.Advance(days(400));
  RenewTimeStamp(records[0]);
  clock_.Advance(days(400));
  RenewHashTree(records[0], kLetter);  // a third chain: ha covers chains 1 and 2
  EXPECT_EQ(records[0].digest_algorithms, (std::vector<HashAlgorithm>{kSha256, kSha512}));
  ASSERT_EQ(records[0].sequence.size(), 3u);
  auto der = EncodeEvidenceRecord(records[0]);
  ASSERT_TRUE(der.ok());
  auto decoded = DecodeEvidenceRecord(*der);
  ASSERT_TRUE(decoded.ok());
  EvidenceReport report = VerifyEvidenceRecord(*decoded, DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kValid) << Describe(report);
}

// The DER of an EvidenceRecord's archiveTimeStampSequence, its last element
// (the record has no cryptoInfos or encryptionInfo). Short or long form lengths.
Bytes LastElement(const Bytes& der) {
  auto header = [&](std::size_t at, std::size_t& length) {
    std::size_t p = at + 1;
    if (der[p] < 0x80) {
      length = der[p];
      return p + 1 - at;
    }
    std::size_t n = der[p] & 0x7f;
    length = 0;
    for (std::size_t i = 1; i <= n; ++i) length = (length << 8) | der[p + i];
    return n + 2;
  };
  std::size_t length = 0;
  std::size_t at = header(0, length);  // into the outer SEQUENCE
  std::size_t last = at;
  while (at < der.size()) {
    last = at;
    at += header(at, length) + length;
  }
  return Bytes(der.begin() + static_cast<std::ptrdiff_t>(last), der.end());
}

// Another writer may hash H'(sortcat{H'(d), ha}) instead of H'(H'(d) || ha).
TEST_F(EvidenceVerify, SortedHashTreeRenewalReadingIsAccepted) {
  auto records = Seal({kLetter});
  clock_.Advance(days(30));
  auto der = EncodeEvidenceRecord(records[0]);
  ASSERT_TRUE(der.ok());
  const Bytes ha = Digest(kSha512, LastElement(*der));
  std::vector<Bytes> members;
  for (const Bytes& h : Hashes(kSha512, kLetter)) {
    Bytes sorted = h < ha ? h : ha;
    const Bytes& second = h < ha ? ha : h;
    sorted.insert(sorted.end(), second.begin(), second.end());
    members.push_back(Digest(kSha512, sorted));
  }
  auto tree = BuildHashTree(kSha512, {members});
  ASSERT_TRUE(tree.ok());
  ASSERT_TRUE(AppendHashTreeRenewal(records[0], kSha512, tree->ReducedFor(0), Stamp(kSha512, tree->root())).ok());
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kValid) << Describe(report);
}

TEST_F(EvidenceVerify, TamperedDataIsInvalid) {
  auto records = Seal({kLetter});
  std::vector<std::string> tampered = kLetter;
  tampered[0][0] ^= 1;
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(tampered), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Mentions(report, "chain 1, ATS 1")) << report.failure;
  EXPECT_TRUE(Mentions(report, "data does not match")) << report.failure;
}

TEST_F(EvidenceVerify, TamperedRecordIsInvalid) {
  auto records = Seal({kLetter, {"x"}, {"y"}});
  auto der = EncodeEvidenceRecord(records[0]);
  ASSERT_TRUE(der.ok());
  // Flip a byte of the last sibling in the reduced tree (outside the token).
  const Bytes& sibling = records[0].sequence[0][0].reduced_hashtree->back().front();
  auto at = std::search(der->begin(), der->end(), sibling.begin(), sibling.end());
  ASSERT_NE(at, der->end());
  *(at + 5) ^= 0x01;
  auto decoded = DecodeEvidenceRecord(*der);
  ASSERT_TRUE(decoded.ok());
  EvidenceReport report = VerifyEvidenceRecord(*decoded, DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_TRUE(Mentions(report, "does not lead to the token's imprint")) << report.failure;
}

TEST_F(EvidenceVerify, TamperedTokenIsInvalid) {
  auto records = Seal({kLetter});
  Bytes& token = records[0].sequence[0][0].time_stamp;
  token[token.size() - 3] ^= 0x01;  // inside the signature value
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_TRUE(Mentions(report, "chain 1, ATS 1")) << report.failure;
}

TEST_F(EvidenceVerify, TimesNotIncreasingIsInvalid) {
  auto records = Seal({kLetter});
  clock_.Set(Utc("2026-01-04T09:00:00Z"));  // the renewal's token predates the first
  RenewTimeStamp(records[0]);
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_TRUE(Mentions(report, "chain 1, ATS 2")) << report.failure;
  // (Its token is INVALID too: its TSA certificate was not yet valid then.)
  EXPECT_NE(Describe(report).find("is not after"), std::string::npos) << Describe(report);
}

TEST_F(EvidenceVerify, AlgorithmEndedBeforeTheNextAtsIsInvalid) {
  auto records = Seal({kLetter});
  clock_.Advance(days(365));
  RenewHashTree(records[0], kLetter);
  // SHA-256 ended half a year after sealing, before the renewal covered it.
  options_.hash_algorithm_end = [](HashAlgorithm alg) -> std::optional<TimePoint> {
    if (alg == kSha256) return Utc("2026-07-01");
    return std::nullopt;
  };
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_TRUE(Mentions(report, "chain 1, ATS 1")) << report.failure;
  EXPECT_TRUE(Mentions(report, "SHA-256 ended on 2026-07-01")) << report.failure;

  // Renewed in time, the same end is fine.
  options_.hash_algorithm_end = [](HashAlgorithm alg) -> std::optional<TimePoint> {
    if (alg == kSha256) return Utc("2027-07-01");
    return std::nullopt;
  };
  EXPECT_EQ(VerifyEvidenceRecord(records[0], DataOf(kLetter), options_).verdict, Verdict::kValid);
}

TEST_F(EvidenceVerify, LastAlgorithmEndedBeforeNowIsInvalid) {
  auto records = Seal({kLetter});
  options_.hash_algorithm_end = [](HashAlgorithm) -> std::optional<TimePoint> { return Utc("2026-03-01"); };
  clock_.Set(Utc("2026-04-01"));
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_TRUE(Mentions(report, "now")) << report.failure;
}

// The TSA certificate of ATS 1 ended a year after sealing; the renewal (by a
// rolled-over TSA) came only after that.
TEST_F(EvidenceVerify, TsaCertificateEndedBeforeTheNextAtsIsInvalid) {
  RollOver(TsaKeyType::kEcdsaP256, 1);  // ends 2027-01-05
  auto late = Seal({kLetter});
  auto in_time = Seal({kLetter});
  clock_.Set(Utc("2026-12-01T09:00:00Z"));
  RollOver(TsaKeyType::kEcdsaP256, 10);
  RenewTimeStamp(in_time[0]);
  EvidenceReport valid = VerifyEvidenceRecord(in_time[0], DataOf(kLetter), options_);
  EXPECT_EQ(valid.verdict, Verdict::kValid) << Describe(valid);

  clock_.Set(Utc("2027-03-01T09:00:00Z"));
  RenewTimeStamp(late[0]);
  EvidenceReport report = VerifyEvidenceRecord(late[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure,
            "chain 1, ATS 1: its TSA certificate may not be relied on after 2027-01-05T09:00:00Z, but the next "
            "archive time-stamp (chain 1, ATS 2) covered it only at 2027-03-01T09:00:00Z");
}

TEST_F(EvidenceVerify, LastTsaCertificateEndedBeforeNowIsInvalid) {
  auto records = Seal({kLetter});
  clock_.Set(Utc("2036-02-01T00:00:00Z"));  // the TSA certificate ended 2036-01-05
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_TRUE(Mentions(report, "chain 1, ATS 1: its TSA certificate may not be relied on after 2036-01-05"))
      << report.failure;
  EXPECT_TRUE(Mentions(report, "no later archive time-stamp covers it: it is now 2036-02-01T00:00:00Z"))
      << report.failure;
}

// A TSA with an RSA-2048 key, which the policy retires from 2030 on.
TEST_F(EvidenceVerify, SignatureAlgorithmEndedBeforeTheNextAtsIsInvalid) {
  RollOver(TsaKeyType::kRsa2048, 10);
  auto late = Seal({kLetter});
  auto in_time = Seal({kLetter});
  options_.signature_algorithm_end = [](const std::string& key_type, int key_bits) -> std::optional<TimePoint> {
    if (key_type == "RSA" && key_bits < 3000) return Utc("2030-01-01");
    return std::nullopt;
  };
  clock_.Set(Utc("2029-06-01T00:00:00Z"));
  RollOver(TsaKeyType::kEcdsaP256, 10);
  RenewTimeStamp(in_time[0]);
  EvidenceReport valid = VerifyEvidenceRecord(in_time[0], DataOf(kLetter), options_);
  EXPECT_EQ(valid.verdict, Verdict::kValid) << Describe(valid);

  clock_.Set(Utc("2031-06-01T00:00:00Z"));
  RenewTimeStamp(late[0]);
  EvidenceReport report = VerifyEvidenceRecord(late[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure,
            "chain 1, ATS 1: its RSA-2048 signature may not be relied on after 2030-01-01T00:00:00Z, but the next "
            "archive time-stamp (chain 1, ATS 2) covered it only at 2031-06-01T00:00:00Z");
}

// An ECDSA TSA signs SHA3 imprints with SHA-512 (OpenSSL 3.0 cannot do ECDSA
// with SHA-3 in PKCS#7): a SHA3-256 chain then relies on SHA-512 too.
TEST_F(EvidenceVerify, SignatureDigestEndedBeforeTheNextAtsIsInvalid) {
  constexpr HashAlgorithm kSha3 = HashAlgorithm::kSha3_256;
  auto tree = BuildHashTree(kSha3, {Hashes(kSha3, kLetter)});
  ASSERT_TRUE(tree.ok());
  EvidenceRecord record = NewEvidenceRecord(kSha3, tree->ReducedFor(0), Stamp(kSha3, tree->root()));
  clock_.Advance(days(365));
  RenewTimeStamp(record);
  ASSERT_EQ(ParseToken(record.sequence[0][0].time_stamp).value().signature_digest, "SHA-512");

  options_.hash_algorithm_end = [](HashAlgorithm alg) -> std::optional<TimePoint> {
    if (alg == kSha512) return Utc("2026-07-01");
    return std::nullopt;
  };
  EvidenceReport report = VerifyEvidenceRecord(record, DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure,
            "chain 1, ATS 1: its SHA-512 signature digest may not be relied on after 2026-07-01T00:00:00Z, but the "
            "next archive time-stamp (chain 1, ATS 2) covered it only at 2027-01-05T09:00:00Z");

  options_.hash_algorithm_end = [](HashAlgorithm alg) -> std::optional<TimePoint> {
    if (alg == kSha512) return Utc("2027-07-01");
    return std::nullopt;
  };
  EvidenceReport valid = VerifyEvidenceRecord(record, DataOf(kLetter), options_);
  EXPECT_EQ(valid.verdict, Verdict::kValid) << Describe(valid);
}

// SHA-256 retired in 2040, as the simulation does: a SHA-512 hash-tree renewal
// before then leaves nothing relying on SHA-256 (its token is signed with
// SHA-512), so the record stays valid after 2040. The ATS that covers the last
// of chain 1 is the first of chain 2.
TEST_F(EvidenceVerify, HashTreeRenewalBeforeSha256EndsStaysValidAfterIt) {
  auto records = Seal({kLetter});
  options_.hash_algorithm_end = [](HashAlgorithm alg) -> std::optional<TimePoint> {
    if (alg == kSha256) return Utc("2040-01-01");
    return std::nullopt;
  };
  clock_.Set(Utc("2035-01-01T00:00:00Z"));
  RollOver(TsaKeyType::kEcdsaP256, 10);
  RenewTimeStamp(records[0]);
  clock_.Set(Utc("2039-06-01T00:00:00Z"));
  RenewHashTree(records[0], kLetter);
  ASSERT_EQ(ParseToken(records[0].sequence[1][0].time_stamp).value().signature_digest, "SHA-512");
  clock_.Set(Utc("2041-01-01T00:00:00Z"));
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kValid) << Describe(report);
  bool named = false;
  for (const EvidenceStep& step : report.steps)
    named = named || step.what == "chain 1, ATS 2: its TSA certificate (valid until 2045-01-01T00:00:00Z) was still "
                                  "valid when chain 2, ATS 1 covered it (2039-06-01T00:00:00Z)";
  EXPECT_TRUE(named) << Describe(report);
}

TEST_F(EvidenceVerify, NoTsaTrustAnchorIsIndeterminate) {
  auto records = Seal({kLetter});
  options_.tokens.trust_anchors.clear();
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kIndeterminate) << Describe(report);
  EXPECT_TRUE(Mentions(report, "not trusted")) << report.failure;

  // A broken link still makes it INVALID.
  EXPECT_EQ(VerifyEvidenceRecord(records[0], DataOf({"other data"}), options_).verdict, Verdict::kInvalid);
}

TEST_F(EvidenceVerify, TsaOutsideTheGivenAnchorsIsInvalid) {
  auto records = Seal({kLetter});
  ASSERT_TRUE(CreateEmbeddedTsa(dir_ / "other", {}, clock_).ok());
  auto other = EmbeddedTsa::Open(dir_ / "other", clock_);
  ASSERT_TRUE(other.ok());
  options_.tokens.trust_anchors = {(*other)->ca_certificate()};
  EvidenceReport report = VerifyEvidenceRecord(records[0], DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid) << Describe(report);
  EXPECT_TRUE(Mentions(report, "not one the verifier trusts")) << report.failure;
}

TEST_F(EvidenceVerify, EmptyRecordIsInvalid) {
  EvidenceReport report = VerifyEvidenceRecord(EvidenceRecord{}, DataOf(kLetter), options_);
  EXPECT_EQ(report.verdict, Verdict::kInvalid);
  EXPECT_FALSE(report.failure.empty());
}

}  // namespace
}  // namespace preserve::timestamp
