"""The administrator's pages: the dashboard, accounts, the policy, and a package's holds and deletion."""
import time
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from webtest import PASSWORDS, WebTest, fixture, left_the_document, new_browser


def sign_in_with(browser, url, name, password):
    browser.get(url + "/signin")
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def submit(browser, button):
    """Clicks a form's button and waits for the answer's page."""
    old = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 30).until(lambda _: left_the_document(old))


class Admin(WebTest):
    ingest_before_start = ((fixture("signed", "letter.txt"), fixture("signed", "letter.txt.p7s")),)

    def fact(self, term):
        """The value beside `term` in the page's facts lists."""
        return self.browser.find_element(By.XPATH, "//dt[normalize-space()='%s']/following-sibling::dd[1]" % term).text

    def post_form(self, action, fields, confirm=False, choose=None):
        """Fills the form posting to `action` (its inputs by name; `choose`: a radio button's value) and sends it."""
        form = self.browser.find_element(By.CSS_SELECTOR, "form[action='%s']" % action)
        if choose:
            form.find_element(By.CSS_SELECTOR, "input[type=radio][value='%s']" % choose).click()
        for name, value in fields.items():
            element = form.find_element(By.NAME, name)
            element.clear()
            element.send_keys(value)
        if confirm:
            form.find_element(By.NAME, "confirm").click()
        submit(self.browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def test_dashboard_shows_the_holdings_in_both_languages(self):
        self.sign_in("admin1")
        self.assertTrue(self.browser.current_url.endswith("/dashboard"))
        self.assertEqual(self.heading(), "Tổng quan")
        self.assertEqual(self.fact("Gói lưu trữ"), "1")
        # The service seals within a second or so: wait for it, so that the page shows a seal run.
        deadline = time.time() + 30
        while self.fact("Đã có bằng chứng lưu trữ") != "1" and time.time() < deadline:
            time.sleep(0.5)
            self.open("/dashboard")
        self.assertEqual(self.fact("Đã có bằng chứng lưu trữ"), "1")
        self.assertEqual(self.fact("Đang chờ gắn dấu thời gian"), "0")
        text = self.text()
        for words in ("Tác vụ định kỳ", "Niêm phong", "Kiểm tra toàn vẹn", "Các hạn gia hạn sắp tới",
                      "Bằng chứng quá hạn: không có"):
            self.assertIn(words, text)
        self.assertEqual(self.fact("Tổ chức chứng thực được tin cậy"), "1")
        self.assertIn("ETSI", self.fact("Chính sách thuật toán"))
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, ".notice.error"), [])
        self.assert_no_page_errors()
        self.screenshot("dashboard-vi")
        self.switch_language()
        WebDriverWait(self.browser, 30).until(lambda b: self.heading() == "Overview")
        self.assertEqual(self.fact("Packages"), "1")
        self.assertEqual(self.fact("Sealed with evidence"), "1")
        self.assertIn("Scheduled jobs", self.text())
        self.screenshot("dashboard-en")
        self.switch_language()

    def test_an_account_is_added_signs_in_and_is_disabled(self):
        self.sign_in("admin1")
        self.open("/accounts")
        self.assertEqual(self.heading(), "Tài khoản")
        self.post_form("/accounts/add", {"name": "officer2", "password": "mật khẩu của officer2"})
        token = self.browser.find_element(By.ID, "token").get_attribute("value")
        self.assertTrue(token.startswith("ptk_"), token)
        self.assertIn("chỉ hiển thị một lần", self.text())
        # Shown once: no other page has it.
        self.open("/accounts")
        self.assertNotIn(token, self.browser.page_source)
        self.assertIn("officer2", self.text())
        self.screenshot("accounts-vi")
        self.assert_no_page_errors()

        # officer2 signs in, in another browser.
        other = new_browser()
        self.addCleanup(other.quit)
        sign_in_with(other, self.service.url, "officer2", "mật khẩu của officer2")
        self.assertTrue(other.current_url.endswith("/handin"), other.current_url)

        # A too-short password is refused in plain words.
        self.open("/accounts/officer2")
        self.post_form("/accounts/officer2/password", {"password": "short"})
        self.assertIn("Mật khẩu quá ngắn: cần ít nhất 12 ký tự", self.text())
        # The administrator may not disable their own account.
        self.open("/accounts/admin1")
        self.post_form("/accounts/admin1/disable", {})
        self.assertIn("Không thể tự khóa tài khoản của chính mình", self.text())

        # Disabled: officer2's session ends and it cannot sign in again.
        self.open("/accounts/officer2")
        self.post_form("/accounts/officer2/disable", {})
        self.assertIn("Tài khoản đã bị khóa", self.text())
        other.get(self.service.url + "/search")
        self.assertIn("/signin", other.current_url)
        sign_in_with(other, self.service.url, "officer2", "mật khẩu của officer2")
        self.assertIn("/signin", other.current_url)
        self.assertIn("Sai tên tài khoản hoặc mật khẩu", other.find_element(By.TAG_NAME, "body").text)

        _, out, _ = self.service.preserve("user", "list")
        self.assertIn("officer2", out)
        _, out, _ = self.service.preserve("audit-log", "show", "--json")
        self.assertIn("officer2", out)

    def test_a_name_not_allowed_is_refused_with_the_reason(self):
        self.sign_in("admin1")
        self.open("/accounts")
        self.browser.execute_script("document.getElementById('name').removeAttribute('pattern')")
        self.post_form("/accounts/add", {"name": "người dùng"})
        self.assertIn("Tên không hợp lệ", self.text())
        self.assertEqual(self.browser.find_elements(By.ID, "token"), [])

    def test_the_policy_page_shows_the_algorithms_and_the_trust_list(self):
        self.sign_in("admin1")
        self.open("/policy")
        self.assertEqual(self.heading(), "Chính sách thuật toán")
        text = self.text()
        for words in ("ETSI", "SHA-256", "RSA", "ECDSA", "Cây băm mới dùng: SHA-256", "the test PKI",
                      "preserve policy set"):
            self.assertIn(words, text)
        self.assert_no_page_errors()
        self.screenshot("policy-vi")

    def test_a_hold_stops_the_deletion(self):
        package = self.ingested[0]
        base = "/admin/package/" + package
        self.sign_in("admin1")
        self.open(base)
        self.assertIn("Bảo quản vĩnh viễn", self.text())
        self.post_form(base + "/hold", {"reason": "thanh tra năm 2026"})
        self.assertIn("Đã đặt lệnh tạm giữ số 1", self.text())
        self.post_form(base + "/delete", {"reason": "hết hạn"}, confirm=True)
        refusal = self.browser.find_element(By.CSS_SELECTOR, ".notice.error").text
        self.assertIn("Không được xóa gói này", refusal)
        self.assertIn("Gói đang bị tạm giữ", refusal)
        self.assertIn("thanh tra năm 2026", refusal)
        self.screenshot("package-admin-vi")
        # The CLI, beside the service, sees the hold.
        _, out, _ = self.service.preserve("hold", "list")
        self.assertIn(package, out)
        self.assertIn("thanh tra năm 2026", out)
        _, out, _ = self.service.preserve("retention", "show", package)
        self.assertNotIn("deleted", out)
        # A reason is required.
        self.post_form(base + "/hold/1/remove", {"reason": " "})
        self.assertIn("Hãy nêu lý do", self.text())
        self.post_form(base + "/hold/1/remove", {"reason": "thanh tra đã xong"})
        self.assertIn("Đã gỡ lệnh tạm giữ số 1", self.text())
        # Without a hold, the permanent retention still forbids it.
        self.post_form(base + "/retention", {"years": "10", "reason": "thẩm định lại"}, choose="years")
        self.assertIn("Bảo quản 10 năm, đến ngày", self.text())
        self.post_form(base + "/delete", {"reason": "hết hạn"}, confirm=True)
        refusal = self.browser.find_element(By.CSS_SELECTOR, ".notice.error").text
        self.assertIn("Thời hạn bảo quản của gói kéo dài đến", refusal)
        self.assertNotIn("tạm giữ", refusal)


if __name__ == "__main__":
    unittest.main(verbosity=2)
