// ASiCManifest documents (ETSI EN 319 162-1 annex A.4), parsed with libxml2
// under the rules that keep hostile XML harmless: no network, no DTD at all
// (so no entity declarations, hence no entity expansion bombs and no external
// entities), no XInclude, at most kMaxAsicManifestBytes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/digest.h"

namespace preserve::signature {

// Real manifests list a few references in a few kilobytes.
inline constexpr std::size_t kMaxAsicManifestBytes = 1 << 20;

struct AsicDataObjectReference {
  std::string uri;                      // percent-decoded, relative to the container's root
  std::string digest_method;            // the ds:DigestMethod Algorithm URI, as written
  std::optional<HashAlgorithm> digest_algorithm;  // empty: a method preserve does not know
  Bytes digest_value;
};

struct AsicManifest {
  std::string signature_uri;  // the SigReference URI, percent-decoded
  std::vector<AsicDataObjectReference> references;
};

// Fails (kInvalidArgument, prefixed with `path`) on anything but a well-formed
// ASiCManifest with one SigReference and at least one DataObjectReference,
// each with one DigestMethod and a base64 DigestValue.
Result<AsicManifest> ParseAsicManifest(ByteView xml, const std::string& path);

}  // namespace preserve::signature
