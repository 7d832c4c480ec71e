// Loading X.509 certificates given by users (trust anchors, pools).
#pragma once

#include <filesystem>
#include <string>
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

}  // namespace preserve
