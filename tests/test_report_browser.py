"""The taxi run's report in a real browser: headless Debian chromium loads it with no console
message, shows the run's key figures, and takes a screenshot.

Test setup installs chromium (scripts/install-chromium.sh, apt-get as root) when it is absent.
`TFXGATE_REPORT_SCREENSHOT=docs/report.png` also copies the screenshot there (how the README's
image is made).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, TAXI_CONFIG, small_run_overrides

pytestmark = pytest.mark.e2e

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
# Chromium logs every console message (errors, uncaught exceptions, logs) to stderr as "CONSOLE".
CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)")


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        subprocess.run(["bash", str(REPO / "scripts" / "install-chromium.sh")], check=True, timeout=600)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed and could not be (not root, or no apt-get)")
    return found


def browse(chromium: str, page: Path, *args: str, home: Path) -> tuple[str, list[str]]:
    """Loads `page`; returns stdout and the console messages the page produced."""
    proc = subprocess.run(
        [chromium, *FLAGS, "--enable-logging=stderr", "--v=0", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},  # chromium's profile goes here, not in the real HOME
        check=True,
    )
    return proc.stdout, CONSOLE.findall(proc.stderr)


def test_console_messages_are_detected(chromium, tmp_path):
    """The check below can fail: a page with a script error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><p>x</p><script>console.error('boom'); missing();</script>")
    _, console = browse(chromium, bad, "--dump-dom", home=tmp_path)
    assert any("boom" in line for line in console)
    assert any("missing is not defined" in line for line in console)


def test_taxi_report_renders_in_chromium_with_its_key_figures(chromium, taxi_runs, sample_csv, tmp_path):
    from tests.test_report_e2e import recorded_facts
    from tfxgate.pipelines import report as run_report
    from tfxgate.pipelines.config.root import load_config

    config = load_config(TAXI_CONFIG, overrides=small_run_overrides(sample_csv, taxi_runs.root))
    run_id = taxi_runs.first.summaries()[0]["run_id"]
    page = run_report.write(config, run_id=run_id, output=tmp_path / "report.html")
    source = page.read_text()
    # Self-contained: nothing to fetch, nothing to run.
    assert "<script" not in source and "<link" not in source and "url(" not in source
    assert not re.search(r"(src|href)=", source)

    dom, console = browse(chromium, page, "--dump-dom", home=tmp_path)
    assert console == []
    facts = recorded_facts(taxi_runs.root)
    assert f"run {run_id}</small>" in dom and "SUCCEEDED" in dom
    assert f"{facts['auc']:.4f}" in dom
    assert all(f"{split} {rows}" in dom for split, rows in facts["rows"].items())  # the key figures
    assert dom.count("<section") == 9

    screenshot = tmp_path / "report.png"
    _, console = browse(
        chromium, page, f"--screenshot={screenshot}", "--window-size=1100,1500", "--hide-scrollbars", home=tmp_path
    )
    assert console == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    if os.environ.get("TFXGATE_REPORT_SCREENSHOT"):
        shutil.copy(screenshot, REPO / os.environ["TFXGATE_REPORT_SCREENSHOT"])
