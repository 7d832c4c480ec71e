// Test helpers that make CMS signatures the openssl command line cannot: a
// chosen signing time, CRLs carried in the SignedData, a signature time-stamp
// attached as an unsigned attribute.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "preserve/signature/signature_validation.h"
#include "preserve/timestamp/time_stamp.h"
#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"

namespace preserve::testing {

struct TestSignOptions {
  std::optional<TimePoint> signing_time;  // the signing-time attribute; none: OpenSSL writes the current time
  bool signed_attributes = true;          // false: no signed attributes at all, so no signing time
  std::string digest = "SHA256";          // an OpenSSL digest name
  std::vector<Bytes> certificates;        // DER, carried besides the signer's
  std::vector<Bytes> crls;                // DER, carried as RevocationInfoChoices
};

// A detached CMS signature (DER) over `content` by the PEM certificate and key.
// Fails the current test on error (and returns nothing).
Bytes SignDetached(ByteView content, const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem,
                   const TestSignOptions& options = {});

// The first SignerInfo's signature value: what a signature time-stamp covers.
Bytes SignatureValue(const Bytes& cms_der);

// `cms_der` with `token_der` added to its first SignerInfo as an
// id-aa-signatureTimeStampToken unsigned attribute.
Bytes WithSignatureTimeStamp(const Bytes& cms_der, const Bytes& token_der);

// A token over SHA-256(`data`) from `tsa` (the embedded TSA, or any transport).
Bytes TimeStampToken(timestamp::TsaTransport& tsa, ByteView data);

// The report on the one signer of detached `signature` over `content`; fails
// the current test (and returns an empty report) when validation fails or
// finds other than one signer.
signature::SignatureReport ValidateOneSigner(ByteView signature, ByteView content,
                                             const signature::CmsValidationOptions& options);

}  // namespace preserve::testing
