#include "preserve/util/certificates.h"

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "preserve/util/digest.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve {

Result<std::vector<Bytes>> CertificatesFromPem(ByteView pem) {
  BioPtr bio = MemoryBio(pem);
  std::vector<Bytes> out;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(ToDer(i2d_X509, cert.get()));
  }
  ERR_clear_error();  // the loop ends on an expected "no start line"
  if (out.empty()) return Status::InvalidArgument("no PEM certificate found");
  return out;
}

namespace {

Result<std::vector<Bytes>> CertificatesFromFile(const std::filesystem::path& path) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes data, ReadFile(path));
  auto pem = CertificatesFromPem(data);
  if (pem.ok()) return pem;
  const unsigned char* p = data.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
  if (!cert) {
    ERR_clear_error();
    return Status::InvalidArgument(path.string() + ": not a PEM or DER certificate");
  }
  return std::vector<Bytes>{ToDer(i2d_X509, cert.get())};
}

Result<std::vector<Bytes>> CrlsFromFile(const std::filesystem::path& path) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes data, ReadFile(path));
  std::vector<Bytes> out;
  BioPtr bio = MemoryBio(data);
  while (true) {
    X509CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (!crl) break;
    out.push_back(ToDer(i2d_X509_CRL, crl.get()));
  }
  ERR_clear_error();  // the PEM loop ends on an expected "no start line"
  if (!out.empty()) return out;
  const unsigned char* p = data.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
  if (!crl) {
    ERR_clear_error();
    return Status::InvalidArgument(path.string() + ": not a PEM or DER CRL");
  }
  return std::vector<Bytes>{ToDer(i2d_X509_CRL, crl.get())};
}

Result<std::vector<Bytes>> OcspResponseFromFile(const std::filesystem::path& path) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes data, ReadFile(path));
  const unsigned char* p = data.data();
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(data.size())));
  if (!response) {
    ERR_clear_error();
    return Status::InvalidArgument(path.string() + ": not a DER OCSP response");
  }
  return std::vector<Bytes>{std::move(data)};
}

// A file, or every file of a directory with one of `extensions`, in name order.
Result<std::vector<Bytes>> LoadFileOrDirectory(
    const std::filesystem::path& file_or_dir, std::initializer_list<std::string_view> extensions,
    const std::function<Result<std::vector<Bytes>>(const std::filesystem::path&)>& load, std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::exists(file_or_dir, ec))
    return Status::NotFound(file_or_dir.string() + ": no such file or directory");
  if (!std::filesystem::is_directory(file_or_dir, ec)) return load(file_or_dir);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(file_or_dir, ec)) {
    std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && std::find(extensions.begin(), extensions.end(), ext) != extensions.end())
      files.push_back(entry.path());
  }
  if (ec) return Status::IOError(file_or_dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Bytes> out;
  for (const auto& f : files) {
    PRESERVE_ASSIGN_OR_RETURN(auto items, load(f));
    out.insert(out.end(), items.begin(), items.end());
  }
  if (out.empty()) return Status::InvalidArgument(file_or_dir.string() + ": no " + std::string(what) + " in directory");
  return out;
}

}  // namespace

Result<std::vector<Bytes>> LoadCertificates(const std::filesystem::path& file_or_dir) {
  return LoadFileOrDirectory(file_or_dir, {".pem", ".crt", ".cer", ".der"}, CertificatesFromFile, "certificate");
}

Result<std::vector<Bytes>> LoadCrls(const std::filesystem::path& file_or_dir) {
  return LoadFileOrDirectory(file_or_dir, {".crl", ".pem", ".der"}, CrlsFromFile, "CRL");
}

Result<std::vector<Bytes>> LoadOcspResponses(const std::filesystem::path& file_or_dir) {
  return LoadFileOrDirectory(file_or_dir, {".ocsp", ".der", ".resp"}, OcspResponseFromFile, "OCSP response");
}

Result<std::string> CertificateToPem(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Status::InvalidArgument(OpenSslFailure("not a DER certificate"));
  BioPtr out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(out.get(), cert.get()) != 1) return Status::Internal(OpenSslFailure("PEM_write_bio_X509"));
  return ToString(BioContents(out.get()));
}

std::string CertificateSubject(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    ERR_clear_error();
    return "";
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  // Keep UTF-8 as is: subjects are Vietnamese names, read by people.
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB));
  return ToString(BioContents(out.get()));
}

bool IsSelfIssued(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    ERR_clear_error();
    return false;
  }
  return X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) == 0;
}

std::string CertificateFingerprint(ByteView der) {
  const std::string hex = ToHex(Digest(HashAlgorithm::kSha256, der));
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i != 0) out.push_back(':');
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i]))));
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i + 1]))));
  }
  return out;
}

Result<Bytes> ParseSha256Fingerprint(std::string_view text) {
  std::string_view rest = text;
  for (std::string_view prefix : {"SHA256:", "sha256:", "SHA-256:", "sha-256:"})
    if (rest.substr(0, prefix.size()) == prefix) {
      rest.remove_prefix(prefix.size());
      break;
    }
  std::string hex;
  for (char c : rest)
    if (c != ':') hex.push_back(c);
  auto bytes = FromHex(hex);
  if (!bytes.ok() || bytes->size() != 32)
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a SHA-256 fingerprint (64 hex digits, as 'SHA256:AB:CD:...')");
  return bytes;
}

Result<TimePoint> CertificateNotAfter(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Status::InvalidArgument(OpenSslFailure("not a DER certificate"));
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1)
    return Status::InvalidArgument(OpenSslFailure("unreadable notAfter"));
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

}  // namespace preserve
