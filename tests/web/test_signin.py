"""Signing in and out, the language, lock-out, CSRF: the application's door."""
import http.cookiejar
import re
import unittest
import urllib.error
import urllib.parse
import urllib.request

from selenium.webdriver.common.by import By

from webtest import PASSWORDS, WebTest


class SignIn(WebTest):

    def test_each_role_signs_in_to_its_home_and_sees_its_menu(self):
        homes = {"officer1": "/handin", "auditor1": "/search", "admin1": "/dashboard"}
        for name, home in homes.items():
            self.sign_in(name)
            self.assertTrue(self.browser.current_url.endswith(home), self.browser.current_url)
            menu = [a.get_attribute("href") for a in self.browser.find_elements(By.CSS_SELECTOR, "header nav a")]
            self.assertEqual(any(h.endswith("/accounts") for h in menu), name == "admin1", menu)
            self.assertEqual(any(h.endswith("/audit-trail") for h in menu), name != "officer1", menu)
            self.assertEqual(any(h.endswith("/handin") for h in menu), name != "auditor1", menu)
            self.assert_no_page_errors()
            self.sign_out()
            self.assertIn("/signin", self.browser.current_url)
            # Signed out: a page sends back to the sign-in form.
            self.open("/search")
            self.assertIn("/signin", self.browser.current_url)

    def test_sign_in_page_is_vietnamese_by_default_and_english_on_request(self):
        self.open("/signin")
        self.assertEqual(self.heading(), "Đăng nhập")
        self.assertEqual(self.browser.find_element(By.TAG_NAME, "html").get_attribute("lang"), "vi")
        self.screenshot("signin-vi")
        self.switch_language()
        self.assertEqual(self.heading(), "Sign in")
        self.assertIn("Account name", self.text())
        self.switch_language()
        self.assertEqual(self.heading(), "Đăng nhập")

    def test_wrong_password_is_refused_and_repeated_failures_lock_the_account(self):
        for attempt in range(5):
            self.sign_in("locked1", "wrong password %d" % attempt)
            self.assertIn("/signin", self.browser.current_url)
        self.assertIn("bị khóa", self.text())  # locked
        # Now even the right password is refused, until the lock ends.
        self.sign_in("locked1", "the right password")
        self.assertIn("bị khóa", self.text())
        self.assertNotIn("/handin", self.browser.current_url)
        # The trail has the failures.
        _, out, _ = self.service.preserve("audit-log", "show", "--json")
        self.assertGreaterEqual(out.count("signInFailed"), 4, out[-2000:])
        self.assertIn("locked", out)

    def test_a_role_is_refused_a_page_it_may_not_use(self):
        self.sign_in("officer1")
        self.open("/accounts")
        self.assertIn("Không được phép", self.heading())
        self.open("/audit-trail")
        self.assertIn("Không được phép", self.heading())
        self.sign_out()
        self.sign_in("auditor1")
        self.open("/handin")
        self.assertIn("Không được phép", self.heading())


class Csrf(WebTest):
    """A form posted from elsewhere, with the session's cookie but without its token, is refused."""

    def session_cookie(self):
        self.sign_in("admin1")
        cookie = self.browser.get_cookie("preserve_session")
        self.assertIsNotNone(cookie)
        return cookie["value"]

    def post(self, path, fields, cookie, origin=None):
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.service.url + path, data=data, method="POST")
        request.add_header("Cookie", "preserve_session=" + cookie)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if origin:
            request.add_header("Origin", origin)
        opener = urllib.request.build_opener(NoRedirect())
        try:
            with opener.open(request) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_a_post_without_the_token_or_from_another_origin_is_refused(self):
        cookie = self.session_cookie()
        # A page of this session holds the token.
        self.open("/dashboard")
        token = self.browser.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
        status, body = self.post("/signout", {}, cookie)
        self.assertEqual(status, 303)  # sign-out without the token does nothing but clear this browser's cookie
        # The session is still alive: the token-less sign-out did not end it.
        self.open("/dashboard")
        self.assertTrue(self.browser.current_url.endswith("/dashboard"))
        for fields, origin in (({}, None), ({"csrf": "0" * 64}, None), ({"csrf": token}, "http://evil.example")):
            status, body = self.post("/accounts/add", dict(fields, name="mallory1", role="admin"), cookie, origin)
            self.assertEqual(status, 403, body[:500])
        _, out, _ = self.service.preserve("user", "list")
        self.assertNotIn("mallory1", out)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    unittest.main(verbosity=2)
