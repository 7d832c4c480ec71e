#include "preserve/ingest/manifest.h"

#include <boost/json.hpp>

namespace preserve::ingest {

namespace json = boost::json;

namespace {

json::array Strings(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& s : v) out.emplace_back(s);
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
                   {"verdict", VerdictName(s.verdict)},
                   {"sub_indication", s.sub_indication},
                   {"signer", s.signer_subject},
                   {"signer_organization", s.signer_organization},
                   {"signing_time", s.signing_time ? FormatUtcTime(*s.signing_time) : ""},
                   {"signing_time_source", s.signing_time_source},
                   {"digest_algorithm", s.digest_algorithm},
                   {"signature_algorithm", s.signature_algorithm},
                   {"certificates", Strings(s.certificate_paths)}};
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
  std::string text = json::serialize(root);
  text.push_back('\n');
  return ToBytes(text);
}

namespace {

Result<Manifest> ParseManifest(ByteView bytes) {
  json::error_code ec;
  json::value v = json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), ec);
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
  if (const auto* anchors = root.if_contains("trust_anchors"); anchors != nullptr && anchors->is_array()) {
    for (const auto& a : anchors->as_array())
      if (a.is_string()) m.trust_anchors.emplace_back(a.as_string());
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
      s.verdict = VerdictFromName(GetString(o, "verdict"));
      s.sub_indication = GetString(o, "sub_indication");
      s.signer_subject = GetString(o, "signer");
      s.signer_organization = GetString(o, "signer_organization");
      if (auto t = ParseUtcTime(GetString(o, "signing_time")); t.ok()) s.signing_time = t.value();
      s.signing_time_source = GetString(o, "signing_time_source");
      s.digest_algorithm = GetString(o, "digest_algorithm");
      s.signature_algorithm = GetString(o, "signature_algorithm");
      if (const auto* certs = o.if_contains("certificates"); certs != nullptr && certs->is_array()) {
        for (const auto& c : certs->as_array())
          if (c.is_string()) s.certificate_paths.emplace_back(c.as_string());
      }
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

}  // namespace preserve::ingest
