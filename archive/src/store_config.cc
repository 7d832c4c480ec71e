#include "store_config.h"

#include <algorithm>

#include <boost/json.hpp>

#include "preserve/util/certificates.h"
#include "preserve/util/json_reader.h"

namespace preserve::archive {

namespace json = boost::json;

std::filesystem::path ConfigPath(const std::filesystem::path& root) { return root / "config.json"; }
std::filesystem::path PolicyPath(const std::filesystem::path& root) { return root / "policy.json"; }

namespace {

// A relative path in config.json is relative to the store directory.
std::filesystem::path InStore(const std::filesystem::path& root, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : root / p;
}

// A path member, made absolute; empty when absent.
Result<std::string> PathIn(const JsonObjectReader& o, std::string_view key, const std::filesystem::path& root) {
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> path, o.String(key));
  if (!path || path->empty()) return std::string();
  return InStore(root, *path).string();
}

Result<timestamp::HttpTsaConfig> ParseTsa(const std::filesystem::path& root, const JsonObjectReader& o) {
  PRESERVE_RETURN_IF_ERROR(o.OnlyKeys({"name", "url", "policy", "hash", "trust", "basic_auth_user",
                                       "basic_auth_password_file", "basic_auth_password_env", "tls_ca_file",
                                       "client_cert_file", "client_key_file", "timeout_ms", "retries", "backoff_ms"}));
  timestamp::HttpTsaConfig tsa;
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> name, o.String("name"));
  tsa.name = name.value_or("");
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> url, o.String("url"));
  if (!url || url->empty()) return o.Error("url", "is required (the TSA's http:// or https:// address)");
  tsa.url = *url;
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> policy, o.String("policy"));
  tsa.policy_oid = policy.value_or("");
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> hash, o.String("hash"));
  if (hash && !hash->empty()) {
    Result<HashAlgorithm> alg = HashAlgorithmFromName(*hash);
    if (!alg.ok()) return o.Error("hash", "is not a hash algorithm: " + alg.status().message());
    tsa.hash = *alg;
  }
  PRESERVE_ASSIGN_OR_RETURN(std::string trust, PathIn(o, "trust", root));
  if (trust.empty()) return o.Error("trust", "is required (the file of the TSA's CA certificates)");
  Result<std::vector<Bytes>> anchors = LoadCertificates(trust);
  if (!anchors.ok()) return o.Error("trust", "cannot be read: " + anchors.status().message());
  tsa.tsa_trust_anchors = std::move(anchors).value();
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> user, o.String("basic_auth_user"));
  tsa.basic_auth_user = user.value_or("");
  PRESERVE_ASSIGN_OR_RETURN(tsa.basic_auth_password_file, PathIn(o, "basic_auth_password_file", root));
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> env, o.String("basic_auth_password_env"));
  tsa.basic_auth_password_env = env.value_or("");
  PRESERVE_ASSIGN_OR_RETURN(tsa.tls_ca_file, PathIn(o, "tls_ca_file", root));
  PRESERVE_ASSIGN_OR_RETURN(tsa.client_cert_file, PathIn(o, "client_cert_file", root));
  PRESERVE_ASSIGN_OR_RETURN(tsa.client_key_file, PathIn(o, "client_key_file", root));
  constexpr std::int64_t kDay = 24LL * 3600 * 1000;
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> timeout, o.Integer("timeout_ms", 1, kDay));
  if (timeout) tsa.timeout = std::chrono::milliseconds(*timeout);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> retries, o.Integer("retries", 0, 100));
  if (retries) tsa.retries = static_cast<int>(*retries);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> backoff, o.Integer("backoff_ms", 0, kDay));
  if (backoff) tsa.backoff = std::chrono::milliseconds(*backoff);
  return tsa;
}

// A duration as config.json gives one: a whole number of s, m, h or d, at
// least one second and at most 100 years.
Result<std::chrono::seconds> ParseDuration(const JsonObjectReader& o, std::string_view key,
                                           const std::string& text) {
  const std::string expected =
      "must be a duration: a whole number and a unit, s, m, h or d (\"60s\", \"15m\", \"24h\", \"7d\"), not \"" +
      EscapeForDisplay(text) + "\"";
  if (text.size() < 2 || text.size() > 12) return o.Error(key, expected);
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return o.Error(key, expected);
  }
  std::int64_t count = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return o.Error(key, expected);
    count = count * 10 + (text[i] - '0');
  }
  if (count == 0) return o.Error(key, "must be positive, not \"" + text + "\"");
  constexpr std::int64_t kMost = 36500LL * 86400;
  if (count > kMost / unit) return o.Error(key, "must be at most 36500d, not \"" + text + "\"");
  return std::chrono::seconds(count * unit);
}

Result<std::optional<std::chrono::seconds>> DurationIn(const JsonObjectReader& o, std::string_view key) {
  const json::value* v = o.Find(key);
  if (v == nullptr) return std::optional<std::chrono::seconds>();
  if (!v->is_string())
    return o.Error(key, "must be a duration in a string, such as \"60s\", \"24h\" or \"7d\", not " + JsonKindName(*v));
  PRESERVE_ASSIGN_OR_RETURN(std::chrono::seconds d, ParseDuration(o, key, std::string(v->get_string())));
  return std::optional<std::chrono::seconds>(d);
}

// "jobs": how often `preserve serve` (and `preserve jobs run`) runs each job.
Result<JobSchedule> ParseJobs(const JsonObjectReader& o) {
  PRESERVE_RETURN_IF_ERROR(o.OnlyKeys({"seal_every", "renew_every", "fixity_every", "fixity_sample", "retry_after"}));
  JobSchedule jobs;
  for (auto [key, field] : {std::pair{"seal_every", &jobs.seal_every}, std::pair{"renew_every", &jobs.renew_every},
                            std::pair{"fixity_every", &jobs.fixity_every},
                            std::pair{"retry_after", &jobs.retry_after}}) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::chrono::seconds> d, DurationIn(o, key));
    if (d) *field = *d;
  }
  if (const json::value* v = o.Find("fixity_sample"); v != nullptr) {
    if (!v->is_number())
      return o.Error("fixity_sample", "must be a fraction in (0, 1], such as 0.01, not " + JsonKindName(*v));
    const double sample = v->is_double()  ? v->get_double()
                          : v->is_int64() ? static_cast<double>(v->get_int64())
                                          : static_cast<double>(v->get_uint64());
    if (!(sample > 0.0 && sample <= 1.0))
      return o.Error("fixity_sample", "must be a fraction in (0, 1], such as 0.01 (1: every package)");
    jobs.fixity_sample = sample;
  }
  return jobs;
}

// "content": where the data objects' bytes live.
Result<std::optional<storage::S3Location>> ParseContent(const JsonObjectReader& o, const std::filesystem::path& root) {
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> kind, o.String("kind"));
  if (!kind || (*kind != "s3" && *kind != "rocksdb"))
    return o.Error("kind", "is required: \"rocksdb\" (content in the database) or \"s3\" (an S3 bucket)");
  if (*kind == "rocksdb") {
    PRESERVE_RETURN_IF_ERROR(o.OnlyKeys({"kind"}));
    return std::optional<storage::S3Location>();
  }
  PRESERVE_RETURN_IF_ERROR(o.OnlyKeys({"kind", "bucket", "prefix", "endpoint", "region", "path_style", "lock_mode",
                                       "credentials_file", "timeout_seconds", "part_size_mib"}));
  storage::S3Location s3;
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> bucket, o.String("bucket"));
  if (!bucket || bucket->empty()) return o.Error("bucket", "is required (the S3 bucket holding the content)");
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> prefix, o.String("prefix"));
  PRESERVE_RETURN_IF_ERROR(storage::ParseS3Url("s3://" + *bucket + (prefix ? "/" + *prefix : ""), s3));
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> endpoint, o.String("endpoint"));
  if (!endpoint || (endpoint->rfind("http://", 0) != 0 && endpoint->rfind("https://", 0) != 0))
    return o.Error("endpoint", "is required: the object store's http:// or https:// address");
  s3.endpoint = *endpoint;
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> region, o.String("region"));
  if (region) s3.region = *region;
  if (const json::value* v = o.Find("path_style"); v != nullptr) {
    if (!v->is_bool()) return o.Error("path_style", "must be true or false, not " + JsonKindName(*v));
    s3.path_style = v->get_bool();
  }
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> mode, o.String("lock_mode"));
  if (mode) {
    Result<storage::ObjectLockMode> parsed = storage::ObjectLockModeFromName(*mode);
    if (!parsed.ok()) return o.Error("lock_mode", parsed.status().message());
    s3.lock_mode = *parsed;
  }
  PRESERVE_ASSIGN_OR_RETURN(s3.credentials_file, PathIn(o, "credentials_file", root));
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> timeout, o.Integer("timeout_seconds", 1, 3600));
  if (timeout) s3.timeout = std::chrono::seconds(*timeout);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> part, o.Integer("part_size_mib", 5, 512));
  if (part) s3.part_size = static_cast<std::uint64_t>(*part) << 20;
  return std::optional<storage::S3Location>(std::move(s3));
}

json::object ContentToJson(const storage::S3Location& s3) {
  json::object o{{"kind", "s3"},
                 {"bucket", s3.bucket},
                 {"endpoint", s3.endpoint},
                 {"region", s3.region},
                 {"path_style", s3.path_style},
                 {"lock_mode", storage::ObjectLockModeName(s3.lock_mode)},
                 {"timeout_seconds", s3.timeout.count()},
                 {"part_size_mib", s3.part_size >> 20}};
  if (!s3.prefix.empty()) o["prefix"] = s3.prefix;
  if (!s3.credentials_file.empty()) o["credentials_file"] = s3.credentials_file;
  return o;
}

}  // namespace

Result<StoreConfig> ParseStoreConfig(std::string_view text, const std::filesystem::path& root) {
  PRESERVE_ASSIGN_OR_RETURN(UserJson doc, UserJson::Parse(text, ConfigPath(root).string()));
  PRESERVE_RETURN_IF_ERROR(doc.CheckRepeatedKeys());
  if (!doc.root().is_object())
    return doc.Error("", "must be a JSON object {...}, not " + JsonKindName(doc.root()));
  const JsonObjectReader o(doc, doc.root().get_object(), "", "");
  PRESERVE_RETURN_IF_ERROR(
      o.OnlyKeys({"renewal_margin_days", "tsa_key", "tsa_validity_years", "tsas", "jobs", "commit_subjects",
                  "renewal_objects_per_pass", "cache_mib", "content"}));
  StoreConfig config;
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> margin, o.Integer("renewal_margin_days", 0, 36500));
  if (margin) config.renewal_margin = std::chrono::days(*margin);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> key, o.String("tsa_key"));
  if (key) {
    Result<timestamp::TsaKeyType> type = timestamp::TsaKeyTypeFromName(*key);
    if (!type.ok()) return o.Error("tsa_key", type.status().message());
    config.tsa_key = *type;
  }
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> years, o.Integer("tsa_validity_years", 1, 100));
  if (years) config.tsa_validity_years = static_cast<int>(*years);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> commit, o.Integer("commit_subjects", 1, 1 << 24));
  if (commit) config.commit_subjects = static_cast<std::size_t>(*commit);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> per_pass, o.Integer("renewal_objects_per_pass", 1, 1 << 30));
  if (per_pass) config.renewal_objects_per_pass = static_cast<std::size_t>(*per_pass);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<std::int64_t> cache, o.Integer("cache_mib", 8, 1 << 20));
  if (cache) config.cache_mib = static_cast<std::size_t>(*cache);
  PRESERVE_ASSIGN_OR_RETURN(const json::array* tsas, o.Array("tsas"));
  for (std::size_t i = 0; tsas != nullptr && i < tsas->size(); ++i) {
    const std::string pointer = "/tsas/" + std::to_string(i);
    const std::string name = "tsas[" + std::to_string(i) + "]";
    if (!(*tsas)[i].is_object())
      return doc.Error(pointer, "\"" + name + "\" must be an object {\"url\": ..., \"trust\": ...}, not " +
                                    JsonKindName((*tsas)[i]));
    PRESERVE_ASSIGN_OR_RETURN(timestamp::HttpTsaConfig tsa,
                              ParseTsa(root, JsonObjectReader(doc, (*tsas)[i].get_object(), pointer, name)));
    config.external_tsas.push_back(std::move(tsa));
  }
  if (const json::value* content = o.Find("content"); content != nullptr) {
    if (!content->is_object())
      return o.Error("content", "must be an object {\"kind\": \"s3\", ...}, not " + JsonKindName(*content));
    PRESERVE_ASSIGN_OR_RETURN(config.content,
                              ParseContent(JsonObjectReader(doc, content->get_object(), o.PointerTo("content"), "content"),
                                           root));
  }
  if (const json::value* jobs = o.Find("jobs"); jobs != nullptr) {
    if (!jobs->is_object())
      return o.Error("jobs", "must be an object {\"seal_every\": \"60s\", ...}, not " + JsonKindName(*jobs));
    const JsonObjectReader j(doc, jobs->get_object(), o.PointerTo("jobs"), "jobs");
    PRESERVE_ASSIGN_OR_RETURN(config.jobs, ParseJobs(j));
    // Renewal is due a margin before evidence weakens: a run must come within it.
    // (A margin of 0, renewing only as things end, predates the jobs and is left alone.)
    if (j.Find("renew_every") != nullptr && config.jobs.renew_every >= config.renewal_margin)
      return j.Error("renew_every", "must be shorter than the renewal margin (" +
                                        std::to_string(config.renewal_margin.count()) +
                                        (config.renewal_margin.count() == 1 ? " day" : " days") +
                                        ", renewal_margin_days): evidence could weaken between two runs");
  }
  return config;
}

Result<StoreConfig> LoadStoreConfig(const std::filesystem::path& root) {
  auto bytes = ReadFile(ConfigPath(root));
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) return StoreConfig{};
  if (!bytes.ok()) return bytes.status();
  return ParseStoreConfig(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), root);
}

Status SaveStoreConfig(const std::filesystem::path& root, const StoreConfig& config) {
  json::object o{{"renewal_margin_days", config.renewal_margin.count()},
                 {"tsa_key", timestamp::TsaKeyTypeName(config.tsa_key)},
                 {"tsa_validity_years", config.tsa_validity_years}};
  if (config.content) o["content"] = ContentToJson(*config.content);
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
