// `preserve serve` end to end: the real binary on loopback, spoken to by curl
// and openssl s_client, never by preserve's own client. Every role against
// every operation; submissions accepted, held already and refused; evidence
// retrieved and checked; the access trail after a mixed session; TLS with
// and without client certificates; the store held while it runs; a service
// killed in the middle of a submission.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <thread>

#include "background_process.h"
#include "raw_http_client.h"
#include "preserve/util/bytes.h"
#include "store_cli_fixture.h"
#include "testing.h"

namespace preserve::testing {
namespace {

namespace json = boost::json;

constexpr const char* kCades = "http://uri.etsi.org/ades/CAdES";
constexpr const char* kSuccess = "urn:oasis:names:tc:dss:1.0:resultmajor:Success";
constexpr const char* kRequesterError = "urn:oasis:names:tc:dss:1.0:resultmajor:RequesterError";

struct HttpAnswer {
  long status = 0;
  json::value body;  // null when the body is not JSON
  std::string text;
  std::string headers;
};

std::string Describe(const HttpAnswer& a) { return "HTTP " + std::to_string(a.status) + ": " + a.text; }

std::string Maj(const HttpAnswer& a) {
  if (!a.body.is_object() || !a.body.as_object().contains("result")) return "";
  return std::string(a.body.at("result").at("maj").as_string());
}
std::string Min(const HttpAnswer& a) {
  if (!a.body.is_object() || !a.body.as_object().contains("result")) return "";
  const auto& r = a.body.at("result").as_object();
  return r.contains("min") ? std::string(r.at("min").as_string()) : "";
}
std::string Message(const HttpAnswer& a) {
  if (!a.body.is_object() || !a.body.as_object().contains("result")) return "";
  return std::string(a.body.at("result").at("msg").at("value").as_string());
}

json::object Po(const Bytes& bytes, const std::string& id, const std::string& format = "") {
  json::object po{{"binaryData", json::object{{"value", EncodeBase64(bytes)}}}, {"id", id}};
  if (!format.empty()) po["formatId"] = format;
  return po;
}

// The detached test letter and its CAdES signature, as one PreservePO.
json::object DetachedLetter(const std::string& signature = "letter.txt.p7s") {
  json::object sig = Po(ReadFileOrDie(SignedFixturePath(signature)), signature, kCades);
  sig["relObj"] = json::array{"letter.txt"};
  return {{"po", json::array{sig, Po(ReadFileOrDie(SignedFixturePath("letter.txt")), "letter.txt")}}};
}

class Serve : public StoreCli {
 protected:
  void SetUp() override {
    StoreCli::SetUp();
    CommandResult trust = Preserve({"trust", "add", kCliRootCa, "--reason", "the test PKI"});
    ASSERT_EQ(trust.exit_code, 0) << trust.err;
    // Seal within a second, so tests see evidence soon.
    WriteFile(store_ / "config.json", R"({"jobs": {"seal_every": "1s"}})");
    for (const char* role : {"officer", "auditor", "admin"}) tokens_[role] = AddUser(std::string(role) + "1", role);
  }

  std::string AddUser(const std::string& name, const std::string& role) {
    CommandResult r = Preserve({"user", "add", name, "--role", role, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    boost::system::error_code ec;
    json::value v = json::parse(r.out, ec);
    if (ec || !v.is_object() || !v.as_object().contains("token")) {
      ADD_FAILURE() << "no token in: " << r.out;
      return "";
    }
    return std::string(v.at("token").as_string());
  }

  // Starts the service; `extra` options after the defaults.
  void StartService(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {PRESERVE_BIN, "serve", "--store", store_.string(), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    service_ = std::make_unique<BackgroundProcess>(args);
    ASSERT_FALSE(service_->address().empty()) << service_->output();
    url_ = service_->address();
  }

  // A request with curl: `body` is sent as JSON when given (POST).
  HttpAnswer Call(const std::string& path, const std::string& token, const std::optional<json::object>& body,
                  const std::vector<std::string>& curl_options = {}) {
    const auto out = dir_ / "answer.json";
    const auto headers = dir_ / "headers.txt";
    std::vector<std::string> args = {"curl", "-sS", "-o", out.string(), "-D", headers.string(), "-w", "%{http_code}"};
    if (!token.empty()) args.insert(args.end(), {"-H", "Authorization: Bearer " + token});
    if (body) {
      WriteFile(dir_ / "request.json", json::serialize(*body));
      args.insert(args.end(), {"-H", "Content-Type: application/json", "--data-binary", "@" + (dir_ / "request.json").string()});
    }
    args.insert(args.end(), curl_options.begin(), curl_options.end());
    args.push_back(url_ + path);
    CommandResult r = testing::Run(args);
    HttpAnswer a;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    a.status = std::atol(r.out.c_str());
    std::error_code ec;
    if (std::filesystem::exists(out, ec)) a.text = ToString(ReadFileOrDie(out));
    if (std::filesystem::exists(headers, ec)) a.headers = ToString(ReadFileOrDie(headers));
    std::filesystem::remove(out, ec);
    boost::system::error_code jec;
    a.body = json::parse(a.text, jec);
    if (jec) a.body = nullptr;
    return a;
  }
  HttpAnswer Pres(const std::string& operation, const std::string& role, json::object body) {
    return Call("/pres/" + operation, tokens_[role], body);
  }

  // The id of a package the officer hands in.
  std::string SubmitLetter() {
    HttpAnswer a = Pres("PreservePO", "officer", DetachedLetter());
    EXPECT_EQ(a.status, 200) << Describe(a);
    return a.body.is_object() && a.body.as_object().contains("poId") ? std::string(a.body.at("poId").as_string()) : "";
  }

  // Waits (up to 30 s) until the package's evidence can be retrieved.
  bool WaitUntilSealed(const std::string& id) {
    for (int i = 0; i < 300; ++i) {
      HttpAnswer a = Pres("RetrievePO", "auditor", {{"poId", id}, {"sor", "Evidence"}});
      if (a.status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::map<std::string, std::string> tokens_;
  std::unique_ptr<BackgroundProcess> service_;
  std::string url_;
};

TEST_F(Serve, AnOfficerHandsADocumentInAndGetsItsPackageBack) {
  StartService();
  HttpAnswer first = Pres("PreservePO", "officer", DetachedLetter());
  ASSERT_EQ(first.status, 200) << Describe(first);
  EXPECT_EQ(Maj(first), kSuccess);
  const std::string id(first.body.at("poId").as_string());
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(first.body.at("result").at("msg").at("lang").as_string(), "vi");
  EXPECT_NE(Message(first).find("Đã tiếp nhận"), std::string::npos) << Message(first);

  // The same document again: already archived, nothing stored, the same id.
  json::object again = DetachedLetter();
  again["optIn"] = json::object{{"lang", "en"}};
  HttpAnswer second = Pres("PreservePO", "officer", again);
  ASSERT_EQ(second.status, 200) << Describe(second);
  EXPECT_EQ(second.body.at("poId").as_string(), id);
  EXPECT_NE(Message(second).find("already archived"), std::string::npos) << Message(second);
  EXPECT_EQ(second.body.at("optOut").at("other").at(0).at("value").at(0).at("outcome").as_string(), "duplicate");

  // Its data objects come back byte for byte.
  HttpAnswer got = Pres("RetrievePO", "officer", {{"poId", id}, {"sor", "PO"}});
  ASSERT_EQ(got.status, 200) << Describe(got);
  bool found = false;
  for (const auto& po : got.body.at("po").as_array()) {
    if (po.at("id").as_string() != "documents/letter.txt") continue;
    found = true;
    auto bytes = DecodeBase64(po.at("binaryData").at("value").as_string());
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, ReadFileOrDie(SignedFixturePath("letter.txt")));
  }
  EXPECT_TRUE(found) << got.text;
  // A unique prefix names it too; an unknown id is unknownPOID.
  EXPECT_EQ(Pres("RetrievePO", "officer", {{"poId", id.substr(0, 12)}, {"sor", "PO"}}).status, 200);
  HttpAnswer unknown = Pres("RetrievePO", "officer", {{"poId", "00000000-0000-7000-8000-000000000000"}});
  EXPECT_EQ(unknown.status, 400) << Describe(unknown);
  EXPECT_EQ(Min(unknown), "http://uri.etsi.org/19512/error/unknownPOID");
}

TEST_F(Serve, RefusalsSayWhyInTheRequestsLanguage) {
  StartService();
  HttpAnswer untrusted = Pres("PreservePO", "officer", DetachedLetter("letter-untrusted-signer.txt.p7s"));
  EXPECT_EQ(untrusted.status, 400) << Describe(untrusted);
  EXPECT_EQ(Maj(untrusted), kRequesterError);
  EXPECT_EQ(Min(untrusted), "urn:preserve:19512:error:signatureRefused");
  EXPECT_NE(Message(untrusted).find("Bị từ chối: chữ ký số không đáng tin cậy"), std::string::npos) << Message(untrusted);
  EXPECT_EQ(untrusted.body.at("optOut").at("other").at(0).at("value").at(0).at("outcome").as_string(), "refused");

  json::object english = DetachedLetter("letter-untrusted-signer.txt.p7s");
  english["optIn"] = json::object{{"lang", "en"}};
  EXPECT_NE(Message(Pres("PreservePO", "officer", english)).find("refused: the signature is not trustworthy"),
            std::string::npos);

  HttpAnswer unsigned_text =
      Pres("PreservePO", "officer", {{"po", json::array{Po(ToBytes("just text\n"), "note.txt")}}});
  EXPECT_EQ(unsigned_text.status, 400) << Describe(unsigned_text);
  EXPECT_EQ(Min(unsigned_text), "http://uri.etsi.org/19512/error/POFormatError");

  json::object bad_base64{{"po", json::array{json::object{{"binaryData", json::object{{"value", "not*base64"}}}}}}};
  HttpAnswer bad = Pres("PreservePO", "officer", bad_base64);
  EXPECT_EQ(bad.status, 400) << Describe(bad);
  EXPECT_EQ(Min(bad), "http://uri.etsi.org/19512/error/parameterError");
  EXPECT_NE(Message(bad).find("base64"), std::string::npos);

  // Not JSON at all, and an unknown operation.
  WriteFile(dir_ / "broken.json", "{\"po\": [");
  CommandResult broken = testing::Run({"curl", "-sS", "-w", "\n%{http_code}", "-H", "Authorization: Bearer " + tokens_["officer"],
                              "--data-binary", "@" + (dir_ / "broken.json").string(), url_ + "/pres/PreservePO"});
  EXPECT_NE(broken.out.find("\n400"), std::string::npos) << broken.out;
  EXPECT_NE(broken.out.find("parameterError"), std::string::npos) << broken.out;
  EXPECT_EQ(Pres("Frobnicate", "admin", {}).status, 404);

  // What one request may make the service hold is bounded.
  json::array many;
  for (int i = 0; i < 300; ++i) many.push_back(Po(ToBytes("x"), "po" + std::to_string(i)));
  HttpAnswer too_many = Pres("PreservePO", "officer", {{"po", many}, {"optIn", json::object{{"lang", "en"}}}});
  EXPECT_EQ(too_many.status, 400) << Describe(too_many);
  EXPECT_NE(Message(too_many).find("at most 256 objects"), std::string::npos) << Message(too_many);
  json::array zeros(200000, json::value(0));
  HttpAnswer values = Pres("Search", "officer", {{"fi", json::object{}}, {"pad", zeros}});
  EXPECT_EQ(values.status, 400) << Describe(values);
  EXPECT_NE(Message(values).find("JSON"), std::string::npos) << Message(values);

  // Nothing refused was stored.
  CommandResult list = Preserve({"list", "--json"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.find("\"id\""), std::string::npos) << list.out;
}

TEST_F(Serve, EveryRoleAgainstEveryOperation) {
  StartService();
  const std::string id = SubmitLetter();
  ASSERT_FALSE(id.empty());
  // What each operation is sent: enough to get past the permission check.
  const std::map<std::string, json::object> requests = {
      {"RetrieveInfo", {}},
      {"PreservePO", DetachedLetter()},
      {"RetrievePO", {{"poId", id}, {"sor", "PO"}}},
      {"ValidateEvidence", {{"poId", id}}},
      {"RetrieveTrace", {{"poId", id}}},
      {"Search", {{"fi", json::object{}}}},
      {"DeletePO", {{"poId", id}, {"reason", "role test"}}},
  };
  const std::map<std::string, std::set<std::string>> allowed = {
      {"officer", {"RetrieveInfo", "PreservePO", "RetrievePO", "Search"}},
      {"auditor", {"RetrieveInfo", "RetrievePO", "ValidateEvidence", "RetrieveTrace", "Search"}},
      {"admin", {"RetrieveInfo", "PreservePO", "RetrievePO", "ValidateEvidence", "RetrieveTrace", "Search", "DeletePO"}},
  };
  for (const auto& [role, may] : allowed) {
    for (const auto& [operation, body] : requests) {
      HttpAnswer a = Pres(operation, role, body);
      if (may.count(operation) != 0) {
        EXPECT_NE(a.status, 403) << role << " " << operation << ": " << Describe(a);
        EXPECT_NE(a.status, 401) << role << " " << operation << ": " << Describe(a);
      } else {
        EXPECT_EQ(a.status, 403) << role << " " << operation << ": " << Describe(a);
        EXPECT_EQ(Min(a), "http://uri.etsi.org/19512/error/noPermission") << role << " " << operation;
      }
    }
    HttpAnswer log = Call("/api/audit-log?limit=5", tokens_[role], std::nullopt);
    EXPECT_EQ(log.status, role == "officer" ? 403 : 200) << role << ": " << Describe(log);
  }
  // No token, or a wrong one: 401, with the scheme to use.
  HttpAnswer none = Call("/pres/RetrieveInfo", "", json::object{});
  EXPECT_EQ(none.status, 401) << Describe(none);
  EXPECT_NE(none.headers.find("WWW-Authenticate: Bearer"), std::string::npos) << none.headers;
  EXPECT_EQ(Call("/pres/RetrieveInfo", "ptk_0000000000000000.AAAA", json::object{}).status, 401);
  EXPECT_EQ(Call("/pres/RetrieveInfo", tokens_["officer"] + "x", json::object{}).status, 401);
}

TEST_F(Serve, EvidenceIsRetrievedAndValidated) {
  StartService();
  const std::string id = SubmitLetter();
  ASSERT_TRUE(WaitUntilSealed(id)) << service_->output();

  HttpAnswer validated = Pres("ValidateEvidence", "auditor", {{"poId", id}});
  ASSERT_EQ(validated.status, 200) << Describe(validated);
  EXPECT_EQ(validated.body.at("valRep").at("verdict").as_string(), "VALID") << validated.text;
  EXPECT_TRUE(validated.body.as_object().contains("poe"));
  EXPECT_NE(Message(validated).find("HỢP LỆ"), std::string::npos) << Message(validated);

  // The evidence record with the package's data objects, as an outside
  // verifier would hand them in.
  HttpAnswer detached = Pres("RetrievePO", "auditor", {{"poId", id}, {"sor", "POwithDetachedEvidence"}});
  ASSERT_EQ(detached.status, 200) << Describe(detached);
  json::array data;
  json::value evidence;
  for (const auto& po : detached.body.at("po").as_array()) {
    if (po.as_object().contains("formatId") && po.at("formatId").as_string() == "urn:ietf:rfc:4998:EvidenceRecord")
      evidence = po;
    else
      data.push_back(po);
  }
  ASSERT_TRUE(evidence.is_object()) << detached.text;
  HttpAnswer loose = Pres("ValidateEvidence", "auditor", {{"ev", evidence}, {"po", data}});
  ASSERT_EQ(loose.status, 200) << Describe(loose);
  EXPECT_EQ(loose.body.at("valRep").at("verdict").as_string(), "VALID") << loose.text;
  // One data object changed: the evidence no longer covers them.
  data[0].as_object()["binaryData"] = json::object{{"value", EncodeBase64(ToBytes("forged"))}};
  HttpAnswer forged = Pres("ValidateEvidence", "auditor", {{"ev", evidence}, {"po", data}});
  ASSERT_EQ(forged.status, 200) << Describe(forged);
  EXPECT_EQ(forged.body.at("valRep").at("verdict").as_string(), "INVALID") << forged.text;

  // With the evidence embedded: the exported package, which preserve
  // verify-package proves with nothing but the store's CA.
  HttpAnswer embedded = Pres("RetrievePO", "auditor", {{"poId", id}});
  ASSERT_EQ(embedded.status, 200) << Describe(embedded);
  auto zip = DecodeBase64(embedded.body.at("po").at(0).at("binaryData").at("value").as_string());
  ASSERT_TRUE(zip);
  WriteFile(dir_ / "package.zip", *zip);
  CommandResult verified = testing::Run({PRESERVE_BIN, "verify-package", (dir_ / "package.zip").string(), "--tsa-trust",
                                (store_ / "tsa" / "ca.pem").string(), "--trust", kCliRootCa});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // ... and ValidateEvidence takes it as uploaded.
  HttpAnswer uploaded = Pres("ValidateEvidence", "auditor", {{"po", json::array{Po(*zip, "package.zip")}}});
  ASSERT_EQ(uploaded.status, 200) << Describe(uploaded);
  EXPECT_EQ(uploaded.body.at("valRep").at("verdict").as_string(), "VALID") << uploaded.text;
}

TEST_F(Serve, SearchFindsPackagesByTheirRecordMetadata) {
  StartService();
  json::object request = DetachedLetter();
  json::object metadata = Po(ToBytes(R"({"organ_name": "UBND tỉnh Đắk Nông", "type_name": "Công văn",
                                         "issued_date": "2024-05-06", "code_number": "12", "code_notation": "UBND-VP",
                                         "subject": "Thử nghiệm", "retention": 10})"),
                             "metadata", "urn:preserve:record-metadata");
  request["po"].as_array()[0].as_object()["relObj"] = json::array{"letter.txt", "metadata"};
  request["po"].as_array().push_back(metadata);
  HttpAnswer submitted = Pres("PreservePO", "officer", request);
  ASSERT_EQ(submitted.status, 200) << Describe(submitted);
  const std::string id(submitted.body.at("poId").as_string());

  HttpAnswer found = Pres("Search", "auditor", {{"fi", json::object{{"organ", "Đắk Nông"}, {"issuedFrom", "01/05/2024"}}}});
  ASSERT_EQ(found.status, 200) << Describe(found);
  ASSERT_EQ(found.body.at("poId").as_array().size(), 1u) << found.text;
  EXPECT_EQ(found.body.at("poId").at(0).as_string(), id);
  HttpAnswer none = Pres("Search", "auditor", {{"fi", json::object{{"organ", "Hà Nội"}}}});
  EXPECT_TRUE(none.body.at("poId").as_array().empty()) << none.text;
  HttpAnswer bad = Pres("Search", "auditor", {{"fi", json::object{{"colour", "red"}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(Message(bad).find("fi.colour"), std::string::npos);
}

TEST_F(Serve, DeletionNeedsAReasonAndRespectsRetention) {
  StartService();
  const std::string id = SubmitLetter();
  ASSERT_TRUE(WaitUntilSealed(id)) << service_->output();
  HttpAnswer prefix = Pres("DeletePO", "admin", {{"poId", id.substr(0, 12)}, {"reason", "tidy up"}});
  EXPECT_EQ(prefix.status, 400) << Describe(prefix);
  EXPECT_NE(Message(prefix).find("mã gói"), std::string::npos) << Message(prefix);
  HttpAnswer no_reason = Pres("DeletePO", "admin", {{"poId", id}});
  EXPECT_EQ(no_reason.status, 400) << Describe(no_reason);
  EXPECT_NE(Message(no_reason).find("lý do"), std::string::npos) << Message(no_reason);
  // Kept permanently (no retention given): not deleted, and told why.
  HttpAnswer kept = Pres("DeletePO", "admin", {{"poId", id}, {"reason", "tidy up"}, {"optIn", json::object{{"lang", "en"}}}});
  EXPECT_EQ(kept.status, 400) << Describe(kept);
  EXPECT_EQ(Min(kept), "http://uri.etsi.org/19512/error/noPermission");
  EXPECT_NE(Message(kept).find("permanent"), std::string::npos) << Message(kept);
  EXPECT_EQ(Pres("RetrievePO", "auditor", {{"poId", id}, {"sor", "PO"}}).status, 200);
}

TEST_F(Serve, TheAccessTrailNamesEveryRequest) {
  StartService();
  const std::string id = SubmitLetter();
  Pres("RetrievePO", "auditor", {{"poId", id}, {"sor", "PO"}});
  Pres("DeletePO", "officer", {{"poId", id}, {"reason", "not mine to delete"}});
  Call("/pres/Search", "", json::object{});

  HttpAnswer trace = Pres("RetrieveTrace", "auditor", {{"poId", id}});
  ASSERT_EQ(trace.status, 200) << Describe(trace);
  std::set<std::string> ops;
  for (const auto& e : trace.body.at("trace").at("event").as_array()) ops.insert(std::string(e.at("op").as_string()));
  EXPECT_TRUE(ops.count("ingest")) << trace.text;
  EXPECT_TRUE(ops.count("access")) << trace.text;

  // Read beside the running service, with the CLI, from the sealed trail itself.
  CommandResult log = Preserve({"audit-log", "show", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  auto has = [&](const std::string& account, const std::string& operation, const std::string& outcome) {
    for (const std::string& line : Lines(log.out)) {
      if (line.find("\"access\"") == std::string::npos) continue;
      if (line.find("\"account\":\"" + account + "\"") != std::string::npos &&
          line.find("\"operation\":\"" + operation + "\"") != std::string::npos &&
          line.find("\"outcome\":\"" + outcome + "\"") != std::string::npos)
        return true;
    }
    return false;
  };
  EXPECT_TRUE(has("officer1", "PreservePO", "Success")) << log.out;
  EXPECT_TRUE(has("auditor1", "RetrievePO", "Success")) << log.out;
  EXPECT_TRUE(has("officer1", "DeletePO", "RequesterError noPermission")) << log.out;
  EXPECT_TRUE(has("", "Search", "RequesterError noPermission")) << log.out;
  EXPECT_TRUE(has("auditor1", "RetrieveTrace", "Success")) << log.out;
  // The chain holds.
  CommandResult verify = Preserve({"audit-log", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(Serve, TheServiceHoldsTheStoreAndStopsCleanly) {
  StartService();
  const std::string id = SubmitLetter();
  CommandResult seal = Preserve({"seal"});
  EXPECT_NE(seal.exit_code, 0);
  EXPECT_NE(seal.err.find("preserve serve"), std::string::npos) << seal.err;
  CommandResult list = Preserve({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  EXPECT_EQ(Preserve({"status"}).exit_code, 0);
  EXPECT_EQ(service_->Stop(SIGTERM), 0) << service_->output();
  EXPECT_NE(service_->output().find("stopped"), std::string::npos) << service_->output();
  // Once it has gone, the CLI writes again.
  EXPECT_EQ(Preserve({"seal"}).exit_code, 0);
}

TEST_F(Serve, ASubmissionKilledMidRequestLeavesNothing) {
  StartService();
  // Half a PreservePO: the head announces more body than is sent.
  const std::string body = json::serialize(DetachedLetter());
  RawHttpClient client(url_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("POST /pres/PreservePO HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tokens_["officer"] +
                          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body.substr(0, body.size() / 2)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(service_->Stop(SIGKILL), 128 + SIGKILL);

  CommandResult list = Preserve({"list", "--json"});
  EXPECT_EQ(list.out.find("\"id\""), std::string::npos) << list.out;
  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  // Started again, it serves, and what the killed one held is gone.
  StartService();
  EXPECT_FALSE(SubmitLetter().empty());
  EXPECT_TRUE(std::filesystem::is_empty(store_ / "spool"));
}

// Without credentials, or without a session, a request is refused from its
// head: its announced body (the most the service takes) is never waited
// for, nor held. With them, the body is read as usual.
TEST_F(Serve, RequestsWithoutCredentialsAreRefusedBeforeTheirBodies) {
  StartService();
  const std::string announced = std::to_string(64u << 20);
  RawHttpClient api(url_);
  ASSERT_TRUE(api.Send("POST /pres/PreservePO HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: " + announced + "\r\n\r\n{"));
  RawHttpResponse refused = api.Receive();
  EXPECT_EQ(refused.status, 401) << refused.head << refused.body;
  EXPECT_TRUE(refused.close);
  RawHttpClient wrong_role(url_);
  ASSERT_TRUE(wrong_role.Send("POST /pres/DeletePO HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              tokens_["auditor"] + "\r\nContent-Length: " + announced + "\r\n\r\n"));
  EXPECT_EQ(wrong_role.Receive().status, 403);
  RawHttpClient web(url_);
  ASSERT_TRUE(web.Send("POST /handin HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                       "Content-Length: " + announced + "\r\n\r\n--b"));
  RawHttpResponse signin = web.Receive();
  EXPECT_EQ(signin.status, 303) << signin.head;
  EXPECT_TRUE(Contains(signin.head, "Location: /signin")) << signin.head;
  // The refusals are in the access trail like any other.
  CommandResult log = Preserve({"audit-log", "show", "--json"});
  EXPECT_TRUE(Contains(log.out, "RequesterError noPermission")) << log.out;
  // With a token the body is read and the document taken in.
  EXPECT_FALSE(SubmitLetter().empty());
}

TEST_F(Serve, LimitsAnswerWithStandardResults) {
  StartService({"--max-requests-per-account", "1", "--max-body-mib", "1"});
  const std::string id = SubmitLetter();
  ASSERT_FALSE(id.empty());
  // Sixteen at once from one account allowed one in flight: some wait their
  // turn as 429, none is lost, and none fails otherwise.
  WriteFile(dir_ / "retrieve.json", json::serialize(json::object{{"poId", id}, {"sor", "PO"}}));
  std::vector<std::string> args = {"curl", "-sS", "--parallel", "--parallel-immediate", "--parallel-max", "16"};
  for (int i = 0; i < 16; ++i)  // --next: each transfer its own options (else the bodies are joined)
    args.insert(args.end(), {i == 0 ? "-s" : "--next", "-o", "/dev/null", "-w", "%{http_code}\n", "-H", "Authorization: Bearer " + tokens_["auditor"],
                             "--data-binary", "@" + (dir_ / "retrieve.json").string(), url_ + "/pres/RetrievePO"});
  CommandResult burst = testing::Run(args);
  ASSERT_EQ(burst.exit_code, 0) << burst.err;
  std::map<std::string, int> statuses;
  for (const std::string& line : Lines(burst.out)) ++statuses[line];
  EXPECT_EQ(statuses["200"] + statuses["429"], 16) << burst.out;
  EXPECT_GE(statuses["429"], 1) << burst.out;
  EXPECT_GE(statuses["200"], 1) << burst.out;

  // A body over --max-body-mib: 413 with transferError, before the handler.
  WriteFile(dir_ / "big.json", std::string(2u << 20, ' ') + "{}");
  CommandResult big = testing::Run({"curl", "-sS", "-w", "\n%{http_code}", "-H", "Authorization: Bearer " + tokens_["officer"],
                                    "--data-binary", "@" + (dir_ / "big.json").string(), url_ + "/pres/PreservePO"});
  EXPECT_NE(big.out.find("\n413"), std::string::npos) << big.out << big.err;
  EXPECT_NE(big.out.find("transferError"), std::string::npos) << big.out;

  CommandResult log = Preserve({"audit-log", "show", "--json"});
  EXPECT_NE(log.out.find("RequesterError tooManyRequests"), std::string::npos) << log.out;
}

TEST_F(Serve, PlainHttpOnlyOnLoopback) {
  CommandResult open = testing::Run({PRESERVE_BIN, "serve", "--store", store_.string(), "--listen", "0.0.0.0:0"}, {},
                           {.drop_inherited_preserve_env = true, .kill_after = std::chrono::seconds(20)});
  EXPECT_NE(open.exit_code, 0);
  EXPECT_NE(open.err.find("--tls-cert"), std::string::npos) << open.err;
}

// ---- TLS, with certificates made by the openssl command ----

class ServeTls : public Serve {
 protected:
  void SetUp() override {
    Serve::SetUp();
    pki_ = dir_ / "pki";
    std::filesystem::create_directories(pki_);
    MakeCa("server-ca");
    MakeCa("client-ca");
    MakeCa("other-ca");
    Issue("server-ca", "server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1");
    Issue("client-ca", "client", "/CN=e-office system", "");
    Issue("other-ca", "stranger", "/CN=stranger", "");
  }

  void OpenSsl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    CommandResult r = testing::Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string P(const std::string& name) const { return (pki_ / name).string(); }
  void MakeCa(const std::string& name) {
    OpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             P(name + ".key"), "-out", P(name + ".pem"), "-days", "30", "-subj", "/CN=" + name});
  }
  void Issue(const std::string& ca, const std::string& name, const std::string& subject, const std::string& san) {
    OpenSsl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", P(name + ".key"),
             "-out", P(name + ".csr"), "-subj", subject});
    std::vector<std::string> args = {"x509", "-req", "-in", P(name + ".csr"), "-CA", P(ca + ".pem"), "-CAkey",
                                     P(ca + ".key"), "-CAcreateserial", "-out", P(name + ".pem"), "-days", "30"};
    if (!san.empty()) {
      WriteFile(pki_ / (name + ".ext"), san + "\n");
      args.insert(args.end(), {"-extfile", P(name + ".ext")});
    }
    OpenSsl(args);
  }

  std::filesystem::path pki_;
};

TEST_F(ServeTls, ServesTls12AndLaterAndMapsClientCertificatesToAccounts) {
  ASSERT_EQ(Preserve({"user", "add", "eoffice", "--role", "officer", "--certificate", P("client.pem")}).exit_code, 0);
  StartService({"--tls-cert", P("server.pem"), "--tls-key", P("server.key"), "--client-ca", P("client-ca.pem")});
  ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << url_;

  HttpAnswer info = Call("/pres/RetrieveInfo", tokens_["auditor"], json::object{}, {"--cacert", P("server-ca.pem")});
  EXPECT_EQ(info.status, 200) << Describe(info);
  EXPECT_EQ(info.body.at("pro").at(0).at("psm").as_string(), "WithStorage");

  // The client certificate alone authenticates, as the account it is mapped to.
  HttpAnswer by_certificate = Call("/pres/PreservePO", "", DetachedLetter(),
                                   {"--cacert", P("server-ca.pem"), "--cert", P("client.pem"), "--key", P("client.key")});
  EXPECT_EQ(by_certificate.status, 200) << Describe(by_certificate);
  // One from another CA does not.
  CommandResult refused = testing::Run({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", P("server-ca.pem"),
                               "--cert", P("stranger.pem"), "--key", P("stranger.key"), "--data-binary", "{}",
                               url_ + "/pres/RetrieveInfo"});
  EXPECT_TRUE(refused.exit_code != 0 || refused.out == "401") << refused.out << refused.err;

  CommandResult log = Preserve({"audit-log", "show", "--json"});
  EXPECT_NE(log.out.find("\"account\":\"eoffice\""), std::string::npos) << log.out;

  // TLS 1.2 and 1.3 are spoken, 1.1 is not.
  const std::string host = url_.substr(std::string("https://").size());
  for (const char* version : {"-tls1_2", "-tls1_3", "-tls1_1"}) {
    CommandResult s = testing::Run({"sh", "-c", "echo | openssl s_client -connect " + host + " " + version + " -CAfile " +
                                           P("server-ca.pem") + " 2>&1"});
    // s_client says "New, TLSv1.x, Cipher is ..." after a handshake, and
    // "New, (NONE), Cipher is (NONE)" when there was none.
    const bool spoken = s.out.find("New, TLSv1") != std::string::npos;
    EXPECT_EQ(spoken, std::string(version) != "-tls1_1") << version << ": " << s.out;
  }
  // Plain HTTP to the TLS port gets no answer.
  CommandResult plain = testing::Run({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "{}",
                             "http://" + host + "/pres/RetrieveInfo"});
  EXPECT_NE(plain.out, "200") << plain.out;
}

}  // namespace
}  // namespace preserve::testing
