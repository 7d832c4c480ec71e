// Hash algorithms: names, OIDs and (streaming) digests over OpenSSL EVP.
//
// Which algorithm may still be used for new evidence is policy, decided by the
// algorithm catalogue in timestamp/; this file only knows how to compute them.
// SHA-1 is here so old evidence can still be verified, never to make new.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "preserve/util/bytes.h"

namespace preserve {

enum class HashAlgorithm { kSha1, kSha256, kSha384, kSha512, kSha3_256, kSha3_384, kSha3_512 };

std::string_view HashAlgorithmName(HashAlgorithm alg);         // "SHA-256"
std::string_view HashAlgorithmOid(HashAlgorithm alg);          // "2.16.840.1.101.3.4.2.1"
std::size_t HashAlgorithmSize(HashAlgorithm alg);              // output bytes
Result<HashAlgorithm> HashAlgorithmFromName(std::string_view name);  // "sha256", "SHA-256", "sha3-256"
Result<HashAlgorithm> HashAlgorithmFromOid(std::string_view dotted_oid);

Bytes Digest(HashAlgorithm alg, ByteView data);

// The digests of many independent messages: message i's at
// out[i * HashAlgorithmSize(alg)], `out` holding messages.size() of them.
// Where the CPU has AVX-512, SHA-384 and SHA-512 hash eight messages side by
// side and SHA-256 sixteen (digest_many.cc), several times OpenSSL's rate for
// SHA-384/512 over short messages; elsewhere, and for other algorithms,
// OpenSSL hashes them one by one. Same digests either way.
void DigestMany(HashAlgorithm alg, std::span<const ByteView> messages, std::span<std::uint8_t> out);
// Whether DigestMany hashes `alg` side by side here: the CPU has the
// instructions, and the vector code gave OpenSSL's digests when first asked.
bool DigestManyIsVectorized(HashAlgorithm alg);

// For content too large to hold in memory.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm alg);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(ByteView data);
  Bytes Finish();  // the hasher may not be used afterwards, but for Restart
  // Starts a new digest under the same algorithm, in the same context: for
  // many small objects, cheaper than a new Hasher each.
  void Restart();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Digest of a file, read in chunks.
Result<Bytes> DigestFile(HashAlgorithm alg, const std::filesystem::path& path);

// Fills `out` with cryptographically random bytes (OpenSSL RAND_bytes).
Status RandomBytes(std::span<std::uint8_t> out);

}  // namespace preserve
