#include "preserve/package/manifest.h"

#include <boost/json.hpp>

#include "preserve/util/unicode.h"

namespace preserve::package {

namespace json = boost::json;

namespace {

json::array Strings(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

std::vector<std::string> StringList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* list = o.if_contains(key); list != nullptr && list->is_array()) {
    for (const auto& item : list->as_array())
      if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

std::string GetString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

Verdict VerdictFromName(std::string_view name) {
  if (name == "VALID") return Verdict::kValid;
  if (name == "INDETERMINATE") return Verdict::kIndeterminate;
  return Verdict::kInvalid;
}

}  // namespace

Bytes ManifestToJson(const Manifest& m) {
  json::array objects;
  for (const auto& o : m.objects) {
    objects.push_back(json::object{{"path", o.path}, {"role", o.role}, {"sha256", ToHex(o.sha256)}, {"size", o.size}});
  }
  json::array signatures;
  for (const auto& s : m.signatures) {
    json::object e{{"signature", s.signature_path},
                   {"document", s.document_path},
                   {"enveloping", s.enveloping},
                   {"format", s.format},
                   {"verdict", VerdictName(s.verdict)},
                   {"sub_indication", s.sub_indication},
                   {"reason", s.reason},
                   {"signer", s.signer_subject},
                   {"signer_organization", s.signer_organization},
                   {"signing_time", s.signing_time ? FormatUtcTime(*s.signing_time) : ""},
                   {"signing_time_source", s.signing_time_source},
                   {"signing_time_claimed", s.signing_time_claimed},
                   {"digest_algorithm", s.digest_algorithm},
                   {"signature_algorithm", s.signature_algorithm},
                   {"revocation", s.revocation},
                   {"warnings", Strings(s.warnings)},
                   {"certificates", Strings(s.certificate_paths)},
                   {"revocation_data", Strings(s.revocation_paths)}};
    signatures.push_back(std::move(e));
  }
  json::object root{{"format", m.format},
                    {"package_id", m.package_id},
                    {"version", m.version},
                    {"created", FormatUtcTime(m.created)},
                    {"producer", m.producer},
                    {"trust_anchors", Strings(m.trust_anchors)},
                    {"objects", std::move(objects)},
                    {"signatures", std::move(signatures)}};
  if (!m.decision.empty()) root["decision"] = m.decision;
  if (!m.previous_version.empty()) {
    root["previous_version"] = json::object{{"package_id", m.previous_version},
                                            {"manifest_sha256", ToHex(m.previous_manifest_sha256)}};
  }
  if (m.metadata) root["metadata"] = json::parse(RecordMetadataToJson(*m.metadata));
  std::string text = json::serialize(root);
  text.push_back('\n');
  return ToBytes(text);
}

namespace {

Result<Manifest> ParseManifest(ByteView bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  json::error_code ec;
  json::value v = json::parse(text, ec);
  // A manifest made before ingest refused file names that are not UTF-8 may
  // hold such bytes raw, which JSON does not allow. It is sealed and can never
  // be rewritten: it is read as EscapeInvalidUtf8 shows it, as the store's
  // own records are, so its paths agree with theirs.
  if (ec && !IsUtf8(text)) {
    ec.clear();
    v = json::parse(EscapeInvalidUtf8(text), ec);
  }
  if (ec || !v.is_object()) return Status::Corruption("manifest is not a JSON object");
  const json::object& root = v.as_object();
  Manifest m;
  m.format = GetString(root, "format");
  if (m.format != kManifestFormat) return Status::Corruption("unknown manifest format '" + m.format + "'");
  m.package_id = GetString(root, "package_id");
  if (const auto* ver = root.if_contains("version"); ver != nullptr && ver->is_number()) {
    m.version = static_cast<std::uint32_t>(ver->to_number<std::uint64_t>());
  }
  auto created = ParseUtcTime(GetString(root, "created"));
  if (!created.ok()) return Status::Corruption("manifest: bad 'created' time");
  m.created = created.value();
  m.producer = GetString(root, "producer");
  m.trust_anchors = StringList(root, "trust_anchors");
  m.decision = GetString(root, "decision");
  if (const auto* previous = root.if_contains("previous_version"); previous != nullptr) {
    if (!previous->is_object()) return Status::Corruption("manifest: 'previous_version' is not a JSON object");
    m.previous_version = GetString(previous->as_object(), "package_id");
    auto digest = FromHex(GetString(previous->as_object(), "manifest_sha256"));
    if (m.previous_version.empty() || !digest.ok() || digest->size() != 32)
      return Status::Corruption("manifest: malformed 'previous_version'");
    m.previous_manifest_sha256 = std::move(digest).value();
  }
  if (const auto* metadata = root.if_contains("metadata"); metadata != nullptr) {
    auto parsed = ParseRecordMetadata(ToBytes(json::serialize(*metadata)));
    if (!parsed.ok()) return Status::Corruption("manifest: " + parsed.status().message());
    m.metadata = std::move(parsed).value();
  }
  const json::value* objects = root.if_contains("objects");
  if (objects == nullptr || !objects->is_array()) return Status::Corruption("manifest: no 'objects' list");
  for (const auto& item : objects->as_array()) {
    if (!item.is_object()) return Status::Corruption("manifest: an object entry is not a JSON object");
    const auto& o = item.as_object();
    DataObjectEntry e;
    e.path = GetString(o, "path");
    e.role = GetString(o, "role");
    auto digest = FromHex(GetString(o, "sha256"));
    if (e.path.empty() || !digest.ok() || digest->size() != 32)
      return Status::Corruption("manifest: object entry without a path or a SHA-256");
    e.sha256 = digest.value();
    if (const auto* size = o.if_contains("size"); size != nullptr && size->is_number())
      e.size = size->to_number<std::uint64_t>();
    m.objects.push_back(std::move(e));
  }
  if (const auto* sigs = root.if_contains("signatures"); sigs != nullptr && sigs->is_array()) {
    for (const auto& item : sigs->as_array()) {
      if (!item.is_object()) return Status::Corruption("manifest: a signature entry is not a JSON object");
      const auto& o = item.as_object();
      SignatureEntry s;
      s.signature_path = GetString(o, "signature");
      s.document_path = GetString(o, "document");
      if (const auto* env = o.if_contains("enveloping"); env != nullptr && env->is_bool()) s.enveloping = env->as_bool();
      s.format = GetString(o, "format");
      s.verdict = VerdictFromName(GetString(o, "verdict"));
      s.sub_indication = GetString(o, "sub_indication");
      s.reason = GetString(o, "reason");
      s.signer_subject = GetString(o, "signer");
      s.signer_organization = GetString(o, "signer_organization");
      if (auto t = ParseUtcTime(GetString(o, "signing_time")); t.ok()) s.signing_time = t.value();
      s.signing_time_source = GetString(o, "signing_time_source");
      if (const auto* claimed = o.if_contains("signing_time_claimed"); claimed != nullptr && claimed->is_bool())
        s.signing_time_claimed = claimed->as_bool();
      s.digest_algorithm = GetString(o, "digest_algorithm");
      s.signature_algorithm = GetString(o, "signature_algorithm");
      s.revocation = GetString(o, "revocation");
      s.warnings = StringList(o, "warnings");
      s.certificate_paths = StringList(o, "certificates");
      s.revocation_paths = StringList(o, "revocation_data");
      m.signatures.push_back(std::move(s));
    }
  }
  return m;
}

}  // namespace

Result<Manifest> ManifestFromJson(ByteView bytes) {
  // Boost.JSON's number conversions throw on out-of-range values.
  try {
    return ParseManifest(bytes);
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("manifest: ") + e.what());
  }
}

}  // namespace preserve::package
