"""The web application's browser tests: shared set-up.

Each test module starts a real `preserve serve` on a fresh store (with the
test PKI trusted and the accounts officer1, auditor1 and admin1, each with a
password), and drives Debian's Chromium through chromedriver with Selenium.
Nothing is mocked: the pages come from the service, over HTTP on loopback.

Run by ctest (tests/web/CMakeLists.txt) with /usr/bin/python3, which has
Debian's python3-selenium; the environment names the binary, the fixtures
and where screenshots go:
  PRESERVE_BIN, PRESERVE_FIXTURES, PRESERVE_SCREENSHOTS
A missing peer (chromium, chromedriver, selenium) fails the test: it never skips.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

PRESERVE = os.environ["PRESERVE_BIN"]
FIXTURES = os.environ["PRESERVE_FIXTURES"]
SCREENSHOTS = os.environ["PRESERVE_SCREENSHOTS"]
PASSWORDS = {
    "officer1": "văn thư mật khẩu 1",   # non-ASCII on purpose
    "auditor1": "auditor password 22",
    "admin1": "admin password 333",
    "locked1": "the right password",  # for the lock-out test: nobody else signs in with it
}
ROLES = {"officer1": "officer", "auditor1": "auditor", "admin1": "admin", "locked1": "officer"}


def fixture(*parts):
    return os.path.join(FIXTURES, *parts)


def run(args, stdin=None, check=True):
    """Runs a command; returns (exit code, stdout, stderr)."""
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


class Service:
    """`preserve serve` on a fresh store, on a free loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="preserve-web-")
        self.store = os.path.join(self.dir, "store")
        run([PRESERVE, "init", "--store", self.store])
        run([PRESERVE, "trust", "add", fixture("pki", "root-ca.pem"), "--store", self.store,
             "--reason", "the test PKI"])
        with open(os.path.join(self.store, "config.json"), "w") as f:
            json.dump({"jobs": {"seal_every": "1s"}}, f)
        for name, role in ROLES.items():
            self.add_account(name, role, PASSWORDS[name])
        self.process = None
        self.url = None
        self.output = []

    def add_account(self, name, role, password):
        """Before start(): the service holds the store while it runs."""
        run([PRESERVE, "user", "add", name, "--role", role, "--store", self.store])
        run([PRESERVE, "user", "passwd", name, "--store", self.store], stdin=password + "\n")

    def ingest(self, document, signature):
        """Before start(): ingests a signed document (fixture paths); returns its package's id."""
        _, out, _ = run([PRESERVE, "ingest", document, "--signature", signature, "--trust",
                         fixture("pki", "root-ca.pem"), "--ids-only", "--store", self.store])
        return out.split()[0]

    def preserve(self, *args, check=True):
        """The CLI on this store (the read-only commands work beside the service)."""
        return run([PRESERVE] + list(args) + ["--store", self.store], check=check)

    def start(self):
        self.process = subprocess.Popen([PRESERVE, "serve", "--store", self.store, "--listen", "127.0.0.1:0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        for line in self.process.stdout:
            self.output.append(line)
            m = re.search(r"listening on (http\S+)", line)
            if m:
                self.url = m.group(1)
                break
            if time.time() > deadline:
                break
        if not self.url:
            self.process.kill()
            raise AssertionError("preserve serve did not start:\n" + "".join(self.output))
        # Keep draining its output, so that it never blocks on a full pipe.
        threading.Thread(target=lambda: [self.output.append(l) for l in self.process.stdout], daemon=True).start()

    def stop(self):
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


# A click on a link or a submit button returns once the next page has loaded,
# so that what a test reads next is that page, however slow the machine: the
# old page's <html> goes stale when the new one replaces it (a form posted by
# the page's script replaces the document too).
_plain_click = WebElement.click


def left_the_document(element):
    """Whether `element` left the document. Chromium answers "stale element"
    once the old page is gone, but while the new one is being put in place it
    may answer "Node with given id does not belong to the document" instead:
    that means gone as well."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


def _click_and_wait_for_the_next_page(element):
    navigates = element.tag_name == "a" or (element.tag_name in ("button", "input")
                                            and (element.get_attribute("type") or "submit") == "submit")
    if not navigates:
        return _plain_click(element)
    driver = element.parent
    old = driver.find_element(By.TAG_NAME, "html")
    _plain_click(element)
    try:
        WebDriverWait(driver, 60).until(lambda d: left_the_document(old))
    except TimeoutException:
        return  # it did not navigate after all (a download, an invalid form)
    WebDriverWait(driver, 120).until(lambda d: d.execute_script("return document.readyState") == "complete")


WebElement.click = _click_and_wait_for_the_next_page


def new_browser(lang="vi"):
    """Headless Chromium at a laptop's size, in `lang`."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1366,900", "--lang=" + lang, "--no-first-run", "--disable-extensions"):
        options.add_argument(a)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang,
                                              "download.default_directory": tempfile.gettempdir()})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=ChromeService("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    return driver


class WebTest(unittest.TestCase):
    """One service for the module's tests; a fresh browser for each test."""

    service = None
    # Signed documents to ingest before the service starts: (document, detached
    # signature) fixture paths. Their packages' ids are in `ingested`.
    ingest_before_start = ()
    ingested = []

    @classmethod
    def setUpClass(cls):
        cls.service = Service()
        cls.prepare_store(cls.service)
        cls.ingested = [cls.service.ingest(d, s) for d, s in cls.ingest_before_start]
        cls.service.start()

    @classmethod
    def prepare_store(cls, service):
        """Before start(): a module's own store set-up with the CLI (ingest, export...)."""

    @classmethod
    def tearDownClass(cls):
        if cls.service:
            cls.service.stop()

    def setUp(self):
        self.browser = new_browser()
        self.addCleanup(self.browser.quit)

    # ---- Driving the browser ----

    def open(self, path):
        self.browser.get(self.service.url + path)

    def sign_in(self, name, password=None):
        self.open("/signin")
        self.browser.find_element(By.ID, "name").send_keys(name)
        self.browser.find_element(By.ID, "password").send_keys(password or PASSWORDS[name])
        self.browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    def sign_out(self):
        self.browser.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()

    def heading(self):
        return self.browser.find_element(By.TAG_NAME, "h1").text

    def text(self):
        return self.browser.find_element(By.TAG_NAME, "body").text

    def switch_language(self):
        self.browser.find_element(By.CSS_SELECTOR, "a[href^='/lang']").click()

    def screenshot(self, name):
        """Writes SCREENSHOTS/<name>.png, the whole page."""
        os.makedirs(SCREENSHOTS, exist_ok=True)
        height = self.browser.execute_script("return document.documentElement.scrollHeight")
        self.browser.set_window_size(1366, max(900, min(int(height) + 40, 4000)))
        self.browser.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))
        self.browser.set_window_size(1366, 900)

    def assert_no_page_errors(self):
        """The page loaded nothing from elsewhere and the console has no errors."""
        for entry in self.browser.get_log("browser"):
            if entry.get("level") == "SEVERE":
                self.fail("browser console: %s" % entry.get("message"))
        for src in self.browser.execute_script(
                "return Array.from(document.querySelectorAll('[src],[href]'))"
                ".map(e => e.getAttribute('src') || e.getAttribute('href'))"):
            self.assertFalse(re.match(r"^(https?:)?//", src or ""), "a page refers outside the archive: " + src)
