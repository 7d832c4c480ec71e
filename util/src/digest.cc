#include "preserve/util/digest.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "preserve/util/bytes.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve {

namespace {

struct AlgorithmInfo {
  HashAlgorithm alg;
  std::string_view name;
  std::string_view oid;
  std::string_view openssl_name;
  std::size_t size;
};

constexpr std::array<AlgorithmInfo, 7> kAlgorithms = {{
    {HashAlgorithm::kSha1, "SHA-1", "1.3.14.3.2.26", "SHA1", 20},
    {HashAlgorithm::kSha256, "SHA-256", "2.16.840.1.101.3.4.2.1", "SHA256", 32},
    {HashAlgorithm::kSha384, "SHA-384", "2.16.840.1.101.3.4.2.2", "SHA384", 48},
    {HashAlgorithm::kSha512, "SHA-512", "2.16.840.1.101.3.4.2.3", "SHA512", 64},
    {HashAlgorithm::kSha3_256, "SHA3-256", "2.16.840.1.101.3.4.2.8", "SHA3-256", 32},
    {HashAlgorithm::kSha3_384, "SHA3-384", "2.16.840.1.101.3.4.2.9", "SHA3-384", 48},
    {HashAlgorithm::kSha3_512, "SHA3-512", "2.16.840.1.101.3.4.2.10", "SHA3-512", 64},
}};

const AlgorithmInfo& Info(HashAlgorithm alg) {
  for (const auto& a : kAlgorithms)
    if (a.alg == alg) return a;
  return kAlgorithms[1];  // unreachable: every enumerator is listed
}

// Fetched once per algorithm: EVP_MD_fetch is costly on a hot hashing path.
const EVP_MD* Md(HashAlgorithm alg) {
  static const std::array<EVP_MD*, 7> mds = [] {
    std::array<EVP_MD*, 7> out{};
    for (std::size_t i = 0; i < kAlgorithms.size(); ++i)
      out[i] = EVP_MD_fetch(nullptr, std::string(kAlgorithms[i].openssl_name).c_str(), nullptr);
    return out;
  }();
  return mds[static_cast<std::size_t>(alg)];
}

std::string Normalize(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '-' && c != '_') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace

std::string_view HashAlgorithmName(HashAlgorithm alg) { return Info(alg).name; }
std::string_view HashAlgorithmOid(HashAlgorithm alg) { return Info(alg).oid; }
std::size_t HashAlgorithmSize(HashAlgorithm alg) { return Info(alg).size; }

Result<HashAlgorithm> HashAlgorithmFromName(std::string_view name) {
  // The canonical spelling first, as stored records give it: decoding a
  // million evidence skeletons asks this some million times.
  for (const auto& a : kAlgorithms)
    if (a.name == name) return a.alg;
  std::string n = Normalize(name);
  for (const auto& a : kAlgorithms)
    if (Normalize(a.name) == n) return a.alg;
  return Status::InvalidArgument("unknown hash algorithm '" + std::string(name) + "'");
}

Result<HashAlgorithm> HashAlgorithmFromOid(std::string_view dotted_oid) {
  for (const auto& a : kAlgorithms)
    if (a.oid == dotted_oid) return a.alg;
  return Status::InvalidArgument("unsupported hash algorithm OID " + std::string(dotted_oid));
}

struct Hasher::Impl {
  EvpMdCtxPtr ctx;
  HashAlgorithm alg;
};

Hasher::Hasher(HashAlgorithm alg) : impl_(std::make_unique<Impl>()) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  impl_->alg = alg;
  EVP_DigestInit_ex(impl_->ctx.get(), Md(alg), nullptr);
}

void Hasher::Restart() { EVP_DigestInit_ex2(impl_->ctx.get(), Md(impl_->alg), nullptr); }

Hasher::~Hasher() = default;

void Hasher::Update(ByteView data) { EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()); }

Bytes Hasher::Finish() {
  Bytes out(static_cast<std::size_t>(EVP_MD_CTX_get_size(impl_->ctx.get())));
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len);
  out.resize(len);
  return out;
}

Bytes Digest(HashAlgorithm alg, ByteView data) {
  // One context per thread, started afresh for each digest: renewal hashes
  // millions of short inputs, and a new context each time costs a quarter
  // of hashing 96 bytes.
  thread_local const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes out(HashAlgorithmSize(alg));
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), Md(alg), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1)
    EVP_Digest(data.data(), data.size(), out.data(), &len, Md(alg), nullptr);  // as before, should a context fail
  out.resize(len);
  return out;
}

Result<Bytes> DigestFile(HashAlgorithm alg, const std::filesystem::path& path) {
  PRESERVE_ASSIGN_OR_RETURN(const FileDescriptor file, OpenRegularFile(path));
  Hasher hasher(alg);
  std::vector<std::uint8_t> buffer(1 << 20);
  while (true) {
    const ssize_t n = ::read(file.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(path.string() + ": read failed: " + std::strerror(errno));
    if (n == 0) return hasher.Finish();
    hasher.Update(ByteView(buffer.data(), static_cast<std::size_t>(n)));
  }
}

Status RandomBytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    return Status::Internal(OpenSslFailure("RAND_bytes"));
  return Status::Ok();
}

}  // namespace preserve
