"""What the browser tests share: where Chromium is, the screenshots of every step, signing in
through the back office's own login page, and axe-core's accessibility check (docs/adr/0052).

Chromium is the system's (Debian's ``chromium``, installed by ``scripts/bootstrap
--test-tools``), or the one ``CHROMIUM_PATH`` names: Playwright drives it and downloads no
browser of its own."""

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from apps.support.security.models import User
from tests.helpers import staff_member

ROOT = Path(__file__).resolve().parents[2]
# Kept by the test run (gitignored): one folder per test, one picture per step.
SCREENSHOTS = ROOT / "test-results" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# What UserFactory gives every user.
PASSWORD = "a-long-enough-password"
# Violations that fail a test; "moderate" and "minor" ones are reported by axe but tolerated.
BLOCKING_IMPACTS = ("serious", "critical")


def chromium_path() -> str | None:
    """The Chromium to drive: ``CHROMIUM_PATH``, else ``chromium`` on the ``PATH``."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


def launch_arguments() -> list[str]:
    # Chromium refuses to start its sandbox as root (CI runs as root); /dev/shm is small in
    # containers.
    arguments = ["--disable-dev-shm-usage"]
    if os.geteuid() == 0:
        arguments.append("--no-sandbox")
    return arguments


def folder_name(test_name: str) -> str:
    """A test's name as a folder name (``test_x[curator]`` -> ``test_x-curator``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")


@dataclass
class Steps:
    """Writes a screenshot of the page for every step of a test: ``<nn>-<step>.png``."""

    page: Page
    folder: Path
    taken: list[Path] = field(default_factory=list)

    def __call__(self, name: str, page: Page | None = None) -> Path:
        """A screenshot of the test's page (or of ``page``, a second one) named ``name``."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{folder_name(name)}.png"
        (page or self.page).screenshot(path=path, full_page=True)
        self.taken.append(path)
        return path


def english_staff(role: str, **fields: Any) -> User:
    """A member of staff of ``role`` whose back office is in English (the profile's
    ``preferred_language`` decides it; Spanish is every account's default)."""
    return staff_member(role, preferred_language="en", **fields)


def sign_in(page: Page, steps: Steps, email: str, password: str = PASSWORD) -> None:
    """Signs in through the back office's login page, as staff do."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    steps("login filled in", page)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/admin/")
    steps("signed in", page)


def submit(page: Page, selector: str) -> None:
    """Clicks ``selector`` and waits for the page the form's submit loads."""
    with page.expect_navigation():
        page.click(selector)


def app_labels(page: Page) -> list[str]:
    """The apps the index page lists (Django's ``app-<label>`` modules), in its order."""
    labels = page.eval_on_selector_all(
        "#content-main [class*='app-'].module",
        "nodes => nodes.map(node => [...node.classList].find(name => name.startsWith('app-')))",
    )
    return [label.removeprefix("app-") for label in labels]


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (injected from the copy shipped in
    tests/e2e/vendor/: nothing is fetched), each with its impact and the elements it found."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ['violations']});
            return results.violations.map(violation => ({
                id: violation.id,
                impact: violation.impact,
                help: violation.help,
                nodes: violation.nodes.map(node => node.target.join(' ')),
            }));
        }"""
    )
    return list(result)


def blocking(violations: list[dict[str, Any]]) -> str:
    """The serious and critical violations, one per line ("" when there is none)."""
    return "\n".join(
        json.dumps(violation, ensure_ascii=False)
        for violation in violations
        if violation["impact"] in BLOCKING_IMPACTS
    )
