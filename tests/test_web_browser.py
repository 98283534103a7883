"""The organisers' web view in a real browser (Debian's Chromium, headless, through Selenium), the way an
organiser answers the telephone on the last day: log in (after a colleague's wrong guesses locked the name
out for a while), find the unit by a candidate's name, see the photos, download the unit's export; a
quarantined unit shows no file; after logging out nothing is shown."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mailintake.store.models import Attachment, Message
from testkit.browser import chromium, needs_chromium
from testkit.desk import MaildirDesk
from testkit.webview import ORGANISER, PASSWORD, add_organiser, campaign, start_view

pytestmark = needs_chromium


@pytest.fixture
def desk(tmp_path):
    d = MaildirDesk(tmp_path / "campaign")
    campaign(d, incomplete=False)
    add_organiser(d.ctx)
    yield d
    d.close()


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chromium(tmp_path / "profile", downloads)
    driver.downloads = downloads
    yield driver
    driver.quit()


def log_in(driver, base: str, password: str) -> None:
    driver.find_element(By.NAME, "name").clear()
    driver.find_element(By.NAME, "name").send_keys(ORGANISER)
    driver.find_element(By.NAME, "password").send_keys(password)
    before = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(driver, 30).until(lambda d: _gone(before))


def _gone(element) -> bool:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        element.tag_name  # noqa: B018 - raises once the page it belongs to has been replaced
        return False
    except StaleElementReferenceException:
        return True


def text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def wait_for_file(folder: Path, pattern: str, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} downloaded into {folder}: {list(folder.iterdir())}")


def test_an_organiser_finds_a_unit_by_a_candidates_name_sees_the_photos_and_downloads_its_export(desk, browser):
    view = start_view(desk.ctx)
    try:
        base = view.base
        browser.get(base + "/units")
        assert "/login" in browser.current_url, "no page without a login"

        for _ in range(5):  # a colleague guessing
            log_in(browser, base, "not-the-password")
        assert "登录失败次数过多" in text(browser) and "15分钟" in text(browser)
        log_in(browser, base, PASSWORD)
        assert "登录失败次数过多" in text(browser), "locked out even with the right password"
        view.clock.move(minutes=16)
        log_in(browser, base, PASSWORD)
        assert browser.current_url.endswith("/units"), "back to the page first asked for"

        search = browser.find_element(By.NAME, "q")
        search.send_keys("李娜")
        search.submit()
        WebDriverWait(browser, 30).until(lambda d: "q=" in d.current_url)
        rows = browser.find_elements(By.CSS_SELECTOR, "table.units tbody tr")
        assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == ["渝中区"]
        rows[0].find_element(By.LINK_TEXT, "渝中区").click()
        WebDriverWait(browser, 30).until(lambda d: "/units/" in d.current_url)

        page = text(browser)
        assert "王芳" in page and "李娜" in page and "材料齐全" in page and "已检测到公章" in page
        loaded = browser.execute_script(
            "return [...document.querySelectorAll('.photo img')].map(i => i.complete ? i.naturalWidth : -1)")
        assert len(loaded) == 2 * 4 and all(w > 0 for w in loaded), loaded  # each: ID photo + 3 life photos

        browser.find_element(By.PARTIAL_LINK_TEXT, "下载本单位的评审材料").click()
        archive = wait_for_file(browser.downloads, "*.zip")
        names = zipfile.ZipFile(archive).namelist()
        assert "渝中区/李娜/证件照.jpg" in names and "渝中区/王芳/生活照3.jpg" in names and "索引.xlsx" in names
        assert not any(n.startswith("南岸区") for n in names)

        browser.get(base + "/units?status=quarantined")
        browser.find_element(By.LINK_TEXT, "南岸区").click()
        WebDriverWait(browser, 30).until(lambda d: "/units/" in d.current_url)
        assert "已隔离" in text(browser) and "孙磊" in text(browser)
        assert browser.find_elements(By.TAG_NAME, "img") == []
        assert browser.find_elements(By.CSS_SELECTOR, "a[href^='/files/'], a[href^='/photos/'], a[href$='.zip']") == []
        with desk.ctx.db.session() as s:
            sealed = [a.id for a in s.query(Attachment).join(Message).filter(Message.sender == "nakx@qq.com")]
        assert sealed
        browser.get(f"{base}/files/{sealed[0]}")
        assert "不能查看或下载" in text(browser), "its attachment ids are refused"

        browser.get(base + "/")
        browser.find_element(By.CSS_SELECTOR, "form.who button").click()
        WebDriverWait(browser, 30).until(lambda d: "/login" in d.current_url)
        browser.get(base + "/units")
        assert "/login" in browser.current_url, "logged out: no page"
    finally:
        view.stop()
