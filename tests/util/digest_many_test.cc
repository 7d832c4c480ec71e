// DigestMany (util/src/digest_many.cc) against OpenSSL one message at a time:
// random sets of random lengths, every length near a block boundary, lanes of
// very unequal length, and each message alone.
#include <gtest/gtest.h>

#include <random>

#include "preserve/util/digest.h"

namespace preserve {
namespace {

constexpr HashAlgorithm kAlgorithms[] = {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512,
                                         HashAlgorithm::kSha3_256};

// Every message's digest from DigestMany equals Digest's (OpenSSL).
void ExpectSameAsOpenSsl(HashAlgorithm alg, const std::vector<Bytes>& texts) {
  const std::vector<ByteView> messages(texts.begin(), texts.end());
  const std::size_t size = HashAlgorithmSize(alg);
  std::vector<std::uint8_t> out(messages.size() * size, 0xEE);
  DigestMany(alg, messages, out);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Bytes expected = Digest(alg, messages[i]);
    ASSERT_EQ(ToHex(ByteView(out).subspan(i * size, size)), ToHex(expected))
        << HashAlgorithmName(alg) << ", message " << i << " of " << messages.size() << ", " << messages[i].size()
        << " bytes";
  }
}

Bytes RandomText(std::mt19937_64& random, std::size_t size) {
  Bytes text(size);
  for (auto& b : text) b = static_cast<std::uint8_t>(random());
  return text;
}

TEST(DigestMany, EveryLengthAboutTheBlockBoundariesInEveryLane) {
  std::mt19937_64 random(1);
  std::vector<Bytes> texts;
  for (std::size_t n = 0; n <= 400; ++n) texts.push_back(RandomText(random, n));
  for (HashAlgorithm alg : kAlgorithms) ExpectSameAsOpenSsl(alg, texts);
}

TEST(DigestMany, RandomSetsOfRandomLengths) {
  std::mt19937_64 random(2);
  for (int round = 0; round < 40; ++round) {
    std::vector<Bytes> texts(random() % 70);  // fewer, as many and more than a vector's lanes
    const std::size_t longest = round % 2 == 0 ? 300 : 20000;
    for (auto& text : texts) text = RandomText(random, random() % longest);
    for (HashAlgorithm alg : kAlgorithms) ExpectSameAsOpenSsl(alg, texts);
  }
}

TEST(DigestMany, LanesOfVeryUnequalLength) {
  // One long message among short ones: the short lanes finish many steps
  // before the long one, and must keep their digests.
  std::mt19937_64 random(3);
  std::vector<Bytes> texts;
  for (int i = 0; i < 15; ++i) texts.push_back(RandomText(random, static_cast<std::size_t>(i)));
  texts.push_back(RandomText(random, 100000));
  for (HashAlgorithm alg : kAlgorithms) ExpectSameAsOpenSsl(alg, texts);
}

TEST(DigestMany, OneMessageAndNone) {
  std::mt19937_64 random(4);
  for (HashAlgorithm alg : kAlgorithms) {
    ExpectSameAsOpenSsl(alg, {RandomText(random, 111)});
    ExpectSameAsOpenSsl(alg, {});
  }
}

TEST(DigestMany, KnownAnswers) {
  // FIPS 180-4's "abc" examples, so that the test does not rest on OpenSSL alone.
  const Bytes abc = ToBytes("abc");
  const std::vector<ByteView> messages(9, ByteView(abc));  // more than one vector of SHA-384/512's
  std::vector<std::uint8_t> out(messages.size() * 48);
  DigestMany(HashAlgorithm::kSha384, messages, out);
  for (std::size_t i = 0; i < messages.size(); ++i)
    EXPECT_EQ(ToHex(ByteView(out).subspan(i * 48, 48)),
              "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  std::vector<std::uint8_t> out256(32);
  DigestMany(HashAlgorithm::kSha256, std::span(messages).first(1), out256);
  EXPECT_EQ(ToHex(out256), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace preserve
