#include "records.h"

#include <boost/json.hpp>

namespace preserve::archive {

namespace json = boost::json;

namespace {

std::string_view Text(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

Bytes Serialize(const json::value& v) { return ToBytes(json::serialize(v)); }

Result<json::object> ParseObject(ByteView bytes, const char* what) {
  json::error_code ec;
  json::value v = json::parse(Text(bytes), ec);
  if (ec || !v.is_object()) return Status::Corruption(std::string(what) + " is not a JSON object");
  return std::move(v.as_object());
}

// Reads a field, turning Boost.JSON's exceptions for missing or mistyped
// fields into a Status at this edge.
template <typename Fn>
auto Guard(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": " + e.what());
  }
}

Result<Bytes> HexField(const json::object& o, std::string_view key) {
  return FromHex(std::string_view(o.at(key).as_string()));
}

json::array TreeToJson(const timestamp::ReducedHashtree& tree) {
  json::array lists;
  for (const auto& list : tree) {
    json::array values;
    for (const auto& v : list) values.emplace_back(ToHex(v));
    lists.push_back(std::move(values));
  }
  return lists;
}

Result<timestamp::ReducedHashtree> TreeFromJson(const json::array& lists) {
  timestamp::ReducedHashtree tree;
  for (const auto& list : lists) {
    timestamp::PartialHashtree values;
    for (const auto& v : list.as_array()) {
      PRESERVE_ASSIGN_OR_RETURN(Bytes b, FromHex(std::string_view(v.as_string())));
      values.push_back(std::move(b));
    }
    tree.push_back(std::move(values));
  }
  return tree;
}

Result<HashAlgorithm> AlgorithmField(const json::object& o, std::string_view key) {
  return HashAlgorithmFromName(std::string_view(o.at(key).as_string()));
}

}  // namespace

Bytes EncodePackageRecord(const PackageRecord& r) {
  json::array objects;
  for (const auto& o : r.objects)
    objects.push_back(json::object{{"path", o.path}, {"sha256", ToHex(o.sha256)}, {"size", o.size}});
  json::object root{{"id", r.id},           {"version", r.version}, {"created", FormatUtcTime(r.created)},
                    {"state", r.state},     {"objects", std::move(objects)}};
  if (r.next_renewal) root["next_renewal"] = FormatUtcTime(*r.next_renewal);
  return Serialize(root);
}

Result<PackageRecord> DecodePackageRecord(ByteView bytes) {
  return Guard("package record", [&]() -> Result<PackageRecord> {
    PRESERVE_ASSIGN_OR_RETURN(json::object o, ParseObject(bytes, "package record"));
    PackageRecord r;
    r.id = std::string(o.at("id").as_string());
    r.version = static_cast<std::uint32_t>(o.at("version").to_number<std::uint64_t>());
    PRESERVE_ASSIGN_OR_RETURN(r.created, ParseUtcTime(std::string_view(o.at("created").as_string())));
    r.state = std::string(o.at("state").as_string());
    for (const auto& item : o.at("objects").as_array()) {
      const auto& obj = item.as_object();
      PackageRecord::Object entry;
      entry.path = std::string(obj.at("path").as_string());
      PRESERVE_ASSIGN_OR_RETURN(entry.sha256, HexField(obj, "sha256"));
      entry.size = obj.at("size").to_number<std::uint64_t>();
      r.objects.push_back(std::move(entry));
    }
    if (const auto* next = o.if_contains("next_renewal")) {
      PRESERVE_ASSIGN_OR_RETURN(TimePoint t, ParseUtcTime(std::string_view(next->as_string())));
      r.next_renewal = t;
    }
    return r;
  });
}

Bytes EncodeEvidenceSkeleton(const EvidenceSkeleton& s) {
  json::array algorithms;
  for (auto alg : s.digest_algorithms) algorithms.emplace_back(HashAlgorithmName(alg));
  json::array chains;
  for (const auto& chain : s.chains) {
    json::array atss;
    for (const auto& ats : chain) {
      json::object a{{"alg", HashAlgorithmName(ats.digest_algorithm)}, {"batch", ats.batch_id}};
      a["tree"] = ats.reduced_hashtree ? json::value(TreeToJson(*ats.reduced_hashtree)) : json::value(nullptr);
      atss.push_back(std::move(a));
    }
    chains.push_back(std::move(atss));
  }
  return Serialize(json::object{{"digest_algorithms", std::move(algorithms)}, {"chains", std::move(chains)}});
}

Result<EvidenceSkeleton> DecodeEvidenceSkeleton(ByteView bytes) {
  return Guard("evidence skeleton", [&]() -> Result<EvidenceSkeleton> {
    PRESERVE_ASSIGN_OR_RETURN(json::object o, ParseObject(bytes, "evidence skeleton"));
    EvidenceSkeleton s;
    for (const auto& alg : o.at("digest_algorithms").as_array()) {
      PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm a, HashAlgorithmFromName(std::string_view(alg.as_string())));
      s.digest_algorithms.push_back(a);
    }
    for (const auto& chain : o.at("chains").as_array()) {
      std::vector<EvidenceSkeleton::Ats> atss;
      for (const auto& item : chain.as_array()) {
        const auto& a = item.as_object();
        EvidenceSkeleton::Ats ats;
        PRESERVE_ASSIGN_OR_RETURN(ats.digest_algorithm, AlgorithmField(a, "alg"));
        ats.batch_id = std::string(a.at("batch").as_string());
        if (!a.at("tree").is_null()) {
          PRESERVE_ASSIGN_OR_RETURN(timestamp::ReducedHashtree tree, TreeFromJson(a.at("tree").as_array()));
          ats.reduced_hashtree = std::move(tree);
        }
        atss.push_back(std::move(ats));
      }
      s.chains.push_back(std::move(atss));
    }
    return s;
  });
}

Bytes EncodeBatchRecord(const BatchRecord& b) {
  return Serialize(json::object{{"id", b.id},
                                {"time", FormatUtcTime(b.time)},
                                {"alg", HashAlgorithmName(b.hash_algorithm)},
                                {"root", ToHex(b.root)},
                                {"token", ToHex(b.token)},
                                {"packages", b.packages}});
}

Result<BatchRecord> DecodeBatchRecord(ByteView bytes) {
  return Guard("batch record", [&]() -> Result<BatchRecord> {
    PRESERVE_ASSIGN_OR_RETURN(json::object o, ParseObject(bytes, "batch record"));
    BatchRecord b;
    b.id = std::string(o.at("id").as_string());
    PRESERVE_ASSIGN_OR_RETURN(b.time, ParseUtcTime(std::string_view(o.at("time").as_string())));
    PRESERVE_ASSIGN_OR_RETURN(b.hash_algorithm, AlgorithmField(o, "alg"));
    PRESERVE_ASSIGN_OR_RETURN(b.root, HexField(o, "root"));
    PRESERVE_ASSIGN_OR_RETURN(b.token, HexField(o, "token"));
    b.packages = o.at("packages").to_number<std::size_t>();
    return b;
  });
}

}  // namespace preserve::archive
