#include "store_config.h"

#include <algorithm>

#include <boost/json.hpp>

#include "preserve/util/certificates.h"

namespace preserve::archive {

namespace json = boost::json;

std::filesystem::path ConfigPath(const std::filesystem::path& root) { return root / "config.json"; }
std::filesystem::path PolicyPath(const std::filesystem::path& root) { return root / "policy.json"; }

namespace {

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A relative path in config.json is relative to the store directory.
std::filesystem::path InStore(const std::filesystem::path& root, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : root / p;
}

Result<timestamp::HttpTsaConfig> ParseTsa(const std::filesystem::path& root, const json::object& o) {
  timestamp::HttpTsaConfig tsa;
  tsa.name = Text(o, "name");
  tsa.url = Text(o, "url");
  if (tsa.url.empty()) return Status::InvalidArgument("a TSA entry has no \"url\"");
  tsa.policy_oid = Text(o, "policy");
  if (std::string hash = Text(o, "hash"); !hash.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, HashAlgorithmFromName(hash));
    tsa.hash = alg;
  }
  std::string trust = Text(o, "trust");
  if (trust.empty()) return Status::InvalidArgument("TSA " + tsa.url + ": no \"trust\" (its CA certificate file)");
  PRESERVE_ASSIGN_OR_RETURN(tsa.tsa_trust_anchors, LoadCertificates(InStore(root, trust)));
  tsa.basic_auth_user = Text(o, "basic_auth_user");
  if (std::string f = Text(o, "basic_auth_password_file"); !f.empty())
    tsa.basic_auth_password_file = InStore(root, f).string();
  tsa.basic_auth_password_env = Text(o, "basic_auth_password_env");
  if (std::string f = Text(o, "tls_ca_file"); !f.empty()) tsa.tls_ca_file = InStore(root, f).string();
  if (std::string f = Text(o, "client_cert_file"); !f.empty()) tsa.client_cert_file = InStore(root, f).string();
  if (std::string f = Text(o, "client_key_file"); !f.empty()) tsa.client_key_file = InStore(root, f).string();
  if (const auto* v = o.if_contains("timeout_ms"); v != nullptr && v->is_int64())
    tsa.timeout = std::chrono::milliseconds(v->as_int64());
  if (const auto* v = o.if_contains("retries"); v != nullptr && v->is_int64()) tsa.retries = static_cast<int>(v->as_int64());
  if (const auto* v = o.if_contains("backoff_ms"); v != nullptr && v->is_int64())
    tsa.backoff = std::chrono::milliseconds(v->as_int64());
  return tsa;
}

}  // namespace

Result<StoreConfig> LoadStoreConfig(const std::filesystem::path& root) {
  StoreConfig config;
  auto bytes = ReadFile(ConfigPath(root));
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) return config;
  if (!bytes.ok()) return bytes.status();
  json::error_code ec;
  json::value v = json::parse(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), ec);
  if (ec || !v.is_object()) return Status::Corruption(ConfigPath(root).string() + ": not a JSON object");
  const json::object& o = v.as_object();
  if (const auto* m = o.if_contains("renewal_margin_days"); m != nullptr && m->is_int64())
    config.renewal_margin = std::chrono::days(m->as_int64());
  if (const auto* k = o.if_contains("tsa_key"); k != nullptr && k->is_string()) {
    PRESERVE_ASSIGN_OR_RETURN(config.tsa_key, timestamp::TsaKeyTypeFromName(std::string_view(k->as_string())));
  }
  if (const auto* y = o.if_contains("tsa_validity_years"); y != nullptr && y->is_int64())
    config.tsa_validity_years = static_cast<int>(y->as_int64());
  if (const auto* tsas = o.if_contains("tsas"); tsas != nullptr && tsas->is_array()) {
    for (const auto& entry : tsas->as_array()) {
      if (!entry.is_object()) return Status::InvalidArgument(ConfigPath(root).string() + ": a \"tsas\" entry is not an object");
      auto tsa = ParseTsa(root, entry.as_object());
      if (!tsa.ok()) return tsa.status().WithContext(ConfigPath(root).string());
      config.external_tsas.push_back(std::move(tsa).value());
    }
  }
  if (config.renewal_margin.count() < 0 || config.tsa_validity_years < 1)
    return Status::Corruption(ConfigPath(root).string() + ": renewal_margin_days or tsa_validity_years out of range");
  return config;
}

Status SaveStoreConfig(const std::filesystem::path& root, const StoreConfig& config) {
  json::object o{{"renewal_margin_days", config.renewal_margin.count()},
                 {"tsa_key", timestamp::TsaKeyTypeName(config.tsa_key)},
                 {"tsa_validity_years", config.tsa_validity_years}};
  return WriteFileAtomic(ConfigPath(root), AsBytes(json::serialize(o) + "\n"));
}

Result<policy::AlgorithmCatalogue> LoadPolicy(const std::filesystem::path& root) {
  std::error_code ec;
  if (!std::filesystem::exists(PolicyPath(root), ec)) return policy::AlgorithmCatalogue::Default();
  return policy::AlgorithmCatalogue::Load(PolicyPath(root));
}

Status SavePolicy(const std::filesystem::path& root, const policy::AlgorithmCatalogue& catalogue) {
  return WriteFileAtomic(PolicyPath(root), AsBytes(catalogue.ToJson()));
}

Result<policy::AlgorithmCatalogue> ResolvePolicy(const std::string& profile_or_file) {
  const auto& profiles = policy::AlgorithmCatalogue::BuiltinProfiles();
  if (std::find(profiles.begin(), profiles.end(), profile_or_file) != profiles.end())
    return policy::AlgorithmCatalogue::Builtin(profile_or_file);
  return policy::AlgorithmCatalogue::Load(profile_or_file);
}

}  // namespace preserve::archive
