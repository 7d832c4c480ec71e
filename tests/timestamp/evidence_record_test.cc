// EvidenceRecord encoding (ERS-RULES.md rules 6-8): known DER written out by
// hand here as the oracle, round trips, tolerated fields, hostile inputs.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "preserve/timestamp/evidence_record.h"

namespace preserve::timestamp {
namespace {

// Short-form and long-form lengths of up to three bytes.
Bytes Tlv(std::uint8_t tag, const Bytes& content) {
  Bytes out{tag};
  if (content.size() < 0x80) {
    out.push_back(static_cast<std::uint8_t>(content.size()));
  } else if (content.size() < 0x100) {
    out.push_back(0x81);
    out.push_back(static_cast<std::uint8_t>(content.size()));
  } else if (content.size() < 0x10000) {
    out.push_back(0x82);
    out.push_back(static_cast<std::uint8_t>(content.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(content.size()));
  } else {
    out.push_back(0x83);
    out.push_back(static_cast<std::uint8_t>(content.size() >> 16));
    out.push_back(static_cast<std::uint8_t>(content.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(content.size()));
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const Bytes kSha256Oid = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
const Bytes kSha512Oid = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};
const Bytes kMd5Oid = {0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05};
const Bytes kNull = {0x05, 0x00};
// Any DER SEQUENCE stands in for a ContentInfo: encoding never parses the token.
const Bytes kToken = Tlv(0x30, Cat({Tlv(0x06, {0x2a, 0x03}), Tlv(0xa0, Tlv(0x30, Tlv(0x02, {0x07})))}));
const Bytes kToken2 = Tlv(0x30, Tlv(0x02, {0x02}));

Bytes Member(std::uint8_t b) { return Bytes(32, b); }

// EvidenceRecord with one chain of `ats`, digestAlgorithms = `algs`.
Bytes RecordDer(const Bytes& algs, const Bytes& ats, const Bytes& extra = {}) {
  return Tlv(0x30, Cat({Tlv(0x02, {0x01}), Tlv(0x30, algs), extra, Tlv(0x30, Tlv(0x30, ats))}));
}

void ExpectSameRecord(const EvidenceRecord& a, const EvidenceRecord& b) {
  EXPECT_EQ(a.digest_algorithms, b.digest_algorithms);
  ASSERT_EQ(a.sequence.size(), b.sequence.size());
  for (std::size_t c = 0; c < a.sequence.size(); ++c) {
    ASSERT_EQ(a.sequence[c].size(), b.sequence[c].size());
    for (std::size_t i = 0; i < a.sequence[c].size(); ++i) {
      EXPECT_EQ(a.sequence[c][i].digest_algorithm, b.sequence[c][i].digest_algorithm);
      EXPECT_EQ(a.sequence[c][i].reduced_hashtree, b.sequence[c][i].reduced_hashtree);
      EXPECT_EQ(a.sequence[c][i].time_stamp, b.sequence[c][i].time_stamp);
    }
  }
}

TEST(EvidenceRecord, EncodesAsBouncyCastleDoes) {
  EvidenceRecord record =
      NewEvidenceRecord(HashAlgorithm::kSha256, ReducedHashtree{{Member(1), Member(2)}, {Member(3)}}, kToken);
  auto der = EncodeEvidenceRecord(record);
  ASSERT_TRUE(der.ok()) << der.status().ToString();

  const Bytes tree = Tlv(0xa2, Cat({Tlv(0x30, Cat({Tlv(0x04, Member(1)), Tlv(0x04, Member(2))})),
                                    Tlv(0x30, Tlv(0x04, Member(3)))}));
  const Bytes ats = Tlv(0x30, Cat({Tlv(0xa0, kSha256Oid), tree, kToken}));
  EXPECT_EQ(ToHex(*der), ToHex(RecordDer(Tlv(0x30, kSha256Oid), ats)));

  // Rule 6: the ATS digestAlgorithm, [0] IMPLICIT with parameters absent.
  const Bytes expected_alg = {0xa0, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
  EXPECT_NE(std::search(der->begin(), der->end(), expected_alg.begin(), expected_alg.end()), der->end());
}

TEST(EvidenceRecord, SingleObjectHasNeitherTreeNorDigestAlgorithm) {
  auto der = EncodeEvidenceRecord(NewEvidenceRecord(HashAlgorithm::kSha256, std::nullopt, kToken));
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(ToHex(*der), ToHex(RecordDer(Tlv(0x30, kSha256Oid), Tlv(0x30, kToken))));
}

TEST(EvidenceRecord, RoundTripIsByteExact) {
  EvidenceRecord record =
      NewEvidenceRecord(HashAlgorithm::kSha256, ReducedHashtree{{Member(1)}, {Member(9)}, {Member(4)}}, kToken);
  ASSERT_TRUE(AppendTimeStampRenewal(record, std::nullopt, kToken2).ok());
  ASSERT_TRUE(AppendHashTreeRenewal(record, HashAlgorithm::kSha512, ReducedHashtree{{Bytes(64, 5)}}, kToken).ok());
  auto der = EncodeEvidenceRecord(record);
  ASSERT_TRUE(der.ok());
  auto decoded = DecodeEvidenceRecord(*der);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameRecord(*decoded, record);
  EXPECT_EQ(decoded->digest_algorithms,
            (std::vector<HashAlgorithm>{HashAlgorithm::kSha256, HashAlgorithm::kSha512}));
  auto again = EncodeEvidenceRecord(*decoded);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *der);
}

TEST(EvidenceRecord, TokenBytesAreKeptExactly) {
  // A BER (indefinite-length) token must come back unchanged: its signature
  // covers bytes that a DER re-encoding would alter.
  const Bytes ber_token = {0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00};
  auto der = EncodeEvidenceRecord(NewEvidenceRecord(HashAlgorithm::kSha256, std::nullopt, ber_token));
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto decoded = DecodeEvidenceRecord(*der);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->sequence[0][0].time_stamp, ber_token);
}

TEST(EvidenceRecord, AcceptsNullParameters) {
  const Bytes alg_null = Cat({kSha256Oid, kNull});
  const Bytes tree = Tlv(0xa2, Tlv(0x30, Tlv(0x04, Member(1))));
  const Bytes der = RecordDer(Tlv(0x30, alg_null), Tlv(0x30, Cat({Tlv(0xa0, alg_null), tree, kToken})));
  auto decoded = DecodeEvidenceRecord(der);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->digest_algorithms, std::vector<HashAlgorithm>{HashAlgorithm::kSha256});
  EXPECT_EQ(decoded->sequence[0][0].digest_algorithm, HashAlgorithm::kSha256);
}

TEST(EvidenceRecord, ToleratesAttributesCryptoInfosAndEncryptionInfo) {
  // Attribute ::= SEQUENCE { type OID, values SET OF ANY }
  const Bytes attribute = Tlv(0x30, Cat({Tlv(0x06, {0x2a, 0x03, 0x04}), Tlv(0x31, Tlv(0x02, {0x01}))}));
  const Bytes crypto_infos = Tlv(0xa0, attribute);
  const Bytes encryption_info = Tlv(0xa1, Cat({Tlv(0x06, {0x2a, 0x03, 0x05}), Tlv(0x04, {0x01, 0x02})}));
  const Bytes ats = Tlv(0x30, Cat({Tlv(0xa1, attribute), kToken}));
  auto decoded =
      DecodeEvidenceRecord(RecordDer(Tlv(0x30, kSha256Oid), ats, Cat({crypto_infos, encryption_info})));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->sequence[0][0].time_stamp, kToken);
  EXPECT_FALSE(decoded->sequence[0][0].reduced_hashtree.has_value());
}

TEST(EvidenceRecord, RejectsTrailingBytes) {
  auto der = EncodeEvidenceRecord(NewEvidenceRecord(HashAlgorithm::kSha256, std::nullopt, kToken));
  ASSERT_TRUE(der.ok());
  der->push_back(0x00);
  auto decoded = DecodeEvidenceRecord(*der);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("unexpected bytes"), std::string::npos) << decoded.status().ToString();
}

TEST(EvidenceRecord, RejectsEveryTruncation) {
  auto der = EncodeEvidenceRecord(
      NewEvidenceRecord(HashAlgorithm::kSha256, ReducedHashtree{{Member(1), Member(2)}, {Member(3)}}, kToken));
  ASSERT_TRUE(der.ok());
  for (std::size_t n = 0; n < der->size(); ++n)
    EXPECT_FALSE(DecodeEvidenceRecord(ByteView(der->data(), n)).ok()) << "prefix of " << n << " bytes";
}

TEST(EvidenceRecord, SurvivesEveryFlippedByte) {
  auto der = EncodeEvidenceRecord(
      NewEvidenceRecord(HashAlgorithm::kSha256, ReducedHashtree{{Member(1), Member(2)}, {Member(3)}}, kToken));
  ASSERT_TRUE(der.ok());
  for (std::size_t i = 0; i < der->size(); ++i) {
    for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      Bytes hostile = *der;
      hostile[i] ^= mask;
      auto decoded = DecodeEvidenceRecord(hostile);  // an error or a record, never a crash
      if (decoded.ok()) {
        EXPECT_FALSE(decoded->sequence.empty());
      }
    }
  }
}

TEST(EvidenceRecord, RejectsWrongVersionUnknownAlgorithmAndStrangeParameters) {
  const Bytes ats = Tlv(0x30, kToken);
  Bytes v2 = RecordDer(Tlv(0x30, kSha256Oid), ats);
  v2[4] = 0x02;  // 30 len 02 01 [01]
  auto decoded = DecodeEvidenceRecord(v2);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("version"), std::string::npos);

  decoded = DecodeEvidenceRecord(RecordDer(Tlv(0x30, kMd5Oid), ats));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("1.2.840.113549.2.5"), std::string::npos) << decoded.status().ToString();

  decoded = DecodeEvidenceRecord(RecordDer(Tlv(0x30, Cat({kSha512Oid, Tlv(0x02, {0x01})})), ats));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("parameters"), std::string::npos);
}

TEST(EvidenceRecord, RejectsEmptyChainsAndNonSequenceToken) {
  const Bytes no_chain = Tlv(0x30, Cat({Tlv(0x02, {0x01}), Tlv(0x30, Tlv(0x30, kSha256Oid)), Tlv(0x30, {})}));
  EXPECT_FALSE(DecodeEvidenceRecord(no_chain).ok());
  const Bytes empty_chain =
      Tlv(0x30, Cat({Tlv(0x02, {0x01}), Tlv(0x30, Tlv(0x30, kSha256Oid)), Tlv(0x30, Tlv(0x30, {}))}));
  EXPECT_FALSE(DecodeEvidenceRecord(empty_chain).ok());
  EXPECT_FALSE(DecodeEvidenceRecord(RecordDer(Tlv(0x30, kSha256Oid), Tlv(0x30, Tlv(0x04, {0x01})))).ok());
  EXPECT_FALSE(DecodeEvidenceRecord(Bytes{}).ok());
  EXPECT_FALSE(DecodeEvidenceRecord(Bytes{0x04, 0x00}).ok());
}

TEST(EvidenceRecord, EncodingRejectsATokenThatIsNotOneSequence) {
  EXPECT_FALSE(EncodeEvidenceRecord(NewEvidenceRecord(HashAlgorithm::kSha256, std::nullopt, {})).ok());
  EXPECT_FALSE(EncodeEvidenceRecord(NewEvidenceRecord(HashAlgorithm::kSha256, std::nullopt, {0x04, 0x00})).ok());
  Bytes trailing = kToken;
  trailing.push_back(0);
  EXPECT_FALSE(EncodeEvidenceRecord(NewEvidenceRecord(HashAlgorithm::kSha256, std::nullopt, trailing)).ok());
}

TEST(EvidenceRecord, HashTreeRenewalGroupHashesDataFirstThenTheSequence) {
  EvidenceRecord record = NewEvidenceRecord(HashAlgorithm::kSha256, std::nullopt, kToken);
  const Bytes d = Digest(HashAlgorithm::kSha512, AsBytes("letter"));
  auto group = HashTreeRenewalGroup(record, HashAlgorithm::kSha512, {d});
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  // ha = H'(ArchiveTimeStampSequence) = H'(30 L 30 L 30 L token)
  const Bytes ha = Digest(HashAlgorithm::kSha512, Tlv(0x30, Tlv(0x30, Tlv(0x30, kToken))));
  EXPECT_EQ(*group, std::vector<Bytes>{Digest(HashAlgorithm::kSha512, Cat({d, ha}))});
  EXPECT_FALSE(HashTreeRenewalGroup(record, HashAlgorithm::kSha512, {Member(1)}).ok());  // a SHA-256 size hash
}

// Where the TLV at `at` ends (definite lengths only, as DER has).
std::size_t SkipTlv(const Bytes& der, std::size_t at) {
  std::size_t length = der.at(at + 1);
  std::size_t header = 2;
  if (length & 0x80) {
    const std::size_t bytes = length & 0x7f;
    length = 0;
    for (std::size_t i = 0; i < bytes; ++i) length = length << 8 | der.at(at + 2 + i);
    header += bytes;
  }
  return at + header + length;
}

// A hash-tree renewal hashes the ArchiveTimeStampSequence written directly,
// not through the ASN.1 templates: it must be the same DER as the sequence in
// the record the templates write (its last field), whatever the lengths.
TEST(EvidenceRecord, HashTreeRenewalHashesTheSequenceTheRecordEncodes) {
  auto token_of = [](std::size_t size, std::uint8_t fill) { return Tlv(0x30, Tlv(0x04, Bytes(size, fill))); };
  std::vector<Bytes> tokens = {kToken, token_of(120, 1), token_of(300, 2), token_of(70000, 3)};
  ASSERT_EQ(tokens[3][1], 0x83);  // a three-byte length
  EvidenceRecord record;
  record.digest_algorithms = {HashAlgorithm::kSha256, HashAlgorithm::kSha512};
  for (int chain = 0; chain < 3; ++chain) {
    ArchiveTimeStampChain atss;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      ArchiveTimeStamp ats;
      ats.time_stamp = tokens[(t + static_cast<std::size_t>(chain)) % tokens.size()];
      if (t % 2 == 1) {
        ats.digest_algorithm = chain == 2 ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256;
        ReducedHashtree tree;
        for (std::size_t level = 0; level < t * 5; ++level) tree.push_back({Member(static_cast<std::uint8_t>(level))});
        tree.push_back({});  // an empty list encodes as 30 00
        ats.reduced_hashtree = tree;
      }
      atss.push_back(std::move(ats));
    }
    record.sequence.push_back(std::move(atss));
  }
  auto der = EncodeEvidenceRecord(record);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  // EvidenceRecord ::= SEQUENCE { version, digestAlgorithms, archiveTimeStampSequence }
  std::size_t at = (*der)[1] & 0x80 ? 2 + ((*der)[1] & 0x7f) : 2;
  at = SkipTlv(*der, at);  // version
  at = SkipTlv(*der, at);  // digestAlgorithms
  const Bytes sequence(der->begin() + static_cast<std::ptrdiff_t>(at), der->end());
  ASSERT_EQ(SkipTlv(sequence, 0), sequence.size());
  const Bytes d = Digest(HashAlgorithm::kSha512, AsBytes("letter"));
  auto group = HashTreeRenewalGroup(record, HashAlgorithm::kSha512, {d});
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(*group,
            std::vector<Bytes>{Digest(HashAlgorithm::kSha512, Cat({d, Digest(HashAlgorithm::kSha512, sequence)}))});

  // The same bytes, so the same ha, from views of the values and tokens
  // where they lie, appended to what the buffer held; refused when the
  // chains' sizes do not add up to the ATSs given.
  auto ha = HashTreeRenewalSequenceHash(record, HashAlgorithm::kSha512);
  ASSERT_TRUE(ha.ok()) << ha.status().ToString();
  EXPECT_EQ(*ha, Digest(HashAlgorithm::kSha512, sequence));
  std::vector<std::vector<ByteView>> values;  // each list's
  std::vector<std::vector<std::span<const ByteView>>> lists;  // each ATS's
  std::vector<ArchiveTimeStampView> views;
  std::vector<std::size_t> chain_sizes;
  for (const ArchiveTimeStampChain& chain : record.sequence) {
    for (const ArchiveTimeStamp& ats : chain)
      if (ats.reduced_hashtree)
        for (const PartialHashtree& list : *ats.reduced_hashtree) values.emplace_back(list.begin(), list.end());
  }
  std::size_t next_list = 0;
  for (const ArchiveTimeStampChain& chain : record.sequence) {
    for (const ArchiveTimeStamp& ats : chain) {
      ArchiveTimeStampView& view = views.emplace_back();
      view.digest_algorithm = ats.digest_algorithm;
      view.time_stamp = ats.time_stamp;
      if (!ats.reduced_hashtree) continue;
      auto& tree = lists.emplace_back();
      for (std::size_t k = 0; k < ats.reduced_hashtree->size(); ++k) tree.emplace_back(values[next_list++]);
    }
    chain_sizes.push_back(chain.size());
  }
  for (std::size_t i = 0, tree = 0; i < views.size(); ++i)
    if (views[i].digest_algorithm) views[i].reduced_hashtree = lists[tree++];
  Bytes encoded = {0x01};
  ASSERT_TRUE(AppendArchiveTimeStampSequence(views, chain_sizes, encoded).ok());
  EXPECT_EQ(encoded, Cat({{0x01}, sequence}));
  Bytes not_encoded;
  const std::span<const ArchiveTimeStampView> all(views);
  EXPECT_FALSE(AppendArchiveTimeStampSequence(all.first(all.size() - 1), chain_sizes, not_encoded).ok());
  chain_sizes.back() -= 1;
  EXPECT_FALSE(AppendArchiveTimeStampSequence(views, chain_sizes, not_encoded).ok());

  // A token that is not one definite-length DER SEQUENCE is refused, naming where it is.
  for (const Bytes& bad : {Bytes{}, Bytes{0x04, 0x00}, Bytes{0x30, 0x80, 0x00, 0x00}, Cat({kToken, {0x00}})}) {
    record.sequence[1][2].time_stamp = bad;
    auto refused = HashTreeRenewalGroup(record, HashAlgorithm::kSha512, {d});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("chain 2, ATS 3"), std::string::npos) << refused.status().message();
  }
}

}  // namespace
}  // namespace preserve::timestamp
