"""Screenshots of the organisers' web view from `mailintake demo`, with headless Chromium driven by Selenium.

Run through `bash scripts/web_pictures.sh` (it makes sure Chromium, chromedriver and a CJK font are
installed). The demo runs in a fresh temp dir; an organiser is added (`mailintake web add-user`, the password
on standard input), `mailintake web` serves the demo on a free loopback port, the browser logs in and saves the
overview and the page of the unit with the most candidates, 1280×900 each.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
MAILINTAKE = ROOT / ".venv" / "bin" / "mailintake"
WIDTH, HEIGHT = 1280, 900
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-default-apps", "--no-first-run",
         "--disable-sync", "--disable-extensions", f"--window-size={WIDTH},{HEIGHT}", "--force-device-scale-factor=1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the web view did not come up at {url}")


def save(driver: webdriver.Chrome, out: Path, tmp: Path) -> None:
    shot = tmp / "shot.png"
    driver.save_screenshot(str(shot))
    Image.open(shot).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KB)")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="web-pictures-") as t:
        tmp = Path(t)
        demo = subprocess.run([str(MAILINTAKE), "demo", "--dir", str(tmp / "demo")], capture_output=True, text=True)
        if demo.returncode:
            print(demo.stdout, demo.stderr, sep="\n", file=sys.stderr)
            return demo.returncode
        conf = str(tmp / "demo" / "mailintake.toml")
        password = secrets.token_urlsafe(16)
        subprocess.run([str(MAILINTAKE), "-c", conf, "web", "add-user", "熊蔓源"], input=password + "\n", text=True,
                       check=True, capture_output=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(MAILINTAKE), "-c", conf, "web", "--listen", f"127.0.0.1:{port}"],
                                  stderr=subprocess.DEVNULL)
        driver = None
        try:
            wait_until_up(base + "/login", server)
            driver = browser(tmp / "profile")
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # the page itself 1280×900, not the window
                                   {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
            driver.get(base + "/login")
            driver.find_element(By.NAME, "name").send_keys("熊蔓源")
            driver.find_element(By.NAME, "password").send_keys(password)
            driver.find_element(By.CSS_SELECTOR, "form button").click()
            WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)
            OUT.mkdir(parents=True, exist_ok=True)
            save(driver, OUT / "web-overview.png", tmp)
            driver.get(base + "/units?status=complete")
            rows = driver.find_elements(By.CSS_SELECTOR, "table.units tbody tr")
            busiest = max(rows, key=lambda r: int(r.find_elements(By.TAG_NAME, "td")[3].text.split("/")[0]))
            busiest.find_element(By.TAG_NAME, "a").click()
            WebDriverWait(driver, 30).until(lambda d: "/units/" in d.current_url)
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(
                "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"))
            save(driver, OUT / "web-unit.png", tmp)
        finally:
            if driver is not None:
                driver.quit()
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
