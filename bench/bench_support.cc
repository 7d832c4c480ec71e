#include "bench_support.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "preserve/archive/bulk_load.h"
#include "preserve/package/manifest.h"

namespace preserve::bench {

using Seconds = std::chrono::duration<double>;
namespace fs = std::filesystem;

// ---- Timing ----

double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

Timer::Timer() : wall_(std::chrono::steady_clock::now()), cpu_(CpuSeconds()) {}
double Timer::wall() const { return Seconds(std::chrono::steady_clock::now() - wall_).count(); }
double Timer::cpu() const { return CpuSeconds() - cpu_; }

// Keep in step with bench_result in bench/bench_lib.sh: the same line.
void PrintResult(const std::string& bench, const std::string& phase, std::size_t n, double seconds, double rss_mib,
                 std::optional<double> baseline_seconds) {
  char baseline[32] = "-";
  if (baseline_seconds) std::snprintf(baseline, sizeof baseline, "%.6f", *baseline_seconds);
  std::printf("result bench=%s phase=%s n=%zu seconds=%.6f rss_mib=%.0f baseline_seconds=%s\n", bench.c_str(),
              phase.c_str(), n, seconds, rss_mib, baseline);
  std::fflush(stdout);
}

Bytes Sha256(ByteView data) {
  Bytes out(32);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

// ---- Synthetic packages ----

std::string ObjectPath(std::size_t j) {
  if (j + 1 == kObjectsPerPackage) return package::kManifestPath;
  if (j == 0) return "signatures/letter.p7s";
  return "documents/part-" + std::to_string(j) + ".txt";
}

namespace {

Bytes SmallContent(std::size_t package, std::size_t j) {
  return ToBytes("synthetic package " + std::to_string(package) + ", object " + std::to_string(j) +
                 ": a few dozen bytes of content\n");
}

}  // namespace

Bytes ObjectContent(std::size_t package, std::size_t j, std::size_t package_bytes) {
  Bytes content = SmallContent(package, j);
  if (j != 1 || package_bytes == 0) return content;
  std::size_t others = 0;
  for (std::size_t k = 0; k < kObjectsPerPackage; ++k)
    if (k != 1) others += SmallContent(package, k).size();
  // Text from a per-package xorshift stream, six bits a character: a
  // megabyte a millisecond or so, so a million packages of real size are
  // made (and made again for a baseline) in seconds, and compress as text does.
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n";
  static_assert(sizeof kAlphabet - 1 == 64);
  std::uint64_t x = 0x9E3779B97F4A7C15ull ^ (package + 1) * 0xBF58476D1CE4E5B9ull;
  while (content.size() + others < package_bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    for (int shift = 0; shift < 60 && content.size() + others < package_bytes; shift += 6)
      content.push_back(static_cast<std::uint8_t>(kAlphabet[(x >> shift) & 63]));
  }
  return content;
}

std::string SyntheticOrgan(std::size_t k) {
  static constexpr const char* kOrgans[kSyntheticOrgans] = {"UBND tỉnh Đắk Nông",
                                                            "Sở Tư pháp",
                                                            "Sở Tài chính",
                                                            "Sở Nội vụ",
                                                            "Sở Xây dựng",
                                                            "Sở Y tế",
                                                            "Sở Giáo dục và Đào tạo",
                                                            "Sở Công Thương",
                                                            "Sở Giao thông vận tải",
                                                            "Sở Tài nguyên và Môi trường",
                                                            "Sở Kế hoạch và Đầu tư",
                                                            "Sở Lao động - Thương binh và Xã hội",
                                                            "Sở Văn hóa, Thể thao và Du lịch",
                                                            "Sở Thông tin và Truyền thông",
                                                            "Sở Nông nghiệp và Phát triển nông thôn",
                                                            "Thanh tra tỉnh"};
  return kOrgans[k % kSyntheticOrgans];
}

package::RecordMetadata SyntheticMetadata(std::size_t i) {
  package::RecordMetadata m;
  char organ_id[16];
  std::snprintf(organ_id, sizeof organ_id, "000.00.%02zu.H17", i % kSyntheticOrgans);
  char date[16];
  std::snprintf(date, sizeof date, "%04zu-%02zu-%02zu", 2016 + i % 10, 1 + i / 10 % 12, 1 + i / 120 % 28);
  m.organ_id = organ_id;
  m.organ_name = SyntheticOrgan(i);
  m.code_number = std::to_string(i % 100000 + 1);
  m.code_notation = "UBND-BENCH";
  m.issued_date = date;
  m.type_name = "Công văn";
  m.subject = "Trích yếu văn bản tổng hợp số " + std::to_string(i);
  m.signer_position = "Chủ tịch";
  m.signer_full_name = "Nguyễn Văn An";
  return m;
}

namespace {

constexpr std::size_t kChunk = 10000;  // packages per WriteSet

// A manifest like ingest's for a detached CAdES signature over part-1, listing the other objects.
package::Manifest SyntheticManifest(std::size_t i, const std::string& id, TimePoint created,
                                    const std::vector<archive::LoadedObject>& objects) {
  package::Manifest m;
  m.package_id = id;
  m.created = created;
  m.producer = std::string(archive::ProducerName());
  m.decision = "accepted: every signature TOTAL-PASSED";
  m.trust_anchors = {"C=VN, O=Bench, CN=Bench Root CA"};
  m.metadata = SyntheticMetadata(i);
  for (const auto& o : objects)
    m.objects.push_back(
        {o.path, o.path.rfind(package::kDocumentsDir, 0) == 0 ? "document" : "signature", o.sha256, o.size});
  package::SignatureEntry s;
  s.signature_path = ObjectPath(0);
  s.document_path = ObjectPath(1);
  s.format = "CAdES detached";
  s.verdict = Verdict::kValid;
  s.signer_subject = "C=VN, O=" + SyntheticOrgan(i) + ", CN=Nguyễn Văn An";
  s.signer_organization = SyntheticOrgan(i);
  s.signing_time = created;
  s.signing_time_source = "signed attribute signingTime";
  s.digest_algorithm = "SHA-256";
  s.signature_algorithm = "RSA";
  s.revocation = "not checked";
  m.signatures.push_back(std::move(s));
  return m;
}

}  // namespace

Status WriteSyntheticPackages(storage::Store& store, const Clock& clock, std::size_t first, std::size_t count,
                              const SyntheticOptions& options) {
  const std::size_t end = first + count;
  for (std::size_t chunk = first; chunk < end; chunk += kChunk) {
    storage::WriteSet w;
    for (std::size_t i = chunk; i < std::min(end, chunk + kChunk); ++i) {
      PRESERVE_ASSIGN_OR_RETURN(std::string id, archive::NewPackageId(clock));
      std::vector<archive::LoadedObject> objects;
      std::optional<package::Manifest> manifest;
      for (std::size_t j = 0; j < kObjectsPerPackage; ++j) {
        if (options.manifest && j + 1 == kObjectsPerPackage)
          manifest = SyntheticManifest(i, id, options.created, objects);
        Bytes content = manifest ? package::ManifestToJson(*manifest) : ObjectContent(i, j, options.package_bytes);
        Bytes digest = Sha256(content);
        w.PutContent(digest, content);
        objects.push_back({ObjectPath(j), std::move(digest), content.size()});
      }
      archive::PutQueuedPackage(w, id, options.created, objects, manifest ? &*manifest : nullptr);
    }
    PRESERVE_RETURN_IF_ERROR(store.Commit(std::move(w)));
  }
  return Status::Ok();
}

// ---- Signed documents ----

std::string DocumentText(std::size_t i) {
  std::string text = "Công văn số " + std::to_string(i) + "/UBND-BENCH\n";
  std::uint64_t x = 0x9E3779B97F4A7C15ull ^ (i + 1) * 0xBF58476D1CE4E5B9ull;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,";
  while (text.size() < kDocumentBytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    text.push_back((text.size() % 80 == 79) ? '\n' : kAlphabet[x % (sizeof kAlphabet - 1)]);
  }
  text.resize(kDocumentBytes);
  return text;
}

fs::path DocumentPath(const fs::path& dir, std::size_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "doc-%05zu.txt", i);
  return dir / name;
}

std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += std::string(out.empty() ? "" : "; ") + buf;
  }
  return out;
}

namespace {

X509* ReadCert(const fs::path& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return nullptr;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return cert;
}

}  // namespace

Signer::~Signer() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
  sk_X509_pop_free(chain_, X509_free);
}

bool Signer::Load(const fs::path& pki, const std::string& name) {
  cert_ = ReadCert(pki / (name + ".pem"));
  FILE* f = std::fopen((pki / (name + ".key")).c_str(), "rb");
  if (f != nullptr) {
    key_ = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
  }
  chain_ = sk_X509_new_null();
  X509* issuing = ReadCert(pki / "issuing-ca.pem");
  if (issuing != nullptr) sk_X509_push(chain_, issuing);
  return cert_ != nullptr && key_ != nullptr && issuing != nullptr;
}

bool Signer::SignTo(BIO* data, const fs::path& out) const {
  CMS_ContentInfo* cms = CMS_sign(cert_, key_, chain_, data, CMS_BINARY | CMS_DETACHED);
  if (cms == nullptr) return false;
  BIO* file = BIO_new_file(out.c_str(), "wb");
  bool ok = file != nullptr && i2d_CMS_bio(file, cms) == 1;
  BIO_free(file);
  CMS_ContentInfo_free(cms);
  return ok;
}

Status SignDocuments(const Signer& signer, const fs::path& dir, std::size_t first, std::size_t count) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir.string() + ": " + ec.message());
  std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 16);
  std::atomic<bool> failed{false};
  auto run = [&](std::size_t t) {
    for (std::size_t k = count * t / threads; k < count * (t + 1) / threads && !failed; ++k) {
      std::size_t i = first + k;
      std::string text = DocumentText(i);
      fs::path doc = DocumentPath(dir, i);
      std::ofstream(doc, std::ios::binary).write(text.data(), static_cast<std::streamsize>(text.size()));
      BIO* data = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
      if (!signer.SignTo(data, doc.string() + ".p7s")) {
        std::cerr << "signing " << doc << ": " << OpenSslError() << "\n";
        failed = true;
      }
      BIO_free(data);
    }
  };
  std::vector<std::thread> workers;
  for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(run, t);
  run(0);
  for (auto& w : workers) w.join();
  return failed ? Status::Internal("signing documents failed (see above)") : Status::Ok();
}

}  // namespace preserve::bench
