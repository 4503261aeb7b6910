"""What the browser tests share: Debian's chromium, its headless flags, a free port."""

from __future__ import annotations

import socket

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


VIEWER = "#gs-viewer .gs-viewer"
REPORT = "#gs-report .gs-report"
TIMEOUT_MS = 60_000


def shown_js(sha: str) -> str:
    """A page expression: the viewer and the report panel both show case ``sha``."""
    return (f"() => document.querySelector('{VIEWER}').dataset.renderedCase === '{sha}'"
            f" && document.querySelector('{REPORT}').dataset.renderedCase === '{sha}'")


def open_row(pg, index: int) -> str:
    """Click worklist row ``index`` and wait until its case is drawn; its SHA-256."""
    row = pg.locator("#gs-worklist .gs-case").nth(index)
    sha = row.get_attribute("data-case")
    row.click()
    pg.wait_for_function(shown_js(sha), timeout=TIMEOUT_MS)
    return sha
