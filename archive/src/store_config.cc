#include "store_config.h"

#include <boost/json.hpp>

namespace preserve::archive {

namespace json = boost::json;

std::filesystem::path ConfigPath(const std::filesystem::path& root) { return root / "config.json"; }
std::filesystem::path PolicyPath(const std::filesystem::path& root) { return root / "policy.json"; }

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

Result<timestamp::AlgorithmCatalogue> LoadPolicy(const std::filesystem::path& root) {
  std::error_code ec;
  if (!std::filesystem::exists(PolicyPath(root), ec)) return timestamp::AlgorithmCatalogue::Default();
  return timestamp::AlgorithmCatalogue::Load(PolicyPath(root));
}

Status SavePolicy(const std::filesystem::path& root, const timestamp::AlgorithmCatalogue& catalogue) {
  return WriteFileAtomic(PolicyPath(root), AsBytes(catalogue.ToJson()));
}

}  // namespace preserve::archive
