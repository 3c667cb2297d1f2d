"""Headless Debian Chromium driven by Playwright, for tests of the Dagster UI as a person uses it.

Never a browser build of Playwright's own (`playwright install` downloads one, which this project's
machines cannot fetch and CI must not depend on): Debian's `chromium` package, which `.ci/run`
installs when it is missing. Without the background-networking flags Chromium keeps dialling
Google's hosts, which a closed network refuses; a fresh user data directory keeps runs independent.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1280, 800
# Where a run keeps its screenshots when set (CI's artifact folder); else under the test's tmp_path.
ARTIFACTS_ENV = "ORACLE_MAILCHIMP_ARTIFACTS"
ACTION_TIMEOUT_MS = 30_000
MISSING = (
    "browser tests need Debian's Chromium at {chromium} (`apt-get install -y chromium`, as .ci/run "
    "does) and Playwright from the dev extra (`make .venv/.installed`); missing: {what}"
)


def require_browser() -> None:
    """Fail (never skip) in one line when Chromium or Playwright is not installed."""
    missing = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(str(CHROMIUM))
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        pytest.fail(MISSING.format(chromium=CHROMIUM, what=", ".join(missing)), pytrace=False)


def artifacts_dir(tmp_path: Path, name: str) -> Path:
    """The test's screenshot folder, created and printed (pytest shows it for a failed test)."""
    base = os.environ.get(ARTIFACTS_ENV)
    folder = Path(base) / name if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"browser screenshots: {folder}")
    return folder


@dataclass
class Screenshots:
    """Numbered full-page PNGs of each stage, in the order taken."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page: "Page", stage: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{stage}.png"
        page.screenshot(path=str(path), full_page=False)
        self.taken.append(path)
        return path


@contextmanager
def chromium_page(shots: Screenshots) -> Iterator["Page"]:
    """A page of a new headless Chromium with an empty profile; a `failure` screenshot if the block
    raises, and the browser closed either way."""
    require_browser()
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT},
                locale="en-US",
                timezone_id="UTC",
            )
            try:
                page = context.new_page()
                page.set_default_timeout(ACTION_TIMEOUT_MS)
                try:
                    yield page
                except BaseException:
                    shots.take(page, "failure")
                    raise
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def exact(text: str) -> re.Pattern[str]:
    """A whole-text pattern for Playwright's `name=`/`has_text=` (plain strings match substrings)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")
