"""The reading app's fast path (cases opened through a server function) in a real browser:
each signed-in reader sees only their own reviews, and a late answer to an earlier click never
replaces the case opened last. Own app with Gradio sign-in (see test_app_browser.py for the rest).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.chromium import REPORT, TIMEOUT_MS, VIEWER, free_port, open_row, shown_js

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
USERS = [("alice", "alice-pass"), ("bob", "bob-pass")]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from app.main import create_app
    from app.ui import launch

    tmp = tmp_path_factory.mktemp("app-readers")
    examples = tmp / "examples"
    (examples / "images").mkdir(parents=True)
    src = REPO / "assets" / "examples"
    for name in ("00001369_000.png", "00000129_000.png"):
        shutil.copy(src / "images" / name, examples / "images" / name)
    shutil.copy(src / "labels.csv", examples / "labels.csv")
    app = create_app(db_url=f"sqlite:///{tmp / 'readers.sqlite'}", cache_dir=tmp / "cache",
                     examples_dir=examples, phantoms=((3, ()), (4, ()), (5, ()), (6, ()), (8, ())))
    port = free_port()
    launch(app.demo, cache_dir=app.cache_dir, port=port, block=False, auth=USERS)
    yield app, f"http://127.0.0.1:{port}/"
    app.demo.close()


def signed_in(browser, url: str, user: str, password: str):
    ctx = browser.new_context(viewport={"width": 1500, "height": 950})
    assert ctx.request.post(url + "login", form={"username": user, "password": password}).ok
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("#gs-worklist .gs-case", timeout=TIMEOUT_MS)
    return ctx, pg, errors


def shown(pg, sha: str) -> bool:
    return pg.evaluate(shown_js(sha))


def test_each_signed_in_reader_sees_only_their_own_reviews(browser, served):
    app, url = served
    ctx_a, alice, errors_a = signed_in(browser, url, *USERS[0])
    assert "alice" in alice.locator("#gs-worklist .gs-wl-user").inner_text()
    sha = open_row(alice, 0)
    alice.locator(f"{REPORT} .gs-sent").nth(0).locator("[data-act=accept]").click()
    alice.wait_for_function(f"() => document.querySelector('{REPORT} .gs-sent').dataset.status === 'accept'")
    # bob opens the same case, now computed: it comes through the fast path, as bob
    ctx_b, bob, errors_b = signed_in(browser, url, *USERS[1])
    assert "bob" in bob.locator("#gs-worklist .gs-wl-user").inner_text()
    assert open_row(bob, 0) == sha
    assert bob.locator(f"{REPORT} .gs-sent").nth(0).get_attribute("data-status") == ""
    assert bob.locator(f"{REPORT} .gs-progress").inner_text().startswith("0 of")
    # and alice, opening it again the same way, still sees hers
    open_row(alice, 1)
    open_row(alice, 0)
    assert alice.locator(f"{REPORT} .gs-sent").nth(0).get_attribute("data-status") == "accept"
    opened = app.service.open_case(sha)
    assert app.service.store.current_reviews("bob", opened.prediction_id) == {}
    assert len(app.service.store.current_reviews("alice", opened.prediction_id)) == 1
    ctx_a.close()
    ctx_b.close()
    assert not errors_a and not errors_b, errors_a + errors_b


def test_a_late_answer_never_replaces_the_case_opened_last(browser, served):
    app, url = served
    ctx, pg, errors = signed_in(browser, url, *USERS[1])
    rows = pg.locator("#gs-worklist .gs-case")
    fresh = [i for i in range(rows.count())
             if rows.nth(i).get_attribute("data-case") not in app.service._opened]
    assert len(fresh) >= 2, "needs two cases not computed yet"
    sha_last = open_row(pg, fresh[0])  # computed now: it will answer at once
    open_row(pg, 0)
    rows.nth(fresh[1]).click()  # a new case: its answer comes after the pipeline has run...
    rows.nth(fresh[0]).click()  # ...long after this one has been drawn
    pg.wait_for_function(f"() => document.querySelector('{VIEWER}').dataset.renderedCase === '{sha_last}'",
                         timeout=TIMEOUT_MS)
    pg.wait_for_timeout(1500)  # the first case's answer has long arrived by now
    assert shown(pg, sha_last)
    assert pg.locator("#gs-worklist .gs-current").get_attribute("data-case") == sha_last
    assert pg.evaluate(f"() => document.querySelector('{VIEWER}').dataset.busy || ''") == ""
    ctx.close()
    assert not errors, errors


def test_opening_a_case_computes_the_next_one_in_the_background(browser, served):
    import time

    app, url = served
    ctx, pg, errors = signed_in(browser, url, *USERS[0])
    rows = pg.locator("#gs-worklist .gs-case")
    shas = [rows.nth(i).get_attribute("data-case") for i in range(rows.count())]
    i = next((j for j in range(len(shas) - 1) if shas[j + 1] not in app.service._opened), None)
    assert i is not None, "needs a case whose next one is not computed yet"
    open_row(pg, i)
    deadline = time.monotonic() + 60
    while shas[i + 1] not in app.service._opened and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shas[i + 1] in app.service._opened
    ctx.close()
    assert not errors, errors
