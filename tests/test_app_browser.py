"""The reading app in a real browser (headless Debian chromium through Playwright).

One app per module, started in a thread on a free port with its own SQLite file and cache, so
the tests can also check what the store holds. Screenshots land in out/screenshots (kept as
CI artifacts). Events are queued: every check polls for the state it expects.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.chromium import TIMEOUT_MS, VIEWER, free_port, open_row

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "out" / "screenshots"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from app.main import create_app
    from app.ui import launch

    tmp = tmp_path_factory.mktemp("app")
    examples = tmp / "examples"
    (examples / "images").mkdir(parents=True)
    (examples / "dicom").mkdir()
    src = REPO / "assets" / "examples"
    for name in ("00001369_000.png", "00000129_000.png"):
        shutil.copy(src / "images" / name, examples / "images" / name)
    shutil.copy(src / "labels.csv", examples / "labels.csv")
    shutil.copy(src / "dicom" / "siim_cr_chest_pa.dcm", examples / "dicom" / "siim_cr_chest_pa.dcm")
    app = create_app(
        db_url=f"sqlite:///{tmp / 'test.sqlite'}", cache_dir=tmp / "cache", examples_dir=examples,
        phantoms=((7, ()),),
    )
    store = app.service.store
    store.ensure_reader("reader")
    shas = [e.sha256 for e in app.service.library.entries() if e.source == "example"][:2]
    store.create_study("pilot", case_sha256s=shas)  # default arms: with_ai, without_ai (report only)
    store.add_study_reader("pilot", "reader")
    port = free_port()
    launch(app.demo, cache_dir=app.cache_dir, port=port, block=False)
    yield app, f"http://127.0.0.1:{port}/"
    app.demo.close()


@pytest.fixture
def page(browser, served):
    _, url = served
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("#gs-worklist .gs-case", timeout=TIMEOUT_MS)
    yield pg
    ctx.close()
    assert not errors, errors


def data(pg, key: str) -> str:
    return pg.eval_on_selector(VIEWER, f"el => el.dataset.{key} || ''")


def open_case(pg, index: int) -> str:
    return open_row(pg, index)


def case_index(pg, name_part: str) -> int:
    names = pg.locator("#gs-worklist .gs-case-name").all_inner_texts()
    return next(i for i, n in enumerate(names) if name_part in n)


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / name))


def test_open_case_overlays_keep_zoom_and_window_level(page):
    from app.payload import stored_codes
    from core.io import load_radiograph

    # the first case computed in this app (pipeline, store, image: well over the 0.25 s before
    # the line appears, even with the models already warm): the viewer shows its
    # progress line while it waits, and clears it once the case is drawn
    page.evaluate(f"""() => {{ const v = document.querySelector('{VIEWER}');
        new MutationObserver(() => {{ if (v.dataset.busy === '1') window.__sawBusy = v.querySelector('.gs-busy').textContent; }})
            .observe(v, {{ attributes: true, attributeFilter: ['data-busy'] }}); }}""")
    open_case(page, case_index(page, "siim"))
    assert "running the models" in (page.evaluate("() => window.__sawBusy") or "")
    assert data(page, "busy") == "" and page.locator(f"{VIEWER} .gs-busy").is_hidden()
    # the 16-bit codes reached the canvas without loss: same codes as the server's
    codes, _, _ = stored_codes(load_radiograph(REPO / "assets/examples/dicom/siim_cr_chest_pa.dcm"))
    assert data(page, "valueStats") == f"{codes.min()},{codes.max()},{int(codes.sum(dtype=np.int64))}"
    assert data(page, "fixationsShown") != "0"
    shot(page, "01_case_open.png")
    page.keyboard.press("+")
    page.keyboard.press("+")
    box = page.locator(f"{VIEWER} .gs-stage").bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 300)
    page.keyboard.down("Shift")
    page.mouse.down()
    page.mouse.move(box["x"] + 360, box["y"] + 340, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    zoom, pan = data(page, "zoom"), data(page, "pan")
    wl = data(page, "wl")
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 260, box["y"] + 160, steps=5)
    page.mouse.up()
    assert data(page, "wl") != wl  # left drag changed window/level...
    assert (data(page, "zoom"), data(page, "pan")) == (zoom, pan)  # ...and not the view
    page.locator(f"{VIEWER} input[data-ov=regions]").check()
    page.locator(f"{VIEWER} input[data-ov=scanpath]").uncheck()
    page.locator(f"{VIEWER} input[data-ov=measurements]").uncheck()
    assert data(page, "overlays").split() == ["attention", "regions"]
    assert page.locator(f"{VIEWER} .gs-region").count() >= 10
    assert data(page, "fixationsShown") == "0"
    assert (data(page, "zoom"), data(page, "pan")) == (zoom, pan)
    assert float(zoom) > 1.0
    shot(page, "02_zoom_regions.png")


def test_scanpath_playback_runs_in_the_browser(page):
    open_case(page, case_index(page, "00001369"))
    total = int(data(page, "fixationsShown"))
    page.locator(f"{VIEWER} [data-act=play]").click()
    page.wait_for_function(f"() => document.querySelector('{VIEWER}').dataset.playing === 'true'")
    page.wait_for_function(
        f"() => +document.querySelector('{VIEWER}').dataset.fixationsShown >= 3", timeout=10_000
    )
    page.wait_for_timeout(400)
    shot(page, "03_playback.png")
    page.keyboard.press(" ")  # pause
    page.wait_for_function(f"() => document.querySelector('{VIEWER}').dataset.playing === 'false'")
    paused = int(data(page, "fixationsShown"))
    assert 1 <= paused < total
    page.keyboard.press(".")
    assert int(data(page, "fixationsShown")) == paused + 1
    page.keyboard.press(",")
    assert int(data(page, "fixationsShown")) == paused


def test_sentence_and_region_link_both_ways(page):
    open_case(page, case_index(page, "00001369"))
    cards = page.locator("#gs-report .gs-sent")
    assert cards.count() >= 1
    card = cards.nth(0)
    regions = card.locator(".gs-chip").all_inner_texts()
    card.locator(".gs-text").click()
    expected = " ".join(r.replace(" ", "_") for r in regions)
    page.wait_for_function(
        f"() => document.querySelector('{VIEWER}').dataset.highlight === '{expected}'"
    )
    assert page.locator(f"{VIEWER} .gs-hl-region").count() == len(regions)
    shot(page, "04_sentence_highlight.png")
    # click the centre of that region on the image: the report marks its sentences
    centre = page.evaluate(
        f"""() => {{ const S = document.querySelector('{VIEWER}').__state;
        const r = S.data.anatomy.regions.find(q => q.id === '{regions[0].replace(" ", "_")}');
        const st = document.querySelector('{VIEWER} .gs-stage').getBoundingClientRect();
        const p = r.polygon.reduce((a, q) => [a[0] + q[0] / r.polygon.length, a[1] + q[1] / r.polygon.length], [0, 0]);
        return [st.left + S.view.tx + p[0] * S.w * S.view.scale, st.top + S.view.ty + p[1] * S.h * S.view.scale]; }}"""
    )
    page.mouse.click(*centre)
    page.wait_for_function(
        "() => (document.querySelector('#gs-report .gs-report').dataset.regionMatches || '') !== ''"
    )
    assert page.locator("#gs-report .gs-region-match").count() >= 1


def test_edit_and_accept_persist_across_reload(page, served):
    app, _ = served
    sha = open_case(page, case_index(page, "00000129"))
    cards = page.locator("#gs-report .gs-sent")
    assert cards.count() >= 2
    cards.nth(0).locator("[data-act=accept]").click()
    page.wait_for_function(
        "() => document.querySelector('#gs-report .gs-sent').dataset.status === 'accept'"
    )
    second = cards.nth(1)
    second.locator("[data-act=edit]").click()
    second.locator("textarea").fill("Edited in the browser test.")
    second.locator(".gs-cat").select_option("wrong_location")
    second.locator(".gs-sig").select_option("minor")
    second.locator("[data-act=save]").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#gs-report .gs-sent')[1].dataset.status === 'edit'"
    )
    assert "saved" in second.locator(".gs-state").inner_text()
    shot(page, "05_review.png")
    # what the store holds for this reader
    opened = app.service.open_case(sha)
    reviews = app.service.store.current_reviews("reader", opened.prediction_id)
    by_key = {k: reviews[v] for k, v in opened.sentence_db_ids.items() if v in reviews}
    assert by_key["s0"].action == "accept"
    assert (by_key["s1"].action, by_key["s1"].edited_text) == ("edit", "Edited in the browser test.")
    assert (by_key["s1"].error_category, by_key["s1"].significance) == ("wrong_location", "minor")
    # the URL keeps the case: a reload reopens it with the saved reviews
    page.reload()
    page.wait_for_function(
        f"() => document.querySelector('#gs-report .gs-report')?.dataset.renderedCase === '{sha}'",
        timeout=TIMEOUT_MS,
    )
    cards = page.locator("#gs-report .gs-sent")
    assert cards.nth(0).get_attribute("data-status") == "accept"
    assert cards.nth(1).locator(".gs-text").inner_text() == "Edited in the browser test."
    assert cards.nth(1).locator(".gs-cat").input_value() == "wrong_location"
    row = page.locator(f"#gs-worklist .gs-case[data-case='{sha}']")
    assert row.get_attribute("data-status") in ("in_progress", "reviewed")


def test_corrupt_dicom_upload_shows_the_reason_and_app_keeps_working(page, shared_data):
    from core.io import load_radiograph

    bad = shared_data / "dicom" / "corrupt_j2k_dx.dcm"
    with pytest.raises(ValueError) as err:
        load_radiograph(bad)
    n_cases = page.locator("#gs-worklist .gs-case").count()
    page.locator("#gs-upload input[type=file]").set_input_files(str(bad))
    status = page.locator("#gs-upload-status .gs-error")
    status.wait_for(timeout=TIMEOUT_MS)
    assert status.inner_text().strip() == str(err.value)
    shot(page, "06_upload_error.png")
    assert page.locator("#gs-worklist .gs-case").count() == n_cases
    open_case(page, 0)  # still working


def test_png_upload_is_read_and_listed(page, nih_dir):
    src = sorted((nih_dir / "images").glob("*.png"))[0]
    n_cases = page.locator("#gs-worklist .gs-case").count()
    page.locator("#gs-upload input[type=file]").set_input_files(str(src))
    page.locator("#gs-upload-status .gs-ok").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gs-worklist .gs-case").count() == n_cases + 1
    sha = page.locator("#gs-worklist .gs-case").last.get_attribute("data-case")
    page.wait_for_function(
        f"() => document.querySelector('{VIEWER}').dataset.renderedCase === '{sha}'",
        timeout=TIMEOUT_MS,
    )


def test_odd_sized_jpeg2000_dicom_upload_reaches_the_viewer_losslessly(page, dicom_dir):
    # a real JPEG 2000 CR, 1841 px wide (odd) and 1955 high: every 16-bit code arrives unchanged
    from app.payload import stored_codes
    from core.io import load_radiograph

    src = dicom_dir / "nema_rg1_cr_chest_j2k.dcm"
    page.locator("#gs-upload input[type=file]").set_input_files(str(src))
    page.locator("#gs-upload-status .gs-ok").wait_for(timeout=TIMEOUT_MS)
    rg = load_radiograph(src)
    page.wait_for_function(
        f"() => document.querySelector('{VIEWER}').dataset.renderedCase === '{rg.sha256}'",
        timeout=TIMEOUT_MS,
    )
    codes, _, _ = stored_codes(rg)
    assert codes.shape == (1955, 1841)
    assert data(page, "valueStats") == f"{codes.min()},{codes.max()},{int(codes.sum(dtype=np.int64))}"


def test_keyboard_shortcuts_and_none_while_typing(page):
    first = open_case(page, 0)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    page.wait_for_function(
        f"() => {{ const c = document.querySelector('{VIEWER}').dataset.renderedCase; return c && c !== '{first}'; }}",
        timeout=TIMEOUT_MS,
    )
    page.keyboard.press("k")
    page.wait_for_function(
        f"() => document.querySelector('{VIEWER}').dataset.renderedCase === '{first}'",
        timeout=TIMEOUT_MS,
    )
    assert data(page, "invert") == "false"
    page.keyboard.press("i")
    assert data(page, "invert") == "true"
    page.keyboard.press("g")
    assert "regions" in data(page, "overlays").split()
    page.keyboard.press("+")
    assert float(data(page, "zoom")) > 0
    page.keyboard.press("0")
    assert data(page, "invert") == "false"
    # n selects the first sentence, a accepts it
    page.keyboard.press("n")
    page.keyboard.press("a")
    page.wait_for_function(
        "() => document.querySelector('#gs-report .gs-sent').dataset.status === 'accept'"
    )
    # typing in the edit box must not toggle overlays or move cases
    card = page.locator("#gs-report .gs-sent").nth(0)
    card.locator("[data-act=edit]").click()
    before = data(page, "overlays")
    card.locator("textarea").type(" gjk i")
    assert data(page, "overlays") == before
    assert data(page, "renderedCase") == first
    shortcuts = page.locator("#gs-shortcuts")
    shortcuts.locator("button").first.click()
    shortcuts.locator(".gs-keys").wait_for()
    assert "play / pause" in shortcuts.inner_text()
    shot(page, "07_shortcuts.png")


def test_study_mode_blinded_arms_and_results(page, served):
    app, _ = served
    page.locator("#gs-mode input").click()
    page.get_by_role("option", name="Study: pilot").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gs-worklist .gs-case-name')].some(n => n.textContent.includes('Case 1 of 4'))",
        timeout=TIMEOUT_MS,
    )
    items = app.service.store.reader_assignments("reader", "pilot")
    rows = page.locator("#gs-worklist .gs-case")
    assert rows.count() == len(items) == 4
    # blinded: no file name in the worklist or on the image
    assert "NIH" not in page.locator("#gs-worklist").inner_text()
    without = next(i for i, a in enumerate(items) if a.arm.name == "without_ai")
    rows.nth(without).click()
    page.wait_for_function(
        f"() => document.querySelector('{VIEWER} .gs-hud').textContent === 'Case {without + 1} of 4'"
        f" && document.querySelector('{VIEWER}').dataset.renderedCase === '{items[without].case_sha256}'",
        timeout=TIMEOUT_MS,
    )
    # the arm without AI shows the draft report but no scanpath, map or findings
    assert not page.locator(f"{VIEWER} label[data-ovl=scanpath]").is_visible()
    assert data(page, "fixationsShown") == "0"
    assert not page.locator("#gs-report .gs-findings-box").is_visible()
    assert page.locator("#gs-report .gs-sent").count() >= 1
    shot(page, "08_study_item.png")
    page.locator("#gs-report .gs-complete").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#gs-worklist .gs-case')[{without}].dataset.status === 'reviewed'",
        timeout=TIMEOUT_MS,
    )
    assert app.service.store.get_assignment("reader", items[without].id).completed
    # the next item opened by itself, in its own arm
    nxt = next(i for i, a in enumerate(items) if i != without)
    page.wait_for_function(
        f"() => document.querySelector('{VIEWER} .gs-hud').textContent === 'Case {nxt + 1} of 4'"
        f" && document.querySelector('{VIEWER}').dataset.renderedCase === '{items[nxt].case_sha256}'",
        timeout=TIMEOUT_MS,
    )
    if items[nxt].arm.name == "with_ai":
        assert page.locator(f"{VIEWER} label[data-ovl=scanpath]").is_visible()
        assert data(page, "fixationsShown") != "0"
    # organiser view: the store's figures
    page.get_by_role("tab", name="Study results").click()
    page.wait_for_function(
        "() => document.querySelector('#gs-tab-results').innerText.includes('Choose a study.')",
        timeout=TIMEOUT_MS,
    )
    page.locator("#gs-study-pick input").click()
    page.get_by_role("option", name="pilot").click()
    page.get_by_role("button", name="Show results").click()
    page.wait_for_selector(".js-plotly-plot", timeout=TIMEOUT_MS)
    assert "1 of 4 items done" in page.locator("#gs-tab-results").inner_text()
    shot(page, "09_study_results.png")
