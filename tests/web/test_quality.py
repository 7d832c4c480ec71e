"""What every page owes its readers, checked on every page of every role's menu:
one heading, labelled form fields, a language, nothing loaded from elsewhere,
no console errors, keyboard access (the skip link comes first), and a layout
that fits a tablet (768 px) without scrolling sideways."""
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from webtest import WebTest

# Form fields without a label: those with a label element for them, inside
# one, or with aria-label/aria-labelledby are fine.
UNLABELLED = """
return Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => !['hidden', 'submit', 'button'].includes(e.type))
  .filter(e => !(e.id && document.querySelector('label[for="' + e.id + '"]'))
               && !e.closest('label') && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 120));
"""


class Quality(WebTest):

    def menu_pages(self):
        return [a.get_attribute("href") for a in self.browser.find_elements(By.CSS_SELECTOR, "header nav a")]

    def check_page(self, url, label):
        self.browser.get(url)
        self.assertEqual(len(self.browser.find_elements(By.TAG_NAME, "h1")), 1, label)
        self.assertIn(self.browser.find_element(By.TAG_NAME, "html").get_attribute("lang"), ("vi", "en"), label)
        self.assertEqual(self.browser.execute_script(UNLABELLED), [], label + ": form fields without a label")
        self.assertEqual(self.browser.execute_script(
            "return Array.from(document.images).filter(i => !i.hasAttribute('alt')).length"), 0, label)
        self.assert_no_page_errors()
        # The first Tab reaches the skip link.
        self.browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        self.assertEqual(self.browser.switch_to.active_element.get_attribute("class"), "skip", label)

    def test_every_page_of_every_role_is_accessible_and_fits_a_tablet(self):
        for name in ("officer1", "auditor1", "admin1"):
            self.sign_in(name)
            pages = self.menu_pages()
            self.assertGreaterEqual(len(pages), 2, name)
            for url in pages:
                for width in (1366, 768):
                    self.browser.set_window_size(width, 1000)
                    self.check_page(url, "%s %s at %d px" % (name, url, width))
                    overflow = self.browser.execute_script(
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                    self.assertLessEqual(overflow, 0, "%s scrolls sideways at %d px" % (url, width))
            self.browser.set_window_size(1366, 900)
            self.sign_out()


if __name__ == "__main__":
    unittest.main(verbosity=2)
