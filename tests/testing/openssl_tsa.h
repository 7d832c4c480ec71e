// A TSA run by `openssl ts -reply`: an independent RFC 3161 implementation for
// interop tests, with a PKI made by the openssl command line.
#pragma once

#include <filesystem>
#include <string>

#include "testing.h"

namespace preserve::testing {

struct OpenSslTsaOptions {
  std::string ess_cert_id_alg = "sha256";  // sha1: ESSCertID (RFC 2634); sha256: ESSCertIDv2 (RFC 5816)
  bool ess_cert_id_chain = false;          // ESS ids for the CA too
};

// Makes, in `dir`: ca.pem/ca.key (EC P-256 CA), tsa.pem/tsa.key (its TSA, with
// the critical timeStamping EKU), serial, and openssl.cnf with the [tsa]
// section `openssl ts -reply` reads (default policy 1.2.3.4.1, also 1.2.3.4.5;
// SHA-256/384/512). Fails the current test when openssl fails or is missing.
void MakeOpenSslTsa(const std::filesystem::path& dir, const OpenSslTsaOptions& options = {});

// Answers the DER request in `query` with `openssl ts -reply` into `reply`.
CommandResult OpenSslTsReply(const std::filesystem::path& dir, const std::filesystem::path& query,
                             const std::filesystem::path& reply);

}  // namespace preserve::testing
