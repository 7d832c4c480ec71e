#include "asic_manifest.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string_view>

namespace preserve::signature {

namespace {

constexpr std::string_view kAsicNamespace = "http://uri.etsi.org/02918/v1.2.1#";
constexpr std::string_view kDsigNamespace = "http://www.w3.org/2000/09/xmldsig#";

struct XmlParserCtxtFree {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};
struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct XmlCharFree {
  void operator()(xmlChar* s) const { xmlFree(s); }
};
using XmlParserCtxtPtr = std::unique_ptr<xmlParserCtxt, XmlParserCtxtFree>;
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;
using XmlCharPtr = std::unique_ptr<xmlChar, XmlCharFree>;

std::string_view View(const xmlChar* s) {
  return s != nullptr ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

bool IsElement(const xmlNode* node, std::string_view ns, std::string_view name) {
  return node->type == XML_ELEMENT_NODE && node->ns != nullptr && View(node->ns->href) == ns &&
         View(node->name) == name;
}

std::optional<std::string> Attribute(xmlNode* node, const char* name) {
  XmlCharPtr value(xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name)));
  if (!value) return std::nullopt;
  return std::string(View(value.get()));
}

std::string Text(xmlNode* node) {
  XmlCharPtr content(xmlNodeGetContent(node));
  return std::string(View(content.get()));
}

// Any DOCTYPE stops the parse: a manifest has no use for one, and entity
// declarations are what billion-laughs and external-entity attacks need.
void StopAtDoctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
}

std::optional<std::string> PercentDecode(std::string_view uri) {
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] != '%') {
      out.push_back(uri[i]);
      continue;
    }
    if (i + 2 >= uri.size()) return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int high = hex(uri[i + 1]);
    int low = hex(uri[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}


// XML Signature digest method URIs (RFC 6931 and XML Signature 1.1).
std::optional<HashAlgorithm> DigestMethod(std::string_view uri) {
  if (uri == "http://www.w3.org/2000/09/xmldsig#sha1") return HashAlgorithm::kSha1;
  if (uri == "http://www.w3.org/2001/04/xmlenc#sha256") return HashAlgorithm::kSha256;
  if (uri == "http://www.w3.org/2001/04/xmldsig-more#sha384") return HashAlgorithm::kSha384;
  if (uri == "http://www.w3.org/2001/04/xmlenc#sha512") return HashAlgorithm::kSha512;
  if (uri == "http://www.w3.org/2007/05/xmldsig-more#sha3-256") return HashAlgorithm::kSha3_256;
  if (uri == "http://www.w3.org/2007/05/xmldsig-more#sha3-384") return HashAlgorithm::kSha3_384;
  if (uri == "http://www.w3.org/2007/05/xmldsig-more#sha3-512") return HashAlgorithm::kSha3_512;
  return std::nullopt;
}

Result<AsicDataObjectReference> ParseReference(xmlNode* node, const std::string& path) {
  auto bad = [&](const std::string& why) { return Status::InvalidArgument(path + ": " + why); };
  std::optional<std::string> uri = Attribute(node, "URI");
  if (!uri || uri->empty()) return bad("a DataObjectReference without URI");
  AsicDataObjectReference reference;
  std::optional<std::string> decoded = PercentDecode(*uri);
  if (!decoded) return bad("malformed URI '" + *uri + "'");
  reference.uri = std::move(*decoded);
  bool has_method = false;
  bool has_value = false;
  for (xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (IsElement(child, kDsigNamespace, "DigestMethod")) {
      std::optional<std::string> algorithm = Attribute(child, "Algorithm");
      if (has_method || !algorithm) return bad("'" + reference.uri + "': one ds:DigestMethod with Algorithm expected");
      reference.digest_method = *algorithm;
      reference.digest_algorithm = DigestMethod(*algorithm);
      has_method = true;
    } else if (IsElement(child, kDsigNamespace, "DigestValue")) {
      std::optional<Bytes> value = DecodeBase64(Text(child));
      if (has_value || !value || value->empty()) return bad("'" + reference.uri + "': one base64 ds:DigestValue expected");
      reference.digest_value = std::move(*value);
      has_value = true;
    }
  }
  if (!has_method || !has_value) return bad("'" + reference.uri + "': ds:DigestMethod and ds:DigestValue expected");
  return reference;
}

}  // namespace

Result<AsicManifest> ParseAsicManifest(ByteView xml, const std::string& path) {
  if (xml.size() > kMaxAsicManifestBytes)
    return Status::InvalidArgument(path + ": refused: larger than " + std::to_string(kMaxAsicManifestBytes) +
                                   " bytes");
  static std::once_flag initialized;
  std::call_once(initialized, xmlInitParser);

  XmlParserCtxtPtr ctxt(xmlNewParserCtxt());
  if (!ctxt) return Status::Internal("libxml2: cannot create a parser");
  ctxt->sax->internalSubset = StopAtDoctype;
  // No XML_PARSE_NOENT, DTDLOAD or HUGE: entities stay unexpanded and
  // libxml2's depth and size limits stay on; errors go to the Status, not stderr.
  XmlDocPtr doc(xmlCtxtReadMemory(ctxt.get(), reinterpret_cast<const char*>(xml.data()),
                                  static_cast<int>(xml.size()), path.c_str(), nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (ctxt->errNo == XML_ERR_USER_STOP)
    return Status::InvalidArgument(path + ": refused: the manifest carries a DTD (entity declarations make XML bombs)");
  if (!doc || ctxt->wellFormed == 0) {
    const xmlError* error = xmlCtxtGetLastError(ctxt.get());
    std::string message = error != nullptr && error->message != nullptr ? error->message : "malformed";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status::InvalidArgument(path + ": not well-formed XML: " + message);
  }

  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || !IsElement(root, kAsicNamespace, "ASiCManifest"))
    return Status::InvalidArgument(path + ": not an ASiCManifest (" + std::string(kAsicNamespace) + ")");
  AsicManifest manifest;
  bool has_signature = false;
  for (xmlNode* child = root->children; child != nullptr; child = child->next) {
    if (IsElement(child, kAsicNamespace, "SigReference")) {
      std::optional<std::string> uri = Attribute(child, "URI");
      std::optional<std::string> decoded = uri ? PercentDecode(*uri) : std::nullopt;
      if (has_signature || !decoded || decoded->empty())
        return Status::InvalidArgument(path + ": one SigReference with a URI expected");
      manifest.signature_uri = std::move(*decoded);
      has_signature = true;
    } else if (IsElement(child, kAsicNamespace, "DataObjectReference")) {
      PRESERVE_ASSIGN_OR_RETURN(AsicDataObjectReference reference, ParseReference(child, path));
      manifest.references.push_back(std::move(reference));
    }
  }
  if (!has_signature) return Status::InvalidArgument(path + ": no SigReference");
  if (manifest.references.empty()) return Status::InvalidArgument(path + ": no DataObjectReference");
  return manifest;
}

}  // namespace preserve::signature
