"""The records officer's pages: hand in, search, the package page, its export."""
import io
import os
import time
import unittest
import urllib.error
import urllib.request
import uuid
import zipfile

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from webtest import WebTest, fixture

METADATA = {
    "organ_name": "UBND tỉnh Đắk Nông",
    "organ_id": "000.00.12.H17",
    "type_name": "Công văn",
    "code_number": "6587",
    "code_notation": "UBND-CNXD",
    "issued_date": "22/11/2026",
    "subject": "Về việc lưu trữ hồ sơ điện tử",
    "signer_full_name": "Nguyễn Văn An",
    "retention": "10",
}


class OfficerTest(WebTest):
    """Handing in through the form, and requests with the browser's session."""

    def hand_in(self, files, metadata=None):
        """Fills the hand-in form and sends it; waits for the result page."""
        self.open("/handin")
        self.browser.find_element(By.ID, "files").send_keys("\n".join(files))
        for name, value in (metadata or {}).items():
            self.browser.find_element(By.ID, "m-" + name).send_keys(value)
        self.browser.find_element(By.CSS_SELECTOR, "form[action='/handin'] button[type=submit]").click()
        # The page's script sends the form and writes the answer in place of the page.
        WebDriverWait(self.browser, 30).until(
            lambda b: b.execute_script("var h = document.querySelector('h1'); return h ? h.textContent : ''")
            not in ("", "Nộp tài liệu"))
        return self.heading()

    def fetch(self, path, data=None, content_type=None):
        """A request with the browser's session cookie: (status, headers, body bytes)."""
        cookie = self.browser.get_cookie("preserve_session")
        request = urllib.request.Request(self.service.url + path, data=data, method="POST" if data is not None else "GET")
        request.add_header("Cookie", "preserve_session=" + cookie["value"])
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def post_multipart(self, fields, files):
        """POST /handin as multipart/form-data: fields {name: value}, files [(name, bytes)]."""
        boundary = uuid.uuid4().hex
        body = io.BytesIO()
        for name, value in fields.items():
            body.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                        % (boundary, name, value)).encode())
        for name, data in files:
            body.write(("--%s\r\nContent-Disposition: form-data; name=\"files\"; filename=\"%s\"\r\n"
                        "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name)).encode())
            body.write(data + b"\r\n")
        body.write(("--%s--\r\n" % boundary).encode())
        return self.fetch("/handin", body.getvalue(), "multipart/form-data; boundary=" + boundary)

    def csrf(self):
        return self.browser.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")



class Officer(OfficerTest):

    def test_hand_in_search_open_and_export(self):
        self.sign_in("officer1")
        self.assertTrue(self.browser.current_url.endswith("/handin"), self.browser.current_url)
        self.assert_no_page_errors()

        # The good detached letter, with its metadata typed in: archived.
        letter, signature = fixture("signed", "letter.txt"), fixture("signed", "letter.txt.p7s")
        self.assertEqual(self.hand_in([letter, signature], METADATA), "Kết quả nộp lưu")
        self.assertIn("Đã lưu trữ", self.text())
        self.assertIn("6587/UBND-CNXD", self.text())
        package_link = self.browser.find_element(By.CSS_SELECTOR, "td a[href^='/package/']")
        package = package_link.get_attribute("href").rsplit("/", 1)[1]
        self.screenshot("handin-result-vi")
        self.assert_no_page_errors()

        # A signature by a signer no trusted authority issued, beside the letter: refused, in plain words.
        self.hand_in([letter, fixture("signed", "letter-untrusted-signer.txt.p7s")])
        self.assertIn("Bị từ chối", self.text())
        self.assertIn("không do tổ chức chứng thực mà kho lưu trữ tin cậy cấp", self.text())
        self.assertIn("Lý do: NO_CERTIFICATE_CHAIN_FOUND", self.text())

        # The good one again: held already, in the same package.
        self.hand_in([letter, signature])
        self.assertIn("Đã có trong kho", self.text())
        self.assertEqual(self.browser.find_element(By.CSS_SELECTOR, "td a[href^='/package/']").get_attribute("href")
                         .rsplit("/", 1)[1], package)

        # Search by organ finds it; another organ does not.
        self.open("/search?organ=" + urllib.request.quote("Đắk Nông"))
        self.assertIn("6587/UBND-CNXD", self.text())
        self.assertIn("Về việc lưu trữ hồ sơ điện tử", self.text())
        self.assertIn("22/11/2026", self.text())
        self.screenshot("search-vi")
        self.open("/search?organ=Hà+Giang&from=01/01/2026")
        self.assertIn("Không có gói lưu trữ nào phù hợp", self.text())
        self.open("/search?from=31/02/2026")
        self.assertIn("Ngày không hợp lệ", self.text())
        self.browser.get_log("browser")  # drains the console's line for that 400 answer

        # The package page: documents, signature; a timeline entry once sealed (within seconds).
        self.open("/search?organ=" + urllib.request.quote("Đắk Nông"))
        self.browser.find_element(By.LINK_TEXT, "6587/UBND-CNXD").click()
        self.assertIn("6587/UBND-CNXD", self.heading())
        deadline = time.time() + 30
        while "Niêm phong: dấu thời gian lưu trữ đầu tiên" not in self.text() and time.time() < deadline:
            time.sleep(1)
            self.browser.refresh()
        text = self.text()
        self.assertIn("Niêm phong: dấu thời gian lưu trữ đầu tiên", text)
        self.assertIn("letter.txt", text)
        self.assertIn("Người ký", text)
        self.assertIn("Hợp lệ", text)
        self.assertIn("SHA-256", text)
        self.assertIn("10 năm", text)
        self.assertEqual(len(self.browser.find_elements(By.CSS_SELECTOR, "ol.timeline li")), 1)
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "a[href^='/report/']"), [])  # officers: no report
        self.screenshot("package-vi")
        self.assert_no_page_errors()

        # The letter, viewed in the browser, is the letter handed in.
        view = self.browser.find_element(By.CSS_SELECTOR, "a[href*='/file?path=documents'][href$='view=1']")
        status, headers, body = self.fetch(view.get_attribute("href")[len(self.service.url):])
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Disposition"].startswith("inline"))
        with open(letter, "rb") as f:
            self.assertEqual(body, f.read())
        # The signature file is downloaded, never shown.
        status, headers, body = self.fetch("/package/%s/file?path=signatures/letter.txt.p7s&view=1" % package)
        self.assertEqual(status, 200, body[:300])
        self.assertTrue(headers["Content-Disposition"].startswith("attachment"))
        status, _, _ = self.fetch("/package/%s/file?path=../../etc/passwd" % package)
        self.assertEqual(status, 404)

        # Exported as a zip that holds the evidence.
        export = self.browser.find_element(By.CSS_SELECTOR, "a[href$='/export.zip']").get_attribute("href")
        status, headers, body = self.fetch(export[len(self.service.url):])
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/zip")
        self.assertTrue(body.startswith(b"PK"))
        self.assertTrue(any(n.endswith("evidence.ers") for n in zipfile.ZipFile(io.BytesIO(body)).namelist()))

        # A short prefix of the id leads to the package too.
        self.open("/package/" + package[:12])
        self.assertTrue(self.browser.current_url.endswith("/package/" + package), self.browser.current_url)
        self.open("/package/00000000-0000-0000-0000-000000000000")
        self.assertIn("Không tìm thấy", self.heading())

        # The page in English.
        self.open("/package/" + package)
        self.switch_language()
        text = self.text()
        for words in ("Record metadata", "Documents", "Signatures", "Evidence of integrity", "Versions",
                      "Retention and holds", "Sealed: the first archive time-stamp", "10 years"):
            self.assertIn(words, text)
        self.screenshot("package-en")
        self.switch_language()

        # The trail names the package opened.
        _, out, _ = self.service.preserve("audit-log", "show", "--json")
        self.assertIn("web package", out)

    def test_bad_hand_ins_get_clear_400_pages(self):
        self.sign_in("officer1")
        token = self.csrf()
        # Not multipart.
        status, _, body = self.fetch("/handin", ("csrf=" + token).encode(), "application/x-www-form-urlencoded")
        self.assertEqual(status, 400)
        self.assertIn("multipart".encode(), body)
        # No file.
        status, _, body = self.post_multipart({"csrf": token}, [])
        self.assertEqual(status, 400)
        self.assertIn("Hãy chọn ít nhất một tệp để nộp".encode(), body)
        # A hostile bundle: refused whole.
        with open(fixture("hostile", "dotdot.zip"), "rb") as f:
            status, _, body = self.post_multipart({"csrf": token}, [("folder.zip", f.read())])
        self.assertEqual(status, 400)
        self.assertIn("Tệp nén bị từ chối toàn bộ".encode(), body)
        # Metadata with a date that does not exist: the form again, with what to correct.
        with open(fixture("signed", "letter.txt"), "rb") as f, open(fixture("signed", "letter.txt.p7s"), "rb") as g:
            files = [("letter.txt", f.read()), ("letter.txt.p7s", g.read())]
        fields = dict(METADATA, csrf=token, issued_date="30/02/2026")
        status, _, body = self.post_multipart(fields, files)
        self.assertEqual(status, 400)
        self.assertIn("không phải là ngày hợp lệ".encode(), body)
        self.assertIn("UBND tỉnh Đắk Nông".encode(), body)  # what was typed is kept
        # Without the token: refused before anything is read.
        status, _, _ = self.post_multipart({}, files)
        self.assertEqual(status, 403)
        # An unsigned document alone: refused as not signed.
        status, _, body = self.post_multipart({"csrf": token}, files[:1])
        self.assertEqual(status, 200)
        self.assertIn("Tệp không có chữ ký số".encode(), body)
        # The spool is left empty.
        self.assertEqual(os.listdir(os.path.join(self.service.store, "spool")), [])


class Bundle(OfficerTest):
    """A folder handed in as a zip, on a store of its own (its letter.txt would make the other tests' duplicates)."""

    def test_hand_in_a_folder_as_a_zip(self):
        self.sign_in("officer1")
        self.hand_in([fixture("bulk", "tree.zip")])
        rows = {r.find_element(By.CSS_SELECTOR, "td").text: r.text
                for r in self.browser.find_elements(By.CSS_SELECTOR, "tbody tr")}
        self.assertIn("Đã lưu trữ", rows["tree.zip/letter.txt"])
        self.assertIn("Đã lưu trữ", rows["tree.zip/2024/report.p7m"])
        self.assertIn("Không nộp được tệp này", rows["tree.zip/orphan.p7s"])
        self.assertIn("Tệp không có chữ ký số", rows["tree.zip/unsigned.txt"])
        self.assertNotIn("tree.zip/.hidden.txt", rows)
        self.assert_no_page_errors()


if __name__ == "__main__":
    unittest.main(verbosity=2)
