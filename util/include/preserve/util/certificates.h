// Loading X.509 certificates given by users (trust anchors, pools).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"

namespace preserve {

// Reads certificates from a file (PEM with one or more certificates, or one
// DER certificate) or from every *.pem, *.crt, *.cer, *.der file of a
// directory. Returns them as DER. Fails when none is found.
Result<std::vector<Bytes>> LoadCertificates(const std::filesystem::path& file_or_dir);

// Revocation data given by users, as DER: CRLs (PEM or DER; a directory's
// *.crl, *.pem, *.der files) and OCSP responses (DER; a directory's *.ocsp,
// *.der, *.resp files). Fail when none is found or a file does not parse.
Result<std::vector<Bytes>> LoadCrls(const std::filesystem::path& file_or_dir);
Result<std::vector<Bytes>> LoadOcspResponses(const std::filesystem::path& file_or_dir);

// Parses PEM text holding one or more certificates, as DER.
Result<std::vector<Bytes>> CertificatesFromPem(ByteView pem);

// PEM text of one DER certificate.
Result<std::string> CertificateToPem(ByteView der);

// One-line RFC 2253 subject of a DER certificate ("" if it does not parse).
std::string CertificateSubject(ByteView der);

// The certificate's notAfter, for scheduling renewals before it.
Result<TimePoint> CertificateNotAfter(ByteView der);

// Whether its issuer is its subject (a root, or a self-signed leaf); false if it does not parse.
bool IsSelfIssued(ByteView der);

// The SHA-256 fingerprint people compare, as `openssl x509 -noout
// -fingerprint -sha256` prints it: "AB:CD:...:EF" (of the DER bytes given).
std::string CertificateFingerprint(ByteView der);
// Reads a fingerprint as people write it: "SHA256:AB:CD:...", "sha256:abcd...",
// or 64 hex digits with or without colons. kInvalidArgument otherwise.
Result<Bytes> ParseSha256Fingerprint(std::string_view text);

}  // namespace preserve
