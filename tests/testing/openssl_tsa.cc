#include "openssl_tsa.h"

#include <gtest/gtest.h>

namespace preserve::testing {

namespace {

// A PKI for `openssl req`/`openssl x509`, and the [tsa] section `openssl ts
// -reply` reads; MakeOpenSslTsa adds dir and the ESS settings.
constexpr const char* kOpenSslConfig = R"([req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[tsa]
default_tsa = tsa_config
[tsa_config]
serial = $dir/serial
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
)";

void OpenSsl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  CommandResult r = Run(args);
  ASSERT_EQ(r.exit_code, 0) << args[1] << ": exit " << r.exit_code << "\n" << r.out << r.err;
}

}  // namespace

void MakeOpenSslTsa(const std::filesystem::path& dir_path, const OpenSslTsaOptions& options) {
  std::string dir = dir_path.string();
  std::string cnf = dir + "/openssl.cnf";
  // $dir is expanded as the file is read, so it is set first, in the default section.
  std::string text = "dir = " + dir + "\n" + kOpenSslConfig + "ess_cert_id_chain = " +
                     (options.ess_cert_id_chain ? "yes" : "no") + "\n" + "ess_cert_id_alg = " +
                     options.ess_cert_id_alg + "\n";
  WriteFile(cnf, std::string_view(text));
  WriteFile(dir_path / "serial", std::string_view("01\n"));
  // clang-format off
  ASSERT_NO_FATAL_FAILURE(OpenSsl({"req", "-x509", "-config", cnf, "-extensions", "ca_ext",
           "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem",
           "-subj", "/O=Interop/CN=openssl test CA", "-days", "30", "-sha256"}));
  ASSERT_NO_FATAL_FAILURE(OpenSsl({"req", "-new", "-config", cnf,
           "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", dir + "/tsa.key", "-out", dir + "/tsa.csr", "-subj", "/O=Interop/CN=openssl test TSA"}));
  ASSERT_NO_FATAL_FAILURE(OpenSsl({"x509", "-req", "-in", dir + "/tsa.csr", "-CA", dir + "/ca.pem",
           "-CAkey", dir + "/ca.key", "-set_serial", "0x2a", "-days", "30", "-sha256", "-extfile", cnf,
           "-extensions", "tsa_ext", "-out", dir + "/tsa.pem"}));
  // clang-format on
}

CommandResult OpenSslTsReply(const std::filesystem::path& dir, const std::filesystem::path& query,
                             const std::filesystem::path& reply) {
  return Run({"openssl", "ts", "-reply", "-config", (dir / "openssl.cnf").string(), "-queryfile", query.string(),
              "-out", reply.string()});
}

}  // namespace preserve::testing
