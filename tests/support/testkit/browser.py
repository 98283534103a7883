"""Debian's Chromium, headless, driven by Selenium for the web view's browser tests.

The driver's path is given explicitly (/usr/bin/chromedriver, from the `chromium-driver` package), so
Selenium Manager never looks for or downloads one; background networking, component updates, sync and
default apps are off, so the only traffic is to the test's own server on 127.0.0.1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
         "--no-first-run", "--disable-sync", "--disable-extensions", "--disable-features=MediaRouter,OptimizationHints",
         "--window-size=1280,900")

needs_chromium = pytest.mark.skipif(not (shutil.which(CHROMIUM) and shutil.which(DRIVER)),
                                    reason="chromium and chromium-driver are not installed")


def chromium(profile: Path, downloads: Path | None = None):
    """A headless Chromium with its profile in `profile`, saving downloads into `downloads` without asking."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False,
                                                  "safebrowsing.enabled": False})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver
