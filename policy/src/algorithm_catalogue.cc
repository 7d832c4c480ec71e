#include "preserve/policy/algorithm_catalogue.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <set>
#include <utility>

#include <boost/json.hpp>

#include "preserve/util/json_reader.h"

#include "preserve/util/bytes.h"

namespace preserve::policy {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

constexpr std::array kAllHashes = {HashAlgorithm::kSha1,     HashAlgorithm::kSha256,   HashAlgorithm::kSha384,
                                   HashAlgorithm::kSha512,   HashAlgorithm::kSha3_256, HashAlgorithm::kSha3_384,
                                   HashAlgorithm::kSha3_512};

// SHA-2 first: it is what every TSA and verifier supports today; SHA-3 is the
// fallback should SHA-2 ever be retired.
std::vector<HashAlgorithm> DefaultHashPreference() {
  return {HashAlgorithm::kSha256,   HashAlgorithm::kSha384,   HashAlgorithm::kSha512,
          HashAlgorithm::kSha3_256, HashAlgorithm::kSha3_384, HashAlgorithm::kSha3_512};
}

// Key sizes are bounded so a typo ("min_bits": 20480000) is caught and int
// arithmetic never overflows.
constexpr std::int64_t kMaxKeyBits = 65536;

TimePoint Date(int y, unsigned m, unsigned d) {
  return TimePoint(sys_days(year_month_day(year(y), std::chrono::month(m), std::chrono::day(d))));
}

// The epoch: "ended long ago", for what no rule approves.
constexpr TimePoint kNotApproved{};

// ---------------------------------------------------------------------------
// Built-in profiles. The ETSI dates are those of ETSI TS 119 312 V1.5.1 as the
// EU DSS library ships it (esig/dss, dss-policy-crypto-json/src/main/resources/
// suite/dss-crypto-suite.json, "PolicyIssueDate" 2024-10-13). An "End" there is
// the first day the algorithm is no longer suitable, which is our `end`.
// Where DSS has two rows with the same end (RSA 1024 and 1536 bits; ECDSA 160
// and 163 bits) only the smaller is kept: the lookup gives the same answer.

constexpr const char* kEtsiSource = "ETSI TS 119 312 V1.5.1 via DSS dss-crypto-suite.json";

std::vector<HashRule> EtsiHashRules() {
  return {
      {HashAlgorithm::kSha1, Date(2012, 8, 1), kEtsiSource},
      {HashAlgorithm::kSha256, std::nullopt, kEtsiSource},
      {HashAlgorithm::kSha384, std::nullopt, kEtsiSource},
      {HashAlgorithm::kSha512, std::nullopt, kEtsiSource},
      {HashAlgorithm::kSha3_256, std::nullopt, kEtsiSource},
      {HashAlgorithm::kSha3_384, std::nullopt, kEtsiSource},
      {HashAlgorithm::kSha3_512, std::nullopt, kEtsiSource},
  };
}

std::vector<SignatureRule> EtsiSignatureRules() {
  using K = SignatureKeyType;
  return {
      // sha*WithRSAEncryption (PKCS#1 v1.5): legacy at every size, 3000+ bits included.
      {K::kRsa, 786, Date(2010, 8, 1), kEtsiSource},
      {K::kRsa, 1024, Date(2019, 10, 1), kEtsiSource},
      {K::kRsa, 1900, Date(2029, 1, 1), kEtsiSource},
      {K::kRsa, 3000, Date(2029, 1, 1), kEtsiSource},
      // rsassa-pss: recommended without end from 3000 bits.
      {K::kRsaPss, 786, Date(2010, 8, 1), kEtsiSource},
      {K::kRsaPss, 1024, Date(2019, 10, 1), kEtsiSource},
      {K::kRsaPss, 1900, Date(2029, 1, 1), kEtsiSource},
      {K::kRsaPss, 3000, std::nullopt, kEtsiSource},
      // ECDSA with SHA-256/384/512 or SHA3 (DSS dates ECDSA with SHA-224 at
      // 256 bits to 2029-01-01; preserve never makes SHA-224 evidence).
      {K::kEcdsa, 160, Date(2012, 8, 1), kEtsiSource},
      {K::kEcdsa, 224, Date(2021, 10, 1), kEtsiSource},
      {K::kEcdsa, 256, std::nullopt, kEtsiSource},
      // Ed25519: absent from ETSI TS 119 312 as DSS encodes it, so not approved.
  };
}

// SOG-IS Agreed Cryptographic Mechanisms v1.3: RSA moduli of 1900 to 2999 bits
// are legacy until the end of 2025 (Bundesnetzagentur notice of 2024-09-06:
// "verliert ... zum 31.12.2025 seine Eignung"). We end them on 2025-12-31, a
// day early rather than a day late. Everything else as ETSI.
constexpr const char* kSogisSource =
    "SOG-IS Agreed Cryptographic Mechanisms v1.3 (RSA 1900-2999 bits legacy until 2025; BNetzA 2024-09-06)";

// BSI TR-02102-1 (2023-01): from 2024 an RSA modulus of at least 3000 bits is
// binding; 2000-bit keys were a transition until the end of 2023. Keys of
// 1900-1999 bits, which TR-02102-1 does not list, are ended with them.
constexpr const char* kBsiSource = "BSI TR-02102-1 (2023-01): RSA >= 3000 bits binding from 2024";

struct Profile {
  std::string_view id;
  std::string_view name;
  std::vector<SignatureRule> (*signature_overrides)();
};

const std::array<Profile, 3>& Profiles() {
  static const std::array<Profile, 3> profiles = {{
      {"etsi", "ETSI TS 119 312 V1.5.1 (DSS)", [] { return std::vector<SignatureRule>{}; }},
      {"sogis", "SOG-IS Agreed Cryptographic Mechanisms v1.3 (on ETSI TS 119 312)",
       [] {
         return std::vector<SignatureRule>{{SignatureKeyType::kRsa, 1900, Date(2025, 12, 31), kSogisSource},
                                           {SignatureKeyType::kRsaPss, 1900, Date(2025, 12, 31), kSogisSource}};
       }},
      {"bsi", "BSI TR-02102-1 (on ETSI TS 119 312)",
       [] {
         return std::vector<SignatureRule>{{SignatureKeyType::kRsa, 1900, Date(2024, 1, 1), kBsiSource},
                                           {SignatureKeyType::kRsaPss, 1900, Date(2024, 1, 1), kBsiSource}};
       }},
  }};
  return profiles;
}

// ---------------------------------------------------------------------------
// Formatting helpers.

bool IsMidnight(TimePoint t) { return std::chrono::floor<days>(t) == t; }

// Dates at midnight print as "2029-01-01", the way the sources write them.
std::string FormatEnd(TimePoint t) {
  std::string full = FormatUtcTime(t);
  return IsMidnight(t) ? full.substr(0, 10) : full;
}

std::string JsonString(std::string_view s) { return boost::json::serialize(boost::json::value(s)); }

std::string JsonEnd(const std::optional<TimePoint>& end) { return end ? JsonString(FormatEnd(*end)) : "null"; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool UsableAt(const std::optional<TimePoint>& end, TimePoint at) { return !end || at < *end; }

// "retired", "in force", with the end when there is one.
std::string StatusText(const std::optional<TimePoint>& end, TimePoint now) {
  if (!end) return "in force";
  if (*end == kNotApproved) return "not approved";
  return UsableAt(end, now) ? "in force" : "retired";
}

std::string EndText(const std::optional<TimePoint>& end) {
  if (!end) return "no end known";
  if (*end == kNotApproved) return "-";
  return FormatEnd(*end);
}

// Left-aligned columns; the last column is not padded.
std::string Row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) {
  std::string line = " ";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line += ' ';
    line += cells[i];
    if (i + 1 < cells.size() && cells[i].size() < widths[i]) line.append(widths[i] - cells[i].size(), ' ');
  }
  return line + "\n";
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  std::string out;
  for (const auto& row : rows) out += Row(row, widths);
  return out;
}

// ---------------------------------------------------------------------------
// Parsing helpers. boost::json's if_* accessors and error_code overloads are
// used throughout, so nothing here throws.

// "ORIGIN: line N: ENTRY: MSG", N the line of the key at `pointer` (json_reader.h).
Status EntryError(const UserJson& doc, const std::string& pointer, const std::string& entry, const std::string& msg) {
  return doc.Error(pointer, entry + ": " + msg);
}

// `pointer`: the entry's JSON pointer ("/hash/0").
Result<std::optional<TimePoint>> ParseEnd(const boost::json::object& entry, const UserJson& doc,
                                          const std::string& pointer, const std::string& what) {
  const boost::json::value* end = entry.if_contains("end");
  if (end == nullptr) {
    return EntryError(doc, pointer, what, "\"end\" is missing (use null for no end)");
  }
  if (end->is_null()) return std::optional<TimePoint>();
  const boost::json::string* text = end->if_string();
  if (text == nullptr)
    return EntryError(doc, pointer + "/end", what, "\"end\" must be a date string or null, not " + JsonKindName(*end));
  Result<TimePoint> t = ParseUtcTime(std::string_view(text->data(), text->size()));
  if (!t.ok()) return EntryError(doc, pointer + "/end", what, "bad \"end\": " + t.status().message());
  return std::optional<TimePoint>(*t);
}

Result<std::string> ParseSource(const boost::json::object& entry, const UserJson& doc, const std::string& pointer,
                                const std::string& what) {
  const boost::json::value* source = entry.if_contains("source");
  if (source == nullptr) return doc.origin();  // the file is where the date comes from
  const boost::json::string* text = source->if_string();
  if (text == nullptr)
    return EntryError(doc, pointer + "/source", what, "\"source\" must be a string, not " + JsonKindName(*source));
  return std::string(text->data(), text->size());
}

Status CheckMembers(const boost::json::object& obj, std::initializer_list<std::string_view> allowed,
                    const UserJson& doc, const std::string& pointer, const std::string& what) {
  for (const auto& member : obj) {
    std::string_view key(member.key().data(), member.key().size());
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (std::string_view k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      return EntryError(doc, pointer + "/" + JsonPointerToken(key), what,
                        "unknown member \"" + std::string(key) + "\" (known: " + known + ")");
    }
  }
  return Status::Ok();
}

Result<const boost::json::array*> OptionalArray(const boost::json::object& root, std::string_view key,
                                                const UserJson& doc) {
  const boost::json::value* v = root.if_contains(key);
  if (v == nullptr) return static_cast<const boost::json::array*>(nullptr);
  if (!v->is_array())
    return doc.Error("/" + std::string(key), "\"" + std::string(key) + "\" must be an array, not " + JsonKindName(*v));
  return &v->get_array();
}

std::string EntryName(std::string_view list, std::size_t index) {
  return std::string(list) + " entry " + std::to_string(index + 1);
}


}  // namespace

// ---------------------------------------------------------------------------

std::string_view SignatureKeyTypeName(SignatureKeyType type) {
  switch (type) {
    case SignatureKeyType::kRsa: return "RSA";
    case SignatureKeyType::kRsaPss: return "RSA-PSS";
    case SignatureKeyType::kEcdsa: return "ECDSA";
    case SignatureKeyType::kEd25519: return "Ed25519";
  }
  return "unknown";
}

Result<SignatureKeyType> SignatureKeyTypeFromName(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "rsa") return SignatureKeyType::kRsa;
  if (n == "rsa-pss" || n == "rsassa-pss") return SignatureKeyType::kRsaPss;
  if (n == "ecdsa" || n == "ec") return SignatureKeyType::kEcdsa;
  if (n == "ed25519") return SignatureKeyType::kEd25519;
  return Status::InvalidArgument("unknown signature key type '" + std::string(name) +
                                 "' (known: RSA, RSA-PSS, ECDSA, Ed25519)");
}

const std::vector<std::string_view>& AlgorithmCatalogue::BuiltinProfiles() {
  static const std::vector<std::string_view> ids = [] {
    std::vector<std::string_view> v;
    for (const Profile& p : Profiles()) v.push_back(p.id);
    return v;
  }();
  return ids;
}

Result<AlgorithmCatalogue> AlgorithmCatalogue::Builtin(std::string_view profile) {
  for (const Profile& p : Profiles()) {
    if (p.id != profile) continue;
    AlgorithmCatalogue c;
    c.name_ = std::string(p.name);
    for (HashRule& r : EtsiHashRules()) c.SetHashRule(std::move(r));
    for (SignatureRule& r : EtsiSignatureRules()) c.SetSignatureRule(std::move(r));
    for (SignatureRule& r : p.signature_overrides()) c.SetSignatureRule(std::move(r));
    c.hash_preference_ = DefaultHashPreference();
    return c;
  }
  std::string known;
  for (std::string_view id : BuiltinProfiles()) known += (known.empty() ? "" : ", ") + std::string(id);
  return Status::InvalidArgument("unknown algorithm profile '" + std::string(profile) + "' (built in: " + known + ")");
}

AlgorithmCatalogue AlgorithmCatalogue::Default() { return std::move(Builtin("etsi")).value(); }

Result<AlgorithmCatalogue> AlgorithmCatalogue::Load(const std::filesystem::path& json_file) {
  const std::string origin = json_file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(json_file, ec)) {
    return Status::NotFound("policy file " + origin + " does not exist or is not a regular file");
  }
  Result<Bytes> bytes = ReadFile(json_file);
  if (!bytes.ok()) return Status::IOError("cannot read policy file " + origin + ": " + bytes.status().message());
  return Parse(ToString(*bytes), origin);
}

Result<AlgorithmCatalogue> AlgorithmCatalogue::Parse(std::string_view json_text, const std::string& origin) {
  PRESERVE_ASSIGN_OR_RETURN(const UserJson doc, UserJson::Parse(json_text, origin));
  PRESERVE_RETURN_IF_ERROR(doc.CheckRepeatedKeys());
  const boost::json::object* root = doc.root().if_object();
  if (root == nullptr) return Status::InvalidArgument(origin + ": the policy must be a JSON object");
  PRESERVE_RETURN_IF_ERROR(
      CheckMembers(*root, {"name", "comment", "base", "hash_preference", "hash", "signature"}, doc, "", "top level"));

  AlgorithmCatalogue c;
  c.hash_preference_ = DefaultHashPreference();
  if (const boost::json::value* base = root->if_contains("base")) {
    const boost::json::string* id = base->if_string();
    if (id == nullptr) return doc.Error("/base", "\"base\" must be a profile name, not " + JsonKindName(*base));
    Result<AlgorithmCatalogue> builtin = Builtin(std::string_view(id->data(), id->size()));
    if (!builtin.ok()) return doc.Error("/base", builtin.status().message());
    c = std::move(builtin).value();
  }
  c.name_ = origin;
  if (const boost::json::value* name = root->if_contains("name")) {
    const boost::json::string* text = name->if_string();
    if (text == nullptr) return doc.Error("/name", "\"name\" must be a string, not " + JsonKindName(*name));
    c.name_ = std::string(text->data(), text->size());
  }

  PRESERVE_ASSIGN_OR_RETURN(const boost::json::array* preference, OptionalArray(*root, "hash_preference", doc));
  if (preference != nullptr) {
    std::vector<HashAlgorithm> order;
    for (std::size_t i = 0; i < preference->size(); ++i) {
      const boost::json::string* text = (*preference)[i].if_string();
      const std::string what = EntryName("hash_preference", i);
      const std::string pointer = "/hash_preference";
      if (text == nullptr) return EntryError(doc, pointer, what, "must be a hash algorithm name");
      Result<HashAlgorithm> alg = HashAlgorithmFromName(std::string_view(text->data(), text->size()));
      if (!alg.ok()) return EntryError(doc, pointer, what, alg.status().message());
      if (std::find(order.begin(), order.end(), *alg) != order.end()) {
        return EntryError(doc, pointer, what, std::string(HashAlgorithmName(*alg)) + " is listed twice");
      }
      order.push_back(*alg);
    }
    if (order.empty()) return doc.Error("/hash_preference", "\"hash_preference\" is empty");
    c.hash_preference_ = std::move(order);
  }

  PRESERVE_ASSIGN_OR_RETURN(const boost::json::array* hashes, OptionalArray(*root, "hash", doc));
  if (hashes != nullptr) {
    std::set<HashAlgorithm> seen;
    for (std::size_t i = 0; i < hashes->size(); ++i) {
      std::string what = EntryName("hash", i);
      const std::string pointer = "/hash/" + std::to_string(i);
      const boost::json::object* entry = (*hashes)[i].if_object();
      if (entry == nullptr) return EntryError(doc, pointer, what, "must be an object");
      PRESERVE_RETURN_IF_ERROR(CheckMembers(*entry, {"algorithm", "end", "source"}, doc, pointer, what));
      const boost::json::value* alg_value = entry->if_contains("algorithm");
      const boost::json::string* alg_name = alg_value ? alg_value->if_string() : nullptr;
      if (alg_name == nullptr)
        return EntryError(doc, pointer + "/algorithm", what, "\"algorithm\" must be a hash algorithm name");
      Result<HashAlgorithm> alg = HashAlgorithmFromName(std::string_view(alg_name->data(), alg_name->size()));
      if (!alg.ok()) return EntryError(doc, pointer + "/algorithm", what, alg.status().message());
      what += " (" + std::string(HashAlgorithmName(*alg)) + ")";
      if (!seen.insert(*alg).second) return EntryError(doc, pointer + "/algorithm", what, "the algorithm is listed twice");
      PRESERVE_ASSIGN_OR_RETURN(std::optional<TimePoint> end, ParseEnd(*entry, doc, pointer, what));
      PRESERVE_ASSIGN_OR_RETURN(std::string source, ParseSource(*entry, doc, pointer, what));
      c.SetHashRule({*alg, end, std::move(source)});
    }
  }

  PRESERVE_ASSIGN_OR_RETURN(const boost::json::array* signatures, OptionalArray(*root, "signature", doc));
  if (signatures != nullptr) {
    std::set<std::pair<SignatureKeyType, int>> seen;
    for (std::size_t i = 0; i < signatures->size(); ++i) {
      std::string what = EntryName("signature", i);
      const std::string pointer = "/signature/" + std::to_string(i);
      const boost::json::object* entry = (*signatures)[i].if_object();
      if (entry == nullptr) return EntryError(doc, pointer, what, "must be an object");
      PRESERVE_RETURN_IF_ERROR(CheckMembers(*entry, {"key", "min_bits", "end", "source"}, doc, pointer, what));
      const boost::json::value* key_value = entry->if_contains("key");
      const boost::json::string* key_name = key_value ? key_value->if_string() : nullptr;
      if (key_name == nullptr) return EntryError(doc, pointer + "/key", what, "\"key\" must be a key type name");
      Result<SignatureKeyType> key = SignatureKeyTypeFromName(std::string_view(key_name->data(), key_name->size()));
      if (!key.ok()) return EntryError(doc, pointer + "/key", what, key.status().message());
      const boost::json::value* bits_value = entry->if_contains("min_bits");
      std::int64_t bits = 0;
      if (bits_value != nullptr && bits_value->is_int64()) {
        bits = bits_value->get_int64();
      } else if (bits_value != nullptr && bits_value->is_uint64()) {
        bits = kMaxKeyBits + 1;  // beyond int64: certainly out of range
      } else {
        return EntryError(doc, pointer + "/min_bits", what, "\"min_bits\" must be a whole number");
      }
      if (bits < 1 || bits > kMaxKeyBits) {
        return EntryError(doc, pointer + "/min_bits", what,
                          "\"min_bits\" must be between 1 and " + std::to_string(kMaxKeyBits));
      }
      const int min_bits = static_cast<int>(bits);
      what += " (" + std::string(SignatureKeyTypeName(*key)) + " " + std::to_string(min_bits) + " bits)";
      if (!seen.insert({*key, min_bits}).second) return EntryError(doc, pointer, what, "the rule is listed twice");
      PRESERVE_ASSIGN_OR_RETURN(std::optional<TimePoint> end, ParseEnd(*entry, doc, pointer, what));
      PRESERVE_ASSIGN_OR_RETURN(std::string source, ParseSource(*entry, doc, pointer, what));
      c.SetSignatureRule({*key, min_bits, end, std::move(source)});
    }
  }
  return c;
}

void AlgorithmCatalogue::SetHashRule(HashRule rule) {
  auto it = std::find_if(hash_rules_.begin(), hash_rules_.end(),
                         [&](const HashRule& r) { return r.algorithm == rule.algorithm; });
  if (it != hash_rules_.end()) {
    *it = std::move(rule);
    return;
  }
  hash_rules_.push_back(std::move(rule));
  std::sort(hash_rules_.begin(), hash_rules_.end(),
            [](const HashRule& a, const HashRule& b) { return a.algorithm < b.algorithm; });
}

void AlgorithmCatalogue::SetSignatureRule(SignatureRule rule) {
  auto it = std::find_if(signature_rules_.begin(), signature_rules_.end(), [&](const SignatureRule& r) {
    return r.key == rule.key && r.min_bits == rule.min_bits;
  });
  if (it != signature_rules_.end()) {
    *it = std::move(rule);
    return;
  }
  signature_rules_.push_back(std::move(rule));
  // SignatureEnd relies on this order: by key type, then ascending min_bits.
  std::sort(signature_rules_.begin(), signature_rules_.end(), [](const SignatureRule& a, const SignatureRule& b) {
    return std::pair(a.key, a.min_bits) < std::pair(b.key, b.min_bits);
  });
}

std::optional<TimePoint> AlgorithmCatalogue::HashEnd(HashAlgorithm algorithm) const {
  for (const HashRule& r : hash_rules_)
    if (r.algorithm == algorithm) return r.end;
  return kNotApproved;
}

std::optional<TimePoint> AlgorithmCatalogue::SignatureEnd(SignatureKeyType key, int key_bits) const {
  const SignatureRule* match = nullptr;
  for (const SignatureRule& r : signature_rules_)
    if (r.key == key && r.min_bits <= key_bits) match = &r;  // rules ascend, so the last match is the largest
  return match != nullptr ? match->end : std::optional<TimePoint>(kNotApproved);
}

bool AlgorithmCatalogue::HashUsableForNewEvidence(HashAlgorithm algorithm, TimePoint at) const {
  return UsableAt(HashEnd(algorithm), at);
}

bool AlgorithmCatalogue::SignatureUsableForNewEvidence(SignatureKeyType key, int key_bits, TimePoint at) const {
  return UsableAt(SignatureEnd(key, key_bits), at);
}

Result<HashAlgorithm> AlgorithmCatalogue::PreferredHash(TimePoint at) const {
  for (HashAlgorithm alg : hash_preference_)
    if (HashUsableForNewEvidence(alg, at)) return alg;
  return Status::FailedPrecondition("no hash algorithm of catalogue '" + name_ + "' may be used for new evidence at " +
                                    FormatUtcTime(at));
}

std::string AlgorithmCatalogue::ToText(TimePoint now) const {
  std::string out = "Algorithm catalogue: " + name_ + "\n";
  out += "Status as of " + FormatUtcTime(now) + ". \"end\" is the first day an algorithm may not be used\n";
  out += "for new evidence; evidence made before then stays verifiable.\n\n";

  out += "Hash algorithms\n";
  std::vector<std::vector<std::string>> rows = {{"ALGORITHM", "END", "STATUS", "SOURCE"}};
  for (HashAlgorithm alg : kAllHashes) {
    auto it = std::find_if(hash_rules_.begin(), hash_rules_.end(),
                           [&](const HashRule& r) { return r.algorithm == alg; });
    if (it == hash_rules_.end()) {
      rows.push_back({std::string(HashAlgorithmName(alg)), "-", "not approved", "no rule"});
    } else {
      rows.push_back({std::string(HashAlgorithmName(alg)), EndText(it->end), StatusText(it->end, now), it->source});
    }
  }
  out += Table(rows);
  Result<HashAlgorithm> preferred = PreferredHash(now);
  out += "  New hash trees use: " +
         (preferred.ok() ? std::string(HashAlgorithmName(*preferred)) : std::string("none (no usable hash)")) +
         " (first usable of";
  for (HashAlgorithm alg : hash_preference_) out += " " + std::string(HashAlgorithmName(alg));
  out += ")\n\nSignature keys (time-stamping authorities)\n";

  rows = {{"KEY", "BITS", "END", "STATUS", "SOURCE"}};
  for (std::size_t i = 0; i < signature_rules_.size(); ++i) {
    const SignatureRule& r = signature_rules_[i];
    std::string bits = std::to_string(r.min_bits);
    const bool last_of_key = i + 1 == signature_rules_.size() || signature_rules_[i + 1].key != r.key;
    bits += last_of_key ? "+" : "-" + std::to_string(signature_rules_[i + 1].min_bits - 1);
    rows.push_back({std::string(SignatureKeyTypeName(r.key)), bits, EndText(r.end), StatusText(r.end, now), r.source});
  }
  out += Table(rows);
  out += "  Smaller keys, and key types without a rule, are not approved for new evidence.\n";
  return out;
}

std::string AlgorithmCatalogue::ToJson() const {
  std::string out = "{\n  \"name\": " + JsonString(name_) + ",\n  \"hash_preference\": [";
  for (std::size_t i = 0; i < hash_preference_.size(); ++i) {
    out += (i == 0 ? "" : ", ") + JsonString(HashAlgorithmName(hash_preference_[i]));
  }
  out += "],\n  \"hash\": [";
  for (std::size_t i = 0; i < hash_rules_.size(); ++i) {
    const HashRule& r = hash_rules_[i];
    out += std::string(i == 0 ? "\n" : ",\n") + "    {\"algorithm\": " + JsonString(HashAlgorithmName(r.algorithm)) +
           ", \"end\": " + JsonEnd(r.end) + ", \"source\": " + JsonString(r.source) + "}";
  }
  out += "\n  ],\n  \"signature\": [";
  for (std::size_t i = 0; i < signature_rules_.size(); ++i) {
    const SignatureRule& r = signature_rules_[i];
    out += std::string(i == 0 ? "\n" : ",\n") + "    {\"key\": " + JsonString(SignatureKeyTypeName(r.key)) +
           ", \"min_bits\": " + std::to_string(r.min_bits) + ", \"end\": " + JsonEnd(r.end) +
           ", \"source\": " + JsonString(r.source) + "}";
  }
  out += "\n  ]\n}\n";
  return out;
}

}  // namespace preserve::policy
