"""The EchoClient page in a real browser: Debian's headless chromium driven by selenium.

Starts the real EchoServer and EchoClient binaries (``ECHO_SERVER_BIN``, ``ECHO_CLIENT_BIN``) on
loopback ports picked by the OS, loads ``/``, sends messages through the form and checks what the
page shows. Screenshots go to ``.artifacts/``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / ".artifacts"
SERVER_BIN = os.environ.get("ECHO_SERVER_BIN", str(REPO_ROOT / ".build/debug/EchoServer"))
CLIENT_BIN = os.environ.get("ECHO_CLIENT_BIN", str(REPO_ROOT / ".build/debug/EchoClient"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


@pytest.fixture(scope="module")
def page_url():
    server_port, client_port = free_port(), free_port()
    server = subprocess.Popen(
        [SERVER_BIN, "--host", "127.0.0.1", "--port", str(server_port), "--log-level", "warning"])
    client = subprocess.Popen(
        [CLIENT_BIN, "--host", "127.0.0.1", "--port", str(client_port),
         "--server", f"127.0.0.1:{server_port}", "--log-level", "warning"])
    try:
        wait_http(f"http://127.0.0.1:{client_port}/readyz")
        yield f"http://127.0.0.1:{client_port}/"
    finally:
        for process in (client, server):
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(15)
    yield driver
    driver.quit()


def send(browser, message: str) -> None:
    field = browser.find_element(By.ID, "message")
    field.clear()
    field.send_keys(message)
    browser.find_element(By.ID, "send-one").click()


def newest_row(browser, expected_count: int):
    WebDriverWait(browser, 10).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#replies tr")) >= expected_count)
    return browser.find_elements(By.CSS_SELECTOR, "#replies tr")[0]


def test_form_sends_and_shows_reply_with_latency(browser, page_url):
    browser.get(page_url)
    assert browser.title == "gRPC echo client"
    send(browser, "hello from chromium")
    row = newest_row(browser, 1)
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1] == "echo hello from chromium"
    assert cells[2] == "OK"
    assert cells[3].endswith(" ms") and float(cells[3].split()[0]) > 0
    assert cells[4].startswith("127.0.0.1:")
    # The live view counts the request within a refresh or two of /stats.
    WebDriverWait(browser, 5).until(
        lambda b: b.find_element(By.ID, "rate").text not in ("–", "0.0"))
    assert float(browser.find_element(By.ID, "p50").text.split()[0]) > 0
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "client-page.png"))


def test_markup_in_a_message_is_shown_literally(browser, page_url):
    browser.get(page_url)
    payload = "<img src=x onerror=alert(1)>"
    send(browser, payload)
    row = newest_row(browser, 1)
    assert row.find_elements(By.TAG_NAME, "td")[1].text == "echo " + payload
    assert browser.find_elements(By.CSS_SELECTOR, "#replies img") == []
    # An alert would make every later driver call fail; there must be none.
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0


def test_burst_sends_n_messages(browser, page_url):
    browser.get(page_url)
    browser.find_element(By.ID, "message").send_keys("burst")
    count = browser.find_element(By.ID, "count")
    count.clear()
    count.send_keys("5")
    browser.find_element(By.ID, "send-burst").click()
    WebDriverWait(browser, 10).until(
        lambda b: "5 requests" in b.find_element(By.ID, "burst-summary").text)
    assert "0 failed" in browser.find_element(By.ID, "burst-summary").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#replies tr")) == 5
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "client-page-burst.png"))


# Read in one script so the page cannot redraw the chart between two reads.
CHART_SNAPSHOT = """
const bars = [...document.querySelectorAll("#chart-rate rect.bar")];
return {
  requests: bars.reduce((sum, bar) => sum + Number(bar.getAttribute("data-requests")), 0),
  tallest: Math.max(0, ...bars.map(bar => Number(bar.getAttribute("height")))),
  p50: document.getElementById("chart-p50").getAttribute("d"),
  p99: document.getElementById("chart-p99").getAttribute("d"),
  label: document.getElementById("chart").getAttribute("aria-label"),
  title: document.getElementById("chart-title").textContent,
  rateMax: document.getElementById("chart-rate-max").textContent,
};
"""


def chart_snapshot(browser) -> dict:
    """What the chart shows at one instant (each bar is one completed second)."""
    return browser.execute_script(CHART_SNAPSHOT)


def test_chart_shows_a_burst(browser, page_url):
    browser.get(page_url)
    chart = browser.find_element(By.ID, "chart")
    assert chart.get_attribute("role") == "img"
    # Drawn from the first /stats answer: the last minute, earlier tests' requests included.
    WebDriverWait(browser, 5).until(lambda b: "Last 10 s:" in chart_snapshot(b)["label"])
    before = chart_snapshot(browser)["requests"]
    browser.find_element(By.ID, "message").send_keys("chart")
    count = browser.find_element(By.ID, "count")
    count.clear()
    count.send_keys("60")
    browser.find_element(By.ID, "send-burst").click()
    WebDriverWait(browser, 15).until(
        lambda b: "60 requests" in b.find_element(By.ID, "burst-summary").text)
    # Charted once the burst's last second has completed and the page has polled again.
    snapshot = WebDriverWait(browser, 10).until(
        lambda b: (s := chart_snapshot(b))["requests"] >= before + 60 and s)
    assert snapshot["tallest"] > 0
    assert snapshot["p50"].startswith("M")
    assert snapshot["p99"].startswith("M")
    label = snapshot["label"]
    peak = re.search(r"Peak: (\d+) requests/s", label)
    assert peak and int(peak.group(1)) > 0, label
    assert snapshot["title"] == label
    assert float(snapshot["rateMax"]) >= int(peak.group(1))
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "client-page-chart.png"))
