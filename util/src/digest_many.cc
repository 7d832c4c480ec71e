// DigestMany: SHA-2 over many messages at once, one message per vector
// lane (the "multi-buffer" method of Intel's ISA-L crypto library).
//
// Why: a hash-tree renewal hashes every stored object, and each subject's
// evidence, afresh: millions of short, independent messages. OpenSSL hashes
// one message at a time, each round's steps waiting on the last; SHA-512's
// 64-bit arithmetic has no instructions of its own on these CPUs. With
// AVX-512, eight SHA-512 (or sixteen SHA-256) messages go through the rounds
// side by side in one set of registers, at the same instruction count as one
// message in scalar code: several times OpenSSL's rate for SHA-384/512.
//
// Safety: the vector code is used only when the CPU has the instructions and
// when, at first use, it gives OpenSSL's digests for messages of every
// length class in every lane (SelfTestPasses). Otherwise OpenSSL does all.
// tests/util/digest_many_test.cc compares it with OpenSSL on random sets.
// GCC 12's AVX-512 intrinsics start some results from _mm512_undefined_*(),
// which -Wmaybe-uninitialized takes for a read of an uninitialized value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "preserve/util/digest.h"

namespace preserve {

namespace {

alignas(64) constexpr std::uint64_t kSha512Rounds[80] = {
    0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
    0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
    0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
    0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
    0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
    0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
    0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
    0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
    0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
    0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
    0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
    0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
    0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
    0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
    0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
    0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
    0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
    0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
    0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
    0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull};
constexpr std::uint64_t kSha512Initial[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull};
constexpr std::uint64_t kSha384Initial[8] = {
    0xcbbb9d5dc1059ed8ull, 0x629a292a367cd507ull, 0x9159015a3070dd17ull, 0x152fecd8f70e5939ull, 0x67332667ffc00b31ull, 0x8eb44a8768581511ull, 0xdb0c2e0d64f98fa7ull, 0x47b5481dbefa4fa4ull};
alignas(64) constexpr std::uint32_t kSha256Rounds[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};
constexpr std::uint32_t kSha256Initial[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};

// A message as one lane sees it: its whole blocks where they lie, then its
// last bytes with the padding and length (FIPS 180-4, 5.1) in `tail`.
template <std::size_t kBlock>
struct Lane {
  const std::uint8_t* whole = nullptr;
  std::size_t whole_blocks = 0;
  std::size_t blocks = 0;  // whole and tail
  alignas(64) std::uint8_t tail[2 * kBlock] = {};

  // kLengthBytes: 16 for SHA-384/512, 8 for SHA-256.
  template <std::size_t kLengthBytes>
  void Set(ByteView message) {
    whole = message.data();
    whole_blocks = message.size() / kBlock;
    const std::size_t rest = message.size() % kBlock;
    const std::size_t tail_blocks = rest + 1 + kLengthBytes <= kBlock ? 1 : 2;
    blocks = whole_blocks + tail_blocks;
    std::memset(tail, 0, sizeof tail);
    if (rest > 0) std::memcpy(tail, message.data() + whole_blocks * kBlock, rest);
    tail[rest] = 0x80;
    // The length in bits, big-endian, at the end of the last block; a
    // std::size_t's bits fit in 64 (SHA-512's upper 64 bits stay zero, as
    // for any message under 2^61 bytes).
    const std::uint64_t bits = static_cast<std::uint64_t>(message.size()) << 3;
    std::uint8_t* end = tail + tail_blocks * kBlock;
    for (int i = 1; i <= 8; ++i) end[-i] = static_cast<std::uint8_t>(bits >> (8 * (i - 1)));
  }
  // Where block `b` lies: past the last, any readable block (the lane is then
  // masked off).
  const std::uint8_t* Block(std::size_t b) const {
    if (b < whole_blocks) return whole + b * kBlock;
    if (b < blocks) return tail + (b - whole_blocks) * kBlock;
    return tail;
  }
};

#define PRESERVE_AVX512 __attribute__((target("avx512f,avx512bw")))

// What differs between SHA-512 (and SHA-384) and SHA-256 when their lanes go
// through the rounds side by side: the word (64 or 32 bits, so 8 or 16
// lanes), the block, the rounds, their constants and the rotations (FIPS
// 180-4, 4.1.2 and 4.1.3). The bitwise steps (ternary logic) are the same.
struct Sha512Words {
  using Word = std::uint64_t;
  using Mask = __mmask8;
  static constexpr std::size_t kLanes = 8;
  static constexpr std::size_t kBlock = 128;
  static constexpr int kRounds = 80;
  static constexpr const Word* kRoundConstants = kSha512Rounds;
  static constexpr int kSum0[3] = {28, 34, 39}, kSum1[3] = {14, 18, 41};
  static constexpr int kSigma0[3] = {1, 8, 7}, kSigma1[3] = {19, 61, 6};  // two rotations, then a shift

  PRESERVE_AVX512 static __m512i Add(__m512i a, __m512i b) { return _mm512_add_epi64(a, b); }
  PRESERVE_AVX512 static __m512i MaskAdd(__m512i a, Mask active, __m512i b) {
    return _mm512_mask_add_epi64(a, active, a, b);
  }
  template <int kBits>
  PRESERVE_AVX512 static __m512i Ror(__m512i x) { return _mm512_ror_epi64(x, kBits); }
  template <int kBits>
  PRESERVE_AVX512 static __m512i Shr(__m512i x) { return _mm512_srli_epi64(x, kBits); }
  PRESERVE_AVX512 static __m512i Broadcast(Word w) { return _mm512_set1_epi64(static_cast<long long>(w)); }
  // Word t of each lane's block (its bytes as they lie), from the lanes'
  // distances to `base`: one gather.
  PRESERVE_AVX512 static __m512i Gather(const long long (&offsets)[kLanes], const std::uint8_t* base, int t) {
    return _mm512_i64gather_epi64(_mm512_load_si512(offsets), base + 8 * t, 1);
  }
  // Reverses the bytes of each word: the message is big-endian.
  PRESERVE_AVX512 static __m512i ByteSwap(__m512i x) {
    const __m512i order = _mm512_set_epi64(0x08090a0b0c0d0e0fll, 0x0001020304050607ll, 0x08090a0b0c0d0e0fll,
                                           0x0001020304050607ll, 0x08090a0b0c0d0e0fll, 0x0001020304050607ll,
                                           0x08090a0b0c0d0e0fll, 0x0001020304050607ll);
    return _mm512_shuffle_epi8(x, order);
  }
};

struct Sha256Words {
  using Word = std::uint32_t;
  using Mask = __mmask16;
  static constexpr std::size_t kLanes = 16;
  static constexpr std::size_t kBlock = 64;
  static constexpr int kRounds = 64;
  static constexpr const Word* kRoundConstants = kSha256Rounds;
  static constexpr int kSum0[3] = {2, 13, 22}, kSum1[3] = {6, 11, 25};
  static constexpr int kSigma0[3] = {7, 18, 3}, kSigma1[3] = {17, 19, 10};

  PRESERVE_AVX512 static __m512i Add(__m512i a, __m512i b) { return _mm512_add_epi32(a, b); }
  PRESERVE_AVX512 static __m512i MaskAdd(__m512i a, Mask active, __m512i b) {
    return _mm512_mask_add_epi32(a, active, a, b);
  }
  template <int kBits>
  PRESERVE_AVX512 static __m512i Ror(__m512i x) { return _mm512_ror_epi32(x, kBits); }
  template <int kBits>
  PRESERVE_AVX512 static __m512i Shr(__m512i x) { return _mm512_srli_epi32(x, kBits); }
  PRESERVE_AVX512 static __m512i Broadcast(Word w) { return _mm512_set1_epi32(static_cast<int>(w)); }
  // Two gathers of eight 32-bit words: lanes 0-7, then 8-15.
  PRESERVE_AVX512 static __m512i Gather(const long long (&offsets)[kLanes], const std::uint8_t* base, int t) {
    const __m256i first = _mm512_i64gather_epi32(_mm512_load_si512(offsets), base + 4 * t, 1);
    const __m256i second = _mm512_i64gather_epi32(_mm512_load_si512(offsets + 8), base + 4 * t, 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(first), second, 1);
  }
  PRESERVE_AVX512 static __m512i ByteSwap(__m512i x) {
    const __m512i order = _mm512_set_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203, 0x0c0d0e0f, 0x08090a0b,
                                           0x04050607, 0x00010203, 0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203,
                                           0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    return _mm512_shuffle_epi8(x, order);
  }
};

// x ^ y ^ z, and the two functions of three words, bit by bit (any word size).
PRESERVE_AVX512 __m512i Xor3(__m512i x, __m512i y, __m512i z) { return _mm512_ternarylogic_epi64(x, y, z, 0x96); }
PRESERVE_AVX512 __m512i Choose(__m512i e, __m512i f, __m512i g) { return _mm512_ternarylogic_epi64(e, f, g, 0xCA); }
PRESERVE_AVX512 __m512i Majority(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi64(a, b, c, 0xE8); }

// Up to W::kLanes messages through the compression function side by side,
// from `initial`; `out[j]` gets message j's first `out_words` state words,
// big-endian (six of SHA-384's eight).
template <typename W>
PRESERVE_AVX512 void HashLanes(std::span<Lane<W::kBlock>> lanes, const typename W::Word (&initial)[8],
                               std::size_t out_words, std::span<std::uint8_t* const> out) {
  __m512i state[8];
  for (int k = 0; k < 8; ++k) state[k] = W::Broadcast(initial[k]);
  std::size_t steps = 0;
  for (const auto& lane : lanes) steps = std::max(steps, lane.blocks);
  for (std::size_t step = 0; step < steps; ++step) {
    // Each lane's block, by its distance from lane 0's; lanes past their
    // last block compute on, unheeded (`active`).
    alignas(64) long long offsets[W::kLanes] = {};
    typename W::Mask active = 0;
    const std::uint8_t* base = lanes[0].Block(step);
    for (std::size_t j = 0; j < W::kLanes; ++j) {
      const Lane<W::kBlock>& lane = lanes[j < lanes.size() ? j : 0];
      offsets[j] = lane.Block(step) - base;
      if (j < lanes.size() && step < lane.blocks) active |= static_cast<typename W::Mask>(1u << j);
    }
    __m512i w[16];
#pragma GCC unroll 16
    for (int t = 0; t < 16; ++t) w[t] = W::ByteSwap(W::Gather(offsets, base, t));
    __m512i a = state[0], b = state[1], c = state[2], d = state[3];
    __m512i e = state[4], f = state[5], g = state[6], h = state[7];
#pragma GCC unroll 80
    for (int t = 0; t < W::kRounds; ++t) {
      if (t >= 16) {  // the message schedule, in place over the last 16 words
        const __m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
        const __m512i s0 = Xor3(W::template Ror<W::kSigma0[0]>(w15), W::template Ror<W::kSigma0[1]>(w15),
                                W::template Shr<W::kSigma0[2]>(w15));
        const __m512i s1 = Xor3(W::template Ror<W::kSigma1[0]>(w2), W::template Ror<W::kSigma1[1]>(w2),
                                W::template Shr<W::kSigma1[2]>(w2));
        w[t & 15] = W::Add(W::Add(w[t & 15], s0), W::Add(w[(t - 7) & 15], s1));
      }
      const __m512i sum1 =
          Xor3(W::template Ror<W::kSum1[0]>(e), W::template Ror<W::kSum1[1]>(e), W::template Ror<W::kSum1[2]>(e));
      const __m512i kw = W::Add(w[t & 15], W::Broadcast(W::kRoundConstants[t]));
      const __m512i t1 = W::Add(W::Add(h, sum1), W::Add(Choose(e, f, g), kw));
      const __m512i sum0 =
          Xor3(W::template Ror<W::kSum0[0]>(a), W::template Ror<W::kSum0[1]>(a), W::template Ror<W::kSum0[2]>(a));
      const __m512i t2 = W::Add(sum0, Majority(a, b, c));
      h = g;
      g = f;
      f = e;
      e = W::Add(d, t1);
      d = c;
      c = b;
      b = a;
      a = W::Add(t1, t2);
    }
    const __m512i ends[8] = {a, b, c, d, e, f, g, h};
    for (int k = 0; k < 8; ++k) state[k] = W::MaskAdd(state[k], active, ends[k]);
  }
  alignas(64) typename W::Word words[8][W::kLanes];
  for (int k = 0; k < 8; ++k) _mm512_store_si512(words[k], state[k]);
  for (std::size_t j = 0; j < lanes.size(); ++j)
    for (std::size_t k = 0; k < out_words; ++k)
      for (std::size_t i = 0; i < sizeof(typename W::Word); ++i)  // big-endian
        out[j][k * sizeof(typename W::Word) + i] =
            static_cast<std::uint8_t>(words[k][j] >> (8 * (sizeof(typename W::Word) - 1 - i)));
}

#undef PRESERVE_AVX512

bool CpuHasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return has;
}

// The vector code for `alg`, messages in lanes of similar length (fewest
// steps spent on lanes already done): sorted by length, in groups of a
// vector's lanes.
void DigestLanes(HashAlgorithm alg, std::span<const ByteView> messages, std::span<std::uint8_t> out) {
  const std::size_t size = HashAlgorithmSize(alg);
  std::vector<std::uint32_t> order(messages.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t x, std::uint32_t y) { return messages[x].size() < messages[y].size(); });
  const bool wide = alg != HashAlgorithm::kSha256;
  const std::size_t width = wide ? 8 : 16;
  std::array<Lane<128>, 8> lanes512;
  std::array<Lane<64>, 16> lanes256;
  std::array<std::uint8_t*, 16> targets{};
  for (std::size_t first = 0; first < order.size(); first += width) {
    const std::size_t count = std::min(width, order.size() - first);
    for (std::size_t j = 0; j < count; ++j) {
      const std::uint32_t m = order[first + j];
      targets[j] = out.data() + static_cast<std::size_t>(m) * size;
      if (wide)
        lanes512[j].Set<16>(messages[m]);
      else
        lanes256[j].Set<8>(messages[m]);
    }
    if (!wide)
      HashLanes<Sha256Words>(std::span(lanes256).first(count), kSha256Initial, 8, std::span(targets).first(count));
    else if (alg == HashAlgorithm::kSha384)
      HashLanes<Sha512Words>(std::span(lanes512).first(count), kSha384Initial, 6, std::span(targets).first(count));
    else
      HashLanes<Sha512Words>(std::span(lanes512).first(count), kSha512Initial, 8, std::span(targets).first(count));
  }
}

void DigestEach(HashAlgorithm alg, std::span<const ByteView> messages, std::span<std::uint8_t> out) {
  const std::size_t size = HashAlgorithmSize(alg);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Bytes digest = Digest(alg, messages[i]);
    std::copy(digest.begin(), digest.end(), out.begin() + static_cast<std::ptrdiff_t>(i * size));
  }
}

// The vector code against OpenSSL, once: every length about each block
// boundary and the padding's, in every lane, and lanes of unequal length.
bool SelfTestPasses(HashAlgorithm alg) {
  std::vector<Bytes> texts;
  for (std::size_t n = 0; n <= 300; ++n) {
    Bytes text(n);
    for (std::size_t i = 0; i < n; ++i) text[i] = static_cast<std::uint8_t>(i * 131 + n * 7 + 1);
    texts.push_back(std::move(text));
  }
  texts.push_back(Bytes(4099, 0x5a));
  std::vector<ByteView> messages(texts.begin(), texts.end());
  const std::size_t size = HashAlgorithmSize(alg);
  std::vector<std::uint8_t> vector_digests(messages.size() * size), openssl_digests(messages.size() * size);
  DigestLanes(alg, messages, vector_digests);
  DigestEach(alg, messages, openssl_digests);
  return vector_digests == openssl_digests;
}

}  // namespace

bool DigestManyIsVectorized(HashAlgorithm alg) {
  if (!CpuHasAvx512()) return false;
  switch (alg) {
    case HashAlgorithm::kSha256: {
      static const bool passes = SelfTestPasses(HashAlgorithm::kSha256);
      return passes;
    }
    case HashAlgorithm::kSha384: {
      static const bool passes = SelfTestPasses(HashAlgorithm::kSha384);
      return passes;
    }
    case HashAlgorithm::kSha512: {
      static const bool passes = SelfTestPasses(HashAlgorithm::kSha512);
      return passes;
    }
    default:
      return false;
  }
}

void DigestMany(HashAlgorithm alg, std::span<const ByteView> messages, std::span<std::uint8_t> out) {
  if (DigestManyIsVectorized(alg))
    DigestLanes(alg, messages, out);
  else
    DigestEach(alg, messages, out);
}

}  // namespace preserve
