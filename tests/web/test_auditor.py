"""The auditor's pages: the verification report (and its PDF), verifying an
exported zip, the audit trail, and the signature-use report."""
import os
import subprocess
import tempfile
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from webtest import WebTest, fixture


class Auditor(WebTest):

    @classmethod
    def prepare_store(cls, service):
        # A signed letter, accepted and sealed, and its export; a tampered
        # letter, refused: what the reports have to show.
        _, out, _ = service.preserve("ingest", "--ids-only", "--trust", fixture("pki", "root-ca.pem"),
                                     "--signature", fixture("signed", "letter.txt.p7s"),
                                     fixture("signed", "letter.txt"))
        cls.package_id = out.split()[-1]
        service.preserve("ingest", "--trust", fixture("pki", "root-ca.pem"),
                         "--signature", fixture("signed", "letter.txt.p7s"),
                         fixture("signed", "letter-tampered.txt"), check=False)
        cls.zip_path = os.path.join(service.dir, "letter.zip")
        service.preserve("export", cls.package_id, cls.zip_path)

    # ---- Helpers ----

    def fetch(self, path):
        """GET with the browser's cookies (its session and language): (status, headers, body bytes)."""
        cookies = "; ".join("%s=%s" % (c["name"], c["value"]) for c in self.browser.get_cookies())
        request = urllib.request.Request(self.service.url + path, headers={"Cookie": cookies})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def upload_zip(self, path):
        self.open("/verify-zip")
        self.browser.find_element(By.ID, "zip").send_keys(path)
        self.browser.find_element(By.CSS_SELECTOR, "form[action='/verify-zip'] button[type=submit]").click()

    # ---- The verification report ----

    def test_report_reads_in_both_languages_and_downloads_as_pdf(self):
        self.sign_in("auditor1")
        self.open("/report/" + self.package_id[:12])  # a prefix names it too
        self.assertEqual(self.heading(), "Báo cáo kiểm tra tính xác thực")
        verdict = self.browser.find_element(By.CSS_SELECTOR, ".report-verdict h2 .badge").text
        self.assertEqual(verdict, "Hợp lệ")
        text = self.text()
        for title in ("Tệp còn nguyên vẹn: mã băm khớp", "Chữ ký số của văn bản",
                      "Dấu thời gian bao phủ đúng các tệp này", self.package_id):
            self.assertIn(title, text)
        self.assertIn("SHA-256 matches the manifest", text)  # the technical line
        self.assert_no_page_errors()
        self.screenshot("report-vi")

        status, headers, pdf = self.fetch("/report/%s.pdf" % self.package_id)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"), pdf[:20])
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            words = subprocess.run(["pdftotext", "-enc", "UTF-8", f.name, "-"], capture_output=True,
                                   check=True).stdout.decode("utf-8")
        self.assertIn("Báo cáo kiểm tra tính xác thực", words)
        self.assertIn("Chữ ký số của văn bản", words)
        self.assertIn("Hợp lệ", words)

        # The form on /verify-zip opens a stored package's report by its id.
        self.open("/verify-zip")
        self.browser.find_element(By.ID, "id").send_keys(self.package_id[:10])
        self.browser.find_element(By.CSS_SELECTOR, "form[action='/report/'] button").click()
        self.assertEqual(self.heading(), "Báo cáo kiểm tra tính xác thực")
        self.assertIn(self.package_id, self.text())

        self.switch_language()
        self.open("/report/" + self.package_id)
        self.assertEqual(self.heading(), "Verification report")
        self.assertEqual(self.browser.find_element(By.CSS_SELECTOR, ".report-verdict h2 .badge").text, "Valid")
        self.assertIn("A document's digital signature", self.text())
        self.screenshot("report-en")
        self.switch_language()

    def test_report_of_an_unknown_package_is_not_found_and_officers_may_not_open_it(self):
        self.sign_in("auditor1")
        status, _, _ = self.fetch("/report/ffffffffffffffff")
        self.assertEqual(status, 404)
        status, _, body = self.fetch("/report/abc")  # too short a prefix
        self.assertEqual(status, 400)
        self.sign_out()
        self.sign_in("officer1")
        for path in ("/report/" + self.package_id, "/verify-zip", "/audit-trail", "/reports/signatures"):
            status, _, _ = self.fetch(path)
            self.assertEqual(status, 403, path)

    # ---- An exported zip ----

    def test_an_exported_zip_verifies_and_anything_else_is_refused(self):
        self.sign_in("auditor1")
        self.upload_zip(self.zip_path)
        self.assertEqual(self.heading(), "Báo cáo kiểm tra tính xác thực")
        self.assertEqual(self.browser.find_element(By.CSS_SELECTOR, ".report-verdict h2 .badge").text, "Hợp lệ")
        self.assertIn("letter.zip", self.text())
        self.assert_no_page_errors()

        self.upload_zip(fixture("signed", "letter.txt"))  # not a zip
        self.assertIn("không phải gói do preserve xuất ra", self.text())
        self.assertTrue(self.browser.find_elements(By.ID, "zip"))  # the form again

        with open(self.zip_path, "rb") as f:
            whole = f.read()
        damaged = os.path.join(self.service.dir, "damaged.zip")
        with open(damaged, "wb") as f:
            f.write(whole[: len(whole) // 2])
        self.upload_zip(damaged)
        self.assertIn("không phải gói do preserve xuất ra", self.text())
        # Nothing uploaded stays in the spool.
        spool = os.path.join(self.service.store, "spool")
        if os.path.isdir(spool):
            self.assertEqual([n for n in os.listdir(spool) if n.startswith("verify-")], [])

    # ---- The audit trail ----

    def test_audit_trail_shows_the_accounts_events_newest_first_a_page_at_a_time(self):
        self.sign_in("auditor1")
        self.open("/report/" + self.package_id)
        self.open("/audit-trail")
        self.browser.find_element(By.ID, "account").send_keys("auditor1")
        self.browser.find_element(By.CSS_SELECTOR, "form[action='/audit-trail'] button[type=submit]").click()
        self.assertIn("account=auditor1", self.browser.current_url)
        rows = self.browser.find_elements(By.CSS_SELECTOR, "table.trail tbody tr:not(.raw)")
        cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
        self.assertTrue(cells)
        self.assertTrue(all(c[3] == "auditor1" for c in cells), cells)
        operations = [c[4] for c in cells]
        self.assertIn("web sign-in", operations)
        self.assertIn("web report", operations)
        # Newest first: the report was opened after signing in.
        self.assertLess(operations.index("web report"), operations.index("web sign-in"))
        sequences = [int(c[0]) for c in cells]
        self.assertEqual(sequences, sorted(sequences, reverse=True))
        report_row = cells[operations.index("web report")]
        self.assertIn(self.package_id, report_row[5])
        self.assert_no_page_errors()
        self.screenshot("audit-trail-vi")

        # More than a page: the pager goes to older events, filters kept.
        for _ in range(55):
            self.fetch("/search")
        self.open("/audit-trail?account=auditor1")
        first_page = [int(r.find_element(By.TAG_NAME, "td").text)
                      for r in self.browser.find_elements(By.CSS_SELECTOR, "table.trail tbody tr:not(.raw)")]
        self.assertEqual(len(first_page), 50)
        self.browser.find_element(By.CSS_SELECTOR, ".pager a[rel=next]").click()
        self.assertIn("account=auditor1", self.browser.current_url)
        second_page = [int(r.find_element(By.TAG_NAME, "td").text)
                       for r in self.browser.find_elements(By.CSS_SELECTOR, "table.trail tbody tr:not(.raw)")]
        self.assertTrue(second_page)
        self.assertLess(max(second_page), min(first_page))
        self.assertIn("web sign-in", self.text())

        # Dates: a day with no events, and a date that cannot be read.
        self.open("/audit-trail?to=01/01/2001")
        self.assertIn("Không có sự kiện nào phù hợp", self.text())
        status, _, body = self.fetch("/audit-trail?from=31/02/2026")
        self.assertEqual(status, 400)
        self.assertIn("Không đọc được ngày", body.decode("utf-8"))

    # ---- Signature use ----

    def test_signature_report_counts_and_downloads_as_csv(self):
        self.sign_in("auditor1")
        self.open("/reports/signatures")
        self.assertEqual(self.heading(), "Báo cáo sử dụng chữ ký số")
        total = [td.text for td in self.browser.find_elements(By.CSS_SELECTOR, "#signature-use tfoot td")]
        # Handed in, accepted, again, refused, refused then accepted, not signed.
        self.assertEqual(total[:6], ["2", "1", "0", "1", "0", "0"], total)
        self.assertTrue(self.browser.find_elements(By.CSS_SELECTOR, "svg.chart title"))
        self.assert_no_page_errors()

        Select(self.browser.find_element(By.ID, "group")).select_by_value("month")
        self.browser.find_element(By.CSS_SELECTOR, "form[action='/reports/signatures'] button").click()
        self.assertIn("group=month", self.browser.current_url)
        self.assertEqual(self.browser.find_element(By.CSS_SELECTOR, "#signature-use thead th").text, "Tháng")
        self.screenshot("signature-report-vi")

        # By the signer's organization: the test PKI's signer is of UBND tỉnh Đắk Nông.
        self.open("/reports/signatures?group=signer")
        self.assertIn("UBND tỉnh Đắk Nông", self.browser.find_element(By.ID, "signature-use").text)
        self.browser.back()

        csv_link = self.browser.find_element(By.PARTIAL_LINK_TEXT, "CSV").get_attribute("href")
        status, headers, body = self.fetch(csv_link[len(self.service.url):])
        self.assertEqual(status, 200)
        self.assertIn("text/csv", headers["Content-Type"])
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"), body[:10])
        text = body.decode("utf-8-sig")
        self.assertTrue(text.startswith("Tháng,Đã nộp,Được chấp nhận"), text)
        self.assertIn("Tổng cộng,2,1,0,1,0,0", text)
