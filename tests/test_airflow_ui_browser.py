"""A steward in Debian's Chromium: ``make airflow`` starts Airflow on a data folder where one
partner is late; the steward signs in on Airflow's own login page, opens « Dépôts des
partenaires » and finds that partner first, marked late. Without signing in, the view gives
nothing. Screenshot: build/screenshots/airflow-depots-1280.png (docs/screenshots/ with
INCLUSION_SCREENSHOTS=docs)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_browser import CHROMIUM, LAUNCH_ARGS, save_screenshot

from conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.airflow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: int = 420) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise AssertionError(f"Airflow did not answer within {seconds} s: "
                         + log.read_text(encoding="utf-8", errors="replace")[-3000:])


@pytest.fixture
def airflow_ui(loaded_samples: Path):
    """``make airflow`` on the sample data, Palaiseau's last file 100 days old."""
    with sqlite3.connect(loaded_samples / "warehouse" / "warehouse.sqlite") as db:
        db.execute("UPDATE ledger SET received_at = ? WHERE partner = 'ville-palaiseau'",
                   ((datetime.now(UTC) - timedelta(days=100)).isoformat(),))
    port = free_port()
    log = loaded_samples / "make-airflow.log"
    env = {**os.environ, "INCLUSION_DATA": str(loaded_samples), "AIRFLOW_PORT": str(port)}
    env.pop("AIRFLOW_HOME", None)  # the Makefile's, under the data folder
    with log.open("w") as output:
        process = subprocess.Popen(["make", "--no-print-directory", "airflow"], cwd=REPO, env=env,
                                   stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v2/monitor/health", process, log)
        passwords = loaded_samples / "airflow" / "simple_auth_manager_passwords.json.generated"
        yield f"http://127.0.0.1:{port}", json.loads(passwords.read_text())["admin"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_steward_signs_in_and_finds_the_late_partner_first(airflow_ui):
    from playwright.sync_api import sync_playwright

    url, password = airflow_ui
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          timezone_id="Europe/Paris", locale="fr-FR")
            page = context.new_page()
            anonymous = page.goto(f"{url}/depots/")
            assert anonymous.status in (401, 403) and "Palaiseau" not in page.content()

            page.goto(f"{url}/auth/login")
            page.fill('input[name="username"]', "admin")
            page.fill('input[name="password"]', password)
            page.click('button[type="submit"]')
            page.wait_for_url(lambda address: "/auth/login" not in address, timeout=60_000)

            view = page.goto(f"{url}/depots/")
            assert view.status == 200
            first = page.locator("tbody tr").first
            assert "Ville de Palaiseau" in first.inner_text()
            assert "en retard" in first.inner_text()
            save_screenshot(page, "airflow-depots-1280.png", 1280)
        finally:
            browser.close()
