// The web application's frame, in-process: what browsers send parsed
// (forms, multipart, cookies), sessions and their ends, sign-in lock-out,
// and WebApp itself on a real store: sign-in, cookies, roles, CSRF, the
// access trail, security headers. The pages are tested in a real browser
// (tests/web/test_*.py).
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "archive_fixture.h"
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "forms.h"
#include "template.h"
#include "view.h"
#include "preserve/archive/accounts.h"
#include "preserve/archive/jobs.h"
#include "preserve/web/web_app.h"
#include "sessions.h"

namespace preserve::testing {
namespace {

using web::Fields;

// ---- Forms ----

TEST(WebForms, UrlDecodingTakesPlusAndPercentAndRefusesBrokenEscapes) {
  EXPECT_EQ(web::UrlDecode("%C4%90%E1%BA%AFk+N%C3%B4ng").value(), "Đắk Nông");
  EXPECT_EQ(web::UrlDecode("a%2Fb").value(), "a/b");
  EXPECT_FALSE(web::UrlDecode("100%").has_value());
  EXPECT_FALSE(web::UrlDecode("%4").has_value());
  EXPECT_FALSE(web::UrlDecode("%zz").has_value());
  EXPECT_EQ(web::UrlDecode(web::UrlEncode("6587/UBND-CNXD & Đắk Nông")).value(), "6587/UBND-CNXD & Đắk Nông");
}

TEST(WebForms, UrlEncodedFieldsKeepOrderRepeatsAndDropBrokenPairs) {
  Fields f = web::ParseUrlEncoded("a=1&b=x+y&a=2&&bad=%zz&c");
  EXPECT_EQ(f.Get("a"), "1");
  EXPECT_EQ(f.All("a"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(f.Get("b"), "x y");
  EXPECT_FALSE(f.Has("bad"));
  EXPECT_TRUE(f.Has("c"));
  EXPECT_EQ(web::ParseUrlEncoded("x=1&x=2&x=3", 2).All("x").size(), 2u);
  EXPECT_EQ(web::TargetPath("/package/abc?x=1"), "/package/abc");
  EXPECT_EQ(web::TargetQuery("/search?organ=%C4%90").Get("organ"), "Đ");
}

TEST(WebForms, CookiesAreSplitAndTrimmed) {
  Fields c = web::ParseCookies("preserve_session=abc; preserve_lang=\"en\";  =x; novalue; other=1");
  EXPECT_EQ(c.Get("preserve_session"), "abc");
  EXPECT_EQ(c.Get("preserve_lang"), "en");
  EXPECT_EQ(c.Get("other"), "1");
  EXPECT_FALSE(c.Has("novalue"));
}

TEST(WebForms, MultipartPartsWithFilesAndFields) {
  const std::string body =
      "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a;b \\\"c\\\".p7s\"\r\n"
      "Content-Type: application/pkcs7-signature\r\n\r\n\x30\x82\r\n--X\r\n"
      "--XyZ--\r\nepilogue";
  auto parts = web::ParseMultipart("multipart/form-data; boundary=XyZ", body);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts.value().size(), 2u);
  EXPECT_EQ(parts.value()[0].name, "csrf");
  EXPECT_EQ(parts.value()[0].data, "token");
  EXPECT_FALSE(parts.value()[0].file_name.has_value());
  EXPECT_EQ(parts.value()[1].file_name.value(), "a;b \"c\".p7s");
  EXPECT_EQ(parts.value()[1].content_type, "application/pkcs7-signature");
  EXPECT_EQ(parts.value()[1].data, std::string("\x30\x82\r\n--X", 7));  // a delimiter's prefix inside data is data
}

TEST(WebForms, MalformedMultipartIsRefusedNotCrashed) {
  const std::string type = "multipart/form-data; boundary=B";
  for (const std::string& body : {std::string(""), std::string("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"),
                                 std::string("--B\r\n\r\nx\r\n--B--"), std::string("--B\r\nX: y\r\n\r\nx\r\n--B--"),
                                 std::string("--Bgarbage"), std::string("no delimiter at all")}) {
    EXPECT_FALSE(web::ParseMultipart(type, body).ok()) << body;
  }
  EXPECT_FALSE(web::ParseMultipart("multipart/form-data", "--B--").ok());
  EXPECT_FALSE(web::ParseMultipart("application/json; boundary=B", "--B--").ok());
  std::string many;
  for (int i = 0; i < 5; ++i) many += "--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n";
  many += "--B--";
  EXPECT_TRUE(web::ParseMultipart(type, many, 5).ok());
  EXPECT_FALSE(web::ParseMultipart(type, many, 4).ok());
}

// ---- Templates and catalogues ----

std::string RenderText(const std::string& source, const boost::json::object& data) {
  web::TemplateContext context;
  context.text = [](std::string_view key) { return key == "greeting" ? std::string("Xin chào {who} & bạn") : std::string(key); };
  context.partial = [](std::string_view name) -> std::optional<std::string> {
    if (name == "item") return std::string("<i>{{name}}</i>");
    return std::nullopt;
  };
  return web::RenderTemplate(source, data, context);
}

TEST(WebTemplates, ValuesAreEscapedUnlessTripleBraced) {
  boost::json::object data{{"x", "<b>\"&'"}, {"n", 42}, {"yes", true}, {"nested", {{"a", {{"b", "deep"}}}}}};
  EXPECT_EQ(RenderText("[{{x}}]", data), "[&lt;b&gt;&quot;&amp;&#39;]");
  EXPECT_EQ(RenderText("[{{{x}}}]", data), "[<b>\"&']");
  EXPECT_EQ(RenderText("{{n}} {{yes}} {{nested.a.b}} [{{missing}}] [{{nested.nope.b}}]", data), "42 true deep [] []");
  EXPECT_EQ(RenderText("{{! a comment }}ok", data), "ok");
}

TEST(WebTemplates, SectionsLoopTestAndInvert) {
  boost::json::object data{{"rows", boost::json::array{{{"name", "a"}}, {{"name", "<b>"}}}},
                           {"empty", boost::json::array{}},
                           {"words", boost::json::array{"x", "y"}},
                           {"title", "outer"},
                           {"zero", 0},
                           {"who", {{"name", "Đắk Nông"}}}};
  EXPECT_EQ(RenderText("{{#rows}}<li>{{name}} {{title}}</li>{{/rows}}", data),
            "<li>a outer</li><li>&lt;b&gt; outer</li>");
  EXPECT_EQ(RenderText("{{#empty}}x{{/empty}}{{^empty}}none{{/empty}}", data), "none");
  EXPECT_EQ(RenderText("{{#words}}[{{.}}]{{/words}}", data), "[x][y]");
  EXPECT_EQ(RenderText("{{#zero}}z{{/zero}}{{^zero}}nz{{/zero}}{{^missing}}m{{/missing}}", data), "nzm");
  EXPECT_EQ(RenderText("{{#who}}{{name}}{{/who}}", data), "Đắk Nông");
  EXPECT_EQ(RenderText("{{#rows}}{{#rows}}.{{/rows}}|{{/rows}}", data), "..|..|");  // the same name nested
  EXPECT_EQ(RenderText("{{#rows}}{{>item}}{{/rows}}", data), "<i>a</i><i>&lt;b&gt;</i>");
}

TEST(WebTemplates, TextsComeFromTheCatalogueWithEscapedPlaceholders) {
  EXPECT_EQ(RenderText("{{t:greeting}}", {{"who", "<Lan>"}}), "Xin chào &lt;Lan&gt; &amp; bạn");
  EXPECT_EQ(web::FillPlaceholders("until {until}.", {{"until", "05/12/2026"}}, false), "until 05/12/2026.");
}

TEST(WebTemplates, BrokenTemplatesSayWhereNotCrash) {
  EXPECT_NE(RenderText("a{{#x}}never closed", {{"x", true}}).find("never closed]"), std::string::npos);
  EXPECT_NE(RenderText("a{{unended", {}).find("a tag never ends"), std::string::npos);
  EXPECT_NE(RenderText("{{>nosuch}}", {}).find("no template"), std::string::npos);
}

// The catalogues' keys, in file order.
std::vector<std::pair<std::string, std::string>> CatalogueLines(const std::string& file) {
  std::ifstream in(std::string(PRESERVE_SOURCE_DIR) + "/web/i18n/" + file);
  std::vector<std::pair<std::string, std::string>> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t eq = line.find(" = ");
    EXPECT_NE(eq, std::string::npos) << file << ": " << line;
    if (eq != std::string::npos) lines.emplace_back(line.substr(0, eq), line.substr(eq + 3));
  }
  return lines;
}

std::set<std::string> Placeholders(const std::string& text) {
  std::set<std::string> names;
  const std::regex placeholder("\\{([a-z_.]+)\\}");
  for (std::sregex_iterator it(text.begin(), text.end(), placeholder), end; it != end; ++it) names.insert((*it)[1]);
  return names;
}

TEST(WebCatalogues, BothLanguagesHaveTheSameKeysInTheSameOrderWithTheSamePlaceholders) {
  const auto vi = CatalogueLines("vi.txt");
  const auto en = CatalogueLines("en.txt");
  ASSERT_GT(vi.size(), 50u);
  ASSERT_EQ(vi.size(), en.size());
  std::set<std::string> seen;
  for (std::size_t i = 0; i < vi.size(); ++i) {
    EXPECT_EQ(vi[i].first, en[i].first) << "line " << i;
    EXPECT_TRUE(seen.insert(vi[i].first).second) << "key twice: " << vi[i].first;
    EXPECT_FALSE(vi[i].second.empty()) << vi[i].first;
    EXPECT_EQ(Placeholders(vi[i].second), Placeholders(en[i].second)) << vi[i].first;
  }
  // What the binary embeds is what the files say.
  EXPECT_EQ(web::Catalogue::Of(web::Lang::kVi).texts().size(), vi.size());
  EXPECT_EQ(web::Catalogue::Of(web::Lang::kVi).Text("signin.title"), "Đăng nhập");
  EXPECT_EQ(web::Catalogue::Of(web::Lang::kEn).Text("signin.title"), "Sign in");
}

// Every key a template or a page names, literally, is in the catalogues.
TEST(WebCatalogues, EveryKeyUsedExists) {
  const auto& texts = web::Catalogue::Of(web::Lang::kEn).texts();
  const std::regex in_template("\\{\\{t:([a-zA-Z0-9_.]+)\\}\\}");
  const std::regex in_code("Text\\(\"([a-z][a-zA-Z0-9_.]+)\"");
  std::size_t used = 0;
  for (const auto& dir : {std::string("/web/templates"), std::string("/web/src")}) {
    for (const auto& entry : std::filesystem::directory_iterator(std::string(PRESERVE_SOURCE_DIR) + dir)) {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      const std::string source = text.str();
      const std::regex& pattern = dir == "/web/templates" ? in_template : in_code;
      for (std::sregex_iterator it(source.begin(), source.end(), pattern), end; it != end; ++it) {
        ++used;
        EXPECT_TRUE(texts.count((*it)[1].str()) == 1) << entry.path().filename() << " names " << (*it)[1];
      }
    }
  }
  EXPECT_GT(used, 10u);
}

// ---- Sessions and lock-out ----

TEST(WebSessions, EndAfterIdleTimeAfterLifetimeAndOnRequest) {
  ManualClock clock(At("2026-12-01T08:00:00Z"));
  web::SessionStore sessions(clock, std::chrono::minutes(30), std::chrono::hours(12));
  auto a = sessions.Start("alice", archive::Role::kOfficer);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().id.size(), 64u);
  EXPECT_NE(a.value().id, a.value().csrf);
  // Used every 29 minutes it lives on, up to its lifetime.
  for (int i = 0; i < 24; ++i) {
    clock.Advance(std::chrono::minutes(29));
    ASSERT_TRUE(sessions.Find(a.value().id).has_value()) << i;
  }
  clock.Advance(std::chrono::minutes(29));  // 12 h 25 min after it started
  EXPECT_FALSE(sessions.Find(a.value().id).has_value());

  auto b = sessions.Start("bob", archive::Role::kAuditor);
  clock.Advance(std::chrono::minutes(31));
  EXPECT_FALSE(sessions.Find(b.value().id).has_value());

  auto c1 = sessions.Start("carol", archive::Role::kAdmin);
  auto c2 = sessions.Start("carol", archive::Role::kAdmin);
  auto d = sessions.Start("dave", archive::Role::kAdmin);
  sessions.EndAllOf("carol");
  EXPECT_FALSE(sessions.Find(c1.value().id).has_value());
  EXPECT_FALSE(sessions.Find(c2.value().id).has_value());
  EXPECT_TRUE(sessions.Find(d.value().id).has_value());
  sessions.End(d.value().id);
  EXPECT_FALSE(sessions.Find(d.value().id).has_value());
  EXPECT_FALSE(sessions.Find("").has_value());
}

TEST(WebSessions, RepeatedFailuresLockANameForAWhileAndSuccessClearsTheCount) {
  ManualClock clock(At("2026-12-01T08:00:00Z"));
  web::SignInGuard guard(clock, 3, std::chrono::minutes(15));
  EXPECT_FALSE(guard.Failed("alice"));
  EXPECT_FALSE(guard.Failed("alice"));
  guard.Succeeded("alice");  // the count starts again
  EXPECT_FALSE(guard.Failed("alice"));
  EXPECT_FALSE(guard.Failed("alice"));
  EXPECT_FALSE(guard.LockedUntil("alice").has_value());
  EXPECT_TRUE(guard.Failed("alice"));
  ASSERT_TRUE(guard.LockedUntil("alice").has_value());
  EXPECT_EQ(*guard.LockedUntil("alice"), At("2026-12-01T08:15:00Z"));
  EXPECT_FALSE(guard.LockedUntil("bob").has_value());  // per name
  clock.Advance(std::chrono::minutes(15));
  EXPECT_FALSE(guard.LockedUntil("alice").has_value());
  EXPECT_FALSE(guard.Failed("alice"));  // a fresh count after the lock
}

// ---- WebApp on a real store ----

class WebAppTest : public ArchiveTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InitAndOpen({}));
    archive::Accounts accounts(*archive_);
    for (auto [name, role] : {std::pair{"officer1", archive::Role::kOfficer}, {"admin1", archive::Role::kAdmin}}) {
      ASSERT_TRUE(accounts.Add(name, role, "test").ok());
      ASSERT_TRUE(accounts.SetPassword(name, std::string(name) + " password", "test").ok());
    }
    web::WebHooks hooks;
    hooks.record_access = [this](archive::AccessEvent e) {
      std::lock_guard<std::mutex> lock(events_mutex_);
      events_.push_back(e);
      return Status::Ok();
    };
    hooks.ingest = [](std::vector<archive::Submission>) -> Result<std::vector<archive::IngestOutcome>> {
      return Status::Internal("not used here");
    };
    app_ = std::make_unique<web::WebApp>(*archive_, clock_, writer_, hooks,
                                         web::WebAppOptions{.spool = dir_ / "spool", .tls = tls_});
  }

  service::HttpRequest Request(std::string method, std::string target, std::string body = "",
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
    service::HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.remote_address = "127.0.0.1";
    r.tls = tls_;
    if (!cookies_.empty()) {
      std::string c;
      for (const auto& [k, v] : cookies_) c += (c.empty() ? "" : "; ") + k + "=" + v;
      r.headers.emplace_back("cookie", c);
    }
    if (r.method == "POST") r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    return r;
  }

  // Sends the request and keeps the cookies it sets, as a browser does.
  service::HttpResponse Send(const service::HttpRequest& request) {
    service::HttpResponse r = app_->Handle(request);
    for (const auto& [name, value] : r.headers) {
      if (name != "Set-Cookie") continue;
      set_cookies_.push_back(value);
      const std::string pair = value.substr(0, value.find(';'));
      const std::string key = pair.substr(0, pair.find('=')), val = pair.substr(pair.find('=') + 1);
      if (value.find("Max-Age=0") != std::string::npos) cookies_.erase(key); else cookies_[key] = val;
    }
    return r;
  }

  static std::string HeaderOf(const service::HttpResponse& r, const std::string& name) {
    for (const auto& [n, v] : r.headers)
      if (n == name) return v;
    return "";
  }

  // The value of the hidden input `name` in an HTML page.
  static std::string HiddenValue(const std::string& html, const std::string& name) {
    const std::string marker = "name=\"" + name + "\" value=\"";
    const std::size_t at = html.find(marker);
    if (at == std::string::npos) return "";
    const std::size_t start = at + marker.size();
    return html.substr(start, html.find('"', start) - start);
  }

  service::HttpResponse SignIn(const std::string& name, const std::string& password) {
    const std::string form = Send(Request("GET", "/signin")).body;
    return Send(Request("POST", "/signin",
                        "signin=" + HiddenValue(form, "signin") + "&name=" + name + "&password=" +
                            web::UrlEncode(password) + "&next=%2F"));
  }

  std::size_t EventsWith(const std::string& operation, const std::string& outcome) {
    std::lock_guard<std::mutex> lock(events_mutex_);
    std::size_t n = 0;
    for (const auto& e : events_) n += e.operation == operation && e.outcome.find(outcome) == 0;
    return n;
  }

  bool tls_ = false;
  std::mutex writer_;
  std::unique_ptr<web::WebApp> app_;
  std::map<std::string, std::string> cookies_;
  std::vector<std::string> set_cookies_;
  std::mutex events_mutex_;
  std::vector<archive::AccessEvent> events_;
};

TEST_F(WebAppTest, SignInSetsAStrictHttpOnlyCookieAndTheRoleDecides) {
  service::HttpResponse page = Send(Request("GET", "/search"));
  EXPECT_EQ(page.status, 303);
  EXPECT_EQ(HeaderOf(page, "Location"), "/signin?next=%2Fsearch");

  service::HttpResponse in = SignIn("officer1", "officer1 password");
  ASSERT_EQ(in.status, 303) << in.body;
  EXPECT_EQ(HeaderOf(in, "Location"), "/handin");
  const std::string& cookie = set_cookies_.at(set_cookies_.size() - 2);
  EXPECT_EQ(cookie.rfind("preserve_session=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(EventsWith("web sign-in", "Success"), 1u);

  service::HttpResponse search = Send(Request("GET", "/search"));
  EXPECT_EQ(search.status, 200) << search.body;
  EXPECT_NE(search.body.find("officer1"), std::string::npos);
  EXPECT_EQ(EventsWith("web search", "Success"), 1u);
  service::HttpResponse trail = Send(Request("GET", "/audit-trail"));
  EXPECT_EQ(trail.status, 403);
  EXPECT_EQ(EventsWith("web audit trail", "RequesterError noPermission"), 1u);

  // Disabled: the session ends at its next request.
  ASSERT_TRUE(archive::Accounts(*archive_).Disable("officer1", "test").ok());
  EXPECT_EQ(Send(Request("GET", "/search")).status, 303);
}

TEST_F(WebAppTest, WrongPasswordsLockTheNameAndEveryAttemptIsAudited) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(SignIn("admin1", "wrong").status, i < 4 ? 401u : 401u);
  service::HttpResponse locked = SignIn("admin1", "admin1 password");
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_NE(locked.body.find("bị khóa"), std::string::npos);
  EXPECT_EQ(EventsWith("web sign-in", "RequesterError signInFailed"), 4u);
  EXPECT_EQ(EventsWith("web sign-in", "RequesterError locked"), 2u);
  clock_.Advance(std::chrono::minutes(15));
  EXPECT_EQ(SignIn("admin1", "admin1 password").status, 303);
}

TEST_F(WebAppTest, SignInFormMustBeThisBrowsers) {
  Send(Request("GET", "/signin"));
  // A form from another page (login CSRF): the field does not match the cookie.
  service::HttpResponse r = Send(Request("POST", "/signin", "signin=" + std::string(64, 'a') +
                                                              "&name=admin1&password=admin1+password"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(EventsWith("web sign-in", "Success"), 0u);
}

TEST_F(WebAppTest, PostsWithoutTheSessionsTokenOrFromAnotherOriginAreRefused) {
  ASSERT_EQ(SignIn("admin1", "admin1 password").status, 303);
  const std::string token = HiddenValue(Send(Request("GET", "/dashboard")).body, "csrf");
  ASSERT_EQ(token.size(), 64u);
  const auto session = cookies_;
  // Sign-out without the token clears this browser's cookie but not the session.
  Send(Request("POST", "/signout", ""));
  cookies_ = session;
  EXPECT_EQ(Send(Request("GET", "/dashboard")).status, 200);
  // A change without the token, with a wrong one, or from another origin with the right one.
  for (const auto& [body, origin] : std::vector<std::pair<std::string, std::string>>{
           {"name=mallory1&role=admin", ""},
           {"csrf=" + std::string(64, '0') + "&name=mallory1&role=admin", ""},
           {"csrf=" + token + "&name=mallory1&role=admin", "http://evil.example"}}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!origin.empty()) headers.emplace_back("origin", origin);
    EXPECT_EQ(Send(Request("POST", "/accounts/add", body, headers)).status, 403) << body << " " << origin;
  }
  EXPECT_FALSE(archive::Accounts(*archive_).Get("mallory1").ok());
  EXPECT_EQ(EventsWith("web account add", "RequesterError noPermission"), 3u);
}

TEST_F(WebAppTest, LanguageFromCookieOrBrowserAndSecurityHeadersEverywhere) {
  service::HttpResponse vi = Send(Request("GET", "/signin"));
  EXPECT_NE(vi.body.find("<html lang=\"vi\">"), std::string::npos);
  EXPECT_NE(vi.body.find("Đăng nhập"), std::string::npos);
  service::HttpResponse en = Send(Request("GET", "/signin", "", {{"accept-language", "en-GB,en;q=0.9,vi;q=0.5"}}));
  EXPECT_NE(en.body.find("<html lang=\"en\">"), std::string::npos);
  service::HttpResponse to_en = Send(Request("GET", "/lang?to=en&back=%2Fsignin"));
  EXPECT_EQ(HeaderOf(to_en, "Location"), "/signin");
  EXPECT_NE(Send(Request("GET", "/signin")).body.find("Sign in"), std::string::npos);
  // Never a redirect to another site.
  EXPECT_EQ(HeaderOf(Send(Request("GET", "/lang?to=vi&back=%2F%2Fevil.example")), "Location"), "/");

  for (const auto& r : {vi, Send(Request("GET", "/static/app.css")), Send(Request("GET", "/nosuch"))}) {
    EXPECT_NE(HeaderOf(r, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
    EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  }
  EXPECT_EQ(Send(Request("GET", "/static/app.css")).content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Send(Request("GET", "/static/nosuch.css")).status, 404);
  EXPECT_EQ(Send(Request("GET", "/nosuch")).status, 404);
  EXPECT_EQ(Send(Request("DELETE", "/signin")).status, 405);
  EXPECT_TRUE(web::WebApp::Serves("/package/x"));
  EXPECT_FALSE(web::WebApp::Serves("/pres/RetrieveInfo"));
  EXPECT_FALSE(web::WebApp::Serves("/api/audit-log?from=1"));
  EXPECT_FALSE(web::WebApp::Serves("/health"));
}

// Pages name the static files by the version of this build: cached for good
// under that name, revalidated under any other (an upgrade's pages name new
// files, which no browser has cached).
TEST_F(WebAppTest, StaticFilesAreCachedForGoodOnlyUnderTheirVersion) {
  const service::HttpResponse page = Send(Request("GET", "/signin"));
  std::smatch named;
  ASSERT_TRUE(std::regex_search(page.body, named, std::regex("/static/app\\.css\\?v=([0-9a-f]{16})\""))) << page.body;
  const std::string version = named[1];
  for (const char* file : {"app.js", "favicon.svg"})
    EXPECT_NE(page.body.find("/static/" + std::string(file) + "?v=" + version + "\""), std::string::npos) << file;
  const service::HttpResponse versioned = Send(Request("GET", "/static/app.css?v=" + version));
  EXPECT_EQ(versioned.status, 200);
  EXPECT_EQ(versioned.body, Send(Request("GET", "/static/app.css")).body);
  EXPECT_EQ(HeaderOf(versioned, "Cache-Control"), "public, max-age=31536000, immutable");
  for (const std::string target : {"/static/app.css", "/static/app.css?v=0123456789abcdef", "/static/app.css?v="})
    EXPECT_EQ(HeaderOf(Send(Request("GET", target)), "Cache-Control"), "no-cache") << target;
}

// The dashboard words each job's last run in the page's language, from the
// figures the run recorded, a missed window included; the archive's own
// English wording (what `preserve status` prints) never reaches a
// Vietnamese page.
TEST_F(WebAppTest, TheDashboardWordsTheJobsLastRunsInThePagesLanguage) {
  ASSERT_EQ(SignIn("admin1", "admin1 password").status, 303);
  archive::ScheduledJobs jobs(*archive_);
  ASSERT_TRUE(jobs.RunDue().ok());
  std::string vi = Send(Request("GET", "/dashboard")).body;
  EXPECT_NE(vi.find("không có gói nào chờ niêm phong"), std::string::npos) << vi;
  EXPECT_NE(vi.find("đã gia hạn 0 đối tượng trong 0 lô; 0 quá hạn"), std::string::npos) << vi;
  EXPECT_NE(vi.find("đã đọc lại 0/0 gói, 0 hư hỏng"), std::string::npos) << vi;
  for (const char* english : {"nothing queued", "renewed 0", "re-read", "damaged"})
    EXPECT_EQ(vi.find(english), std::string::npos) << english;

  // Ten days later every job has missed windows: each runs once, late, and says so.
  clock_.Advance(std::chrono::days(10));
  ASSERT_TRUE(jobs.RunDue().ok());
  ASSERT_EQ(SignIn("admin1", "admin1 password").status, 303);  // the session ended meanwhile
  vi = Send(Request("GET", "/dashboard")).body;
  EXPECT_NE(vi.find("không có gói nào chờ niêm phong; chạy trễ 9 ngày (lỡ một kỳ, đã chạy bù một lần)"),
            std::string::npos)
      << vi;
  EXPECT_EQ(vi.find(" late"), std::string::npos);
  Send(Request("GET", "/lang?to=en&back=%2Fdashboard"));
  const std::string en = Send(Request("GET", "/dashboard")).body;
  EXPECT_NE(en.find("nothing waited to be sealed; ran 9 days late (a missed window, run once)"), std::string::npos)
      << en;
  EXPECT_NE(en.find("renewed 0 in 0 batches; 0 lapsed; ran 9 days late"), std::string::npos) << en;
}

class WebAppTlsTest : public WebAppTest {
 protected:
  void SetUp() override {
    tls_ = true;
    WebAppTest::SetUp();
  }
};

TEST_F(WebAppTlsTest, OverTlsTheSessionCookieIsSecureHostOnly) {
  ASSERT_EQ(SignIn("admin1", "admin1 password").status, 303);
  const std::string& cookie = set_cookies_.at(set_cookies_.size() - 2);
  EXPECT_EQ(cookie.rfind("__Host-preserve_session=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos);
  EXPECT_NE(cookie.find("Path=/"), std::string::npos);
  EXPECT_EQ(Send(Request("GET", "/dashboard")).status, 200);
}

}  // namespace
}  // namespace preserve::testing
