"""The Gradio reading room: worklist (left, collapsible), viewer (centre), findings and report
(right), models and disclaimer (footer).

Four custom ``gr.HTML`` components with static templates and their own JavaScript
(``app/static``): the worklist, the viewer, the report panel and the footer. A case opens
through the worklist's server function ``show_case`` (no queue: ~10 ms for a computed case, the
pipeline first for a new one), whose values the browser hands to the other components on a
page-wide bus; the queued ``open_case`` event is the fallback that reports errors. Reviews go
through the ``review`` event. Hovers and highlights never leave the browser. See
``reference/GRADIO_NOTES.md`` for why it is built this way.
"""

from __future__ import annotations

import html
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from app.service import ReadingService, assignment_id  # noqa: E402
from core.errors import GazeScopeError  # noqa: E402

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
DEFAULT_USER = "reader"
N_FIGURES = 7  # the store's study figures

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("J / K  (↓ / ↑)", "next / previous case"),
    ("Space", "play / pause the scanpath"),
    (". / ,", "next / previous fixation"),
    ("S", "toggle scanpath"),
    ("T", "toggle attention map"),
    ("G", "toggle region outlines"),
    ("M", "toggle measurements"),
    ("I", "invert"),
    ("W", "auto window"),
    ("+ / − / F", "zoom in / out / fit"),
    ("0", "reset view and window"),
    ("N / P", "next / previous sentence"),
    ("A / X / E", "accept / reject / edit the selected sentence"),
)

DISCLAIMER = (
    "Research prototype, not for clinical use. The models are small research models trained on "
    "synthetic data and small public datasets (or published statistics only, for baselines); "
    "they have no clinical validation."
)

PAGE_CSS = """
:root, .dark { --body-background-fill: #0b0e12; --background-fill-primary: #0f1318;
  --background-fill-secondary: #12171d; --block-background-fill: #0f1318; --border-color-primary: #262d38; }
.gradio-container { max-width: 100% !important; padding: 6px 12px !important; }
footer { display: none !important; }
#gs-header .gs-bar { display: flex; align-items: baseline; gap: 14px; color: #d7dde5; }
#gs-header .gs-logo { font-weight: 800; font-size: 18px; letter-spacing: .02em; color: #eef2f7; }
#gs-header .gs-tag { font-size: 12.5px; color: #8b97a8; }
#gs-header .gs-warn { font-size: 12px; color: #ffb74d; border: 1px solid #6b4a1a; border-radius: 10px; padding: 1px 9px; }
#gs-footer { color: #8b97a8; font-size: 12px; border-top: 1px solid #262d38; padding-top: 6px; }
#gs-footer table { border-collapse: collapse; margin: 4px 0; }
#gs-footer td, #gs-footer th { padding: 1px 10px 1px 0; text-align: left; border: none; background: none; }
#gs-footer .gs-disclaimer { color: #ffb74d; font-weight: 600; }
#gs-upload-status .gs-error { color: #ff8a80; font-size: 12.5px; }
#gs-upload-status .gs-ok { color: #8bd3a8; font-size: 12.5px; }
.gs-keys td { padding: 1px 6px; font-size: 12px; }
.gs-keys kbd { background: #232a35; border: 1px solid #364152; border-radius: 3px; padding: 0 4px; font-size: 11px; }
"""

FORCE_DARK = "() => { document.body.classList.add('dark'); }"


def _component(name: str, value: Any, **kwargs: Any) -> gr.HTML:
    """A static-template ``gr.HTML`` whose JS is common.js + ``<name>.js``."""
    js = (STATIC / "common.js").read_text() + "\n" + (STATIC / f"{name}.js").read_text()
    return gr.HTML(
        value=value,
        html_template=(STATIC / f"{name}.html").read_text(),
        css_template=(STATIC / f"{name}.css").read_text(),
        js_on_load=js,
        **kwargs,
    )


GUEST = "guest"  # on Spaces, a visitor who has not signed in: may look, may not review


def _cookie_user(request: Any) -> str | None:
    """The Gradio-auth user of a plain HTTP request. A server function receives the raw
    Starlette request, not a ``gr.Request`` with ``username`` filled in: read the sign-in
    cookie the way Gradio's own login check does (``gradio/routes.py: get_current_user``)."""
    app = getattr(request, "app", None)
    tokens = getattr(app, "tokens", None)
    cookies = getattr(request, "cookies", None)
    if not isinstance(tokens, dict) or not cookies:
        return None
    cid = getattr(app, "cookie_id", "")
    token = cookies.get(f"access-token-{cid}") or cookies.get(f"access-token-unsecure-{cid}")
    return tokens.get(token) if token else None


def _user(request: Any) -> str:
    """The signed-in reader: Gradio auth, else the Hugging Face OAuth session, else
    ``DEFAULT_USER`` (local use without sign-in) - or ``GUEST`` on Spaces (see build_app).
    ``request``: a ``gr.Request`` (events) or the raw HTTP request (server functions)."""
    if request is None:
        return DEFAULT_USER
    name = getattr(request, "username", None) or _cookie_user(request)
    if not name:
        try:  # only an OAuth app (LoginButton) installs the session middleware
            session = request.session
        except (AssertionError, AttributeError):
            session = {}
        info = session.get("oauth_info") if hasattr(session, "get") else None
        name = ((info or {}).get("userinfo") or {}).get("preferred_username")
    return str(name) if name else DEFAULT_USER


def _event(evt: gr.EventData) -> dict[str, Any]:
    """The payload a ``trigger(name, {...})`` call sent from the browser."""
    data = getattr(evt, "_data", None)
    return dict(data) if isinstance(data, dict) else {}


def training_data_text(value: Any) -> str:
    """A model's training data as a reader reads it: records keep it as JSON (a checkpoint's
    ``training_data``); shown, its ``summary`` if it has one, else ``key: value; ...``."""
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            return value
    if not isinstance(data, dict):
        return "" if data is None else str(data)
    if isinstance(data.get("summary"), str):
        return data["summary"]

    def flat(v: Any) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k} {flat(x)}" for k, x in v.items())
        if isinstance(v, list):
            return ", ".join(flat(x) for x in v)
        return str(v)

    return "; ".join(f"{str(k).replace('_', ' ')}: {flat(v)}" for k, v in data.items())


def footer_html(models: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(m.get('role', ''))}</td><td><b>{html.escape(str(m.get('name', '')))}</b></td>"
        f"<td>v{html.escape(str(m.get('version') or '-'))}</td>"
        f"<td>{html.escape((m.get('weights_sha256') or 'no weights')[:12])}</td>"
        f"<td>{html.escape(training_data_text(m.get('training_data')))}</td></tr>"
        for m in models
    )
    table = (
        "<table><tr><th>role</th><th>model</th><th>version</th><th>weights</th><th>training data</th></tr>"
        f"{rows}</table>" if rows else "<div>Open a case to see the models that read it.</div>"
    )
    return f'<div class="gs-disclaimer">{html.escape(DISCLAIMER)}</div>{table}'


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><kbd>{html.escape(k)}</kbd></td><td>{html.escape(v)}</td></tr>" for k, v in SHORTCUTS)
    return (
        f'<table class="gs-keys">{rows}</table><div style="font-size:11.5px;color:#8b97a8">'
        "Mouse: drag = window/level, Shift/right drag = pan, wheel = zoom, double-click = fit, "
        "click a region = its sentences. Keys are ignored while typing.</div>"
    )


ALL_CASES = "All cases"
STUDY_PREFIX = "Study: "


def build_app(service: ReadingService, *, login_button: bool = False, organiser_all: bool = True) -> gr.Blocks:
    """The reading room on ``service``. ``login_button``: Hugging Face OAuth (Spaces only).
    ``organiser_all``: everyone sees study results (local use); else only the organiser role."""
    opened_at: dict[tuple[str, str], float] = {}

    def reader(request: gr.Request | None) -> str:
        name = _user(request)
        # on Spaces nobody reviews anonymously: readers would share one identity
        return GUEST if login_button and name == DEFAULT_USER else name

    def study_of(mode: str | None) -> str | None:
        return mode[len(STUDY_PREFIX):] if mode and mode.startswith(STUDY_PREFIX) else None

    def worklist_value(user: str, mode: str | None, current: str | None = None) -> dict[str, Any]:
        study = study_of(mode)
        cases = service.study_worklist(user, study) if study else service.worklist(user)
        return {"cases": cases, "user": user, "current": current, "mode": mode or ALL_CASES}

    def on_load(request: gr.Request):
        user = reader(request)
        choices = [ALL_CASES] + [STUDY_PREFIX + n for n in service.reader_studies(user)]
        return worklist_value(user, ALL_CASES), gr.update(choices=choices, value=ALL_CASES)

    def on_mode(mode: str, request: gr.Request):
        return worklist_value(reader(request), mode), None, None

    def show(user: str, key: str, **kwargs: Any):
        """Viewer, report and footer values for a worklist key (a case hash or a study item)."""
        progress = kwargs.pop("progress", None)
        aid = assignment_id(key)
        if aid is not None:
            opened, item = service.open_assignment(user, aid)
            viewer = service.study_viewer_value(user, opened, item)
            report = service.study_report_value(user, opened, item, **kwargs)
            models: list[dict[str, Any]] = [] if item.arm.kind == "turing" else service.models_value(opened)
        else:
            opened = service.open_case(key, progress=progress)
            viewer = service.viewer_value(opened)
            report = service.report_value(opened, user, **kwargs)
            models = service.models_value(opened)
        report["key"] = key
        if user == GUEST:
            report["readonly"] = True
            report["error"] = "Sign in with Hugging Face to review."
        return viewer, report, footer_html(models)

    def tag(values: tuple[Any, ...], req: Any) -> tuple[Any, ...]:
        """Mark the viewer and report values with the browser's open request number, so a late
        answer to an older open never replaces a newer case."""
        if isinstance(req, int):
            values[0]["req"] = values[1]["req"] = req
        return values

    def show_case(data: dict[str, Any], request: gr.Request) -> dict[str, Any] | None:  # request: raw HTTP, see _user
        """The fast path (a server function: no queue; ~10 ms for a case already computed):
        every value the queued ``open_case`` would send, computing a new case first (the viewer
        shows its own progress line). None on any error: the browser then triggers
        ``open_case``, which tells the user what went wrong."""
        data = data if isinstance(data, dict) else {}
        try:
            key = str(data.get("case", ""))
            user = reader(request)
            t0 = time.perf_counter()
            viewer, report, footer = tag(show(user, key), data.get("req"))
            logger.info("opened %s in %.0f ms", key[:12], (time.perf_counter() - t0) * 1000)
            rows = worklist_value(user, str(data.get("mode") or ALL_CASES), key)
        except Exception:  # open_case runs next and shows the user the error
            logger.debug("fast path for %s failed", str(data)[:40], exc_info=True)
            return None
        opened_at[(user, key)] = time.monotonic()
        precompute_next(rows, key)
        return {"viewer": viewer, "report": report, "footer": footer, "worklist": rows}

    def precompute_next(rows: dict[str, Any], key: str) -> None:
        """Readers go down the list: compute the next case while this one is read."""
        cases = rows.get("cases") or []
        keys = [c.get("key") or c.get("sha256") for c in cases]
        i = keys.index(key) if key in keys else len(keys)
        if i + 1 < len(cases):
            service.precompute(str(cases[i + 1].get("sha256")))

    def open_case(mode: str, evt: gr.EventData, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        key = str(_event(evt).get("case", ""))
        user = reader(request)
        t0 = time.perf_counter()
        try:
            viewer, report, footer = show(user, key, progress=lambda f, d: progress(f, desc=d))
        except (KeyError, ValueError, GazeScopeError) as err:
            logger.warning("could not open %s: %s", key[:12], err)
            gr.Warning(str(err))
            return gr.skip(), gr.skip(), gr.skip(), worklist_value(user, mode)
        except Exception as err:  # a bug, not bad input: keep the session, keep the traceback
            logger.exception("opening %s failed", key[:12])
            gr.Warning(f"Could not open this case ({type(err).__name__}: {err}); the error is logged.")
            return gr.skip(), gr.skip(), gr.skip(), worklist_value(user, mode)
        opened_at[(user, key)] = time.monotonic()
        rows = worklist_value(user, mode, key)
        logger.info("opened %s in %.0f ms", key[:12], (time.perf_counter() - t0) * 1000)
        precompute_next(rows, key)
        viewer, report = tag((viewer, report), _event(evt).get("req"))
        return viewer, report, footer, rows

    def on_review(mode: str, evt: gr.EventData, request: gr.Request):
        data = _event(evt)
        user = reader(request)
        key = str(data.get("key") or data.get("case"))
        error = None
        try:
            if user == GUEST:
                raise GazeScopeError("sign in to review")
            aid = assignment_id(key)
            if aid is not None:
                opened, _ = service.open_assignment(user, aid)
            else:
                opened = service.open_case(key)
            service.review(user, opened, data)
        except GazeScopeError as err:
            error = f"Not saved: {err}"
        _, report, _ = show(user, key, answered=[str(data.get("client_request_id"))], error=error)
        return report, worklist_value(user, mode, key)

    def on_study_action(mode: str, evt: gr.EventData, request: gr.Request):
        """Complete a study item (or answer a Turing item), then open the reader's next one."""
        data = _event(evt)
        user = reader(request)
        key = str(data.get("key"))
        try:
            aid = assignment_id(key)
            if aid is None:
                raise ValueError(f"not a study item: {key[:16]}")
            if data.get("answer") in ("model", "human"):
                service.answer_turing(user, aid, str(data["answer"]), str(data.get("client_request_id")))
            else:
                t0 = opened_at.get((user, key))
                service.complete(user, aid, str(data.get("client_request_id")),
                                 None if t0 is None else time.monotonic() - t0)
        except (ValueError, GazeScopeError) as err:
            gr.Warning(str(err))
        rows = worklist_value(user, mode, key)
        nxt = next((r["key"] for r in rows["cases"] if r["status"] != "reviewed"), None)
        if nxt is None:
            gr.Info("Study complete: every case is done. Thank you.")
            _, report, _ = show(user, key)
            return gr.skip(), report, gr.skip(), rows
        viewer, report, footer = show(user, nxt)
        opened_at[(user, nxt)] = time.monotonic()
        rows["current"] = nxt
        return viewer, report, footer, rows

    def on_upload(file: Any, mode: str, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        if file is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), None
        path = Path(file if isinstance(file, str) else file.name)
        progress(0.05, desc=f"reading {path.name}")
        try:
            opened = service.add_upload(path, path.name, progress=lambda f, d: progress(f, desc=d))
        except GazeScopeError as err:
            msg = f'<div class="gs-error" role="alert">{html.escape(str(err))}</div>'
            return msg, gr.skip(), gr.skip(), gr.skip(), gr.skip(), None
        user = reader(request)
        ok = f'<div class="gs-ok">{html.escape(opened.entry.name)}: read and added to the worklist.</div>'
        viewer, report, footer = show(user, opened.entry.sha256)
        return ok, worklist_value(user, ALL_CASES, opened.entry.sha256), viewer, report, footer, None

    def on_results(study: str | None, request: gr.Request):
        user = reader(request)
        allowed = organiser_all or service.store.ensure_reader(user).role == "organiser"
        if not allowed:
            return ["Study results are for the organiser role only."] + [None] * N_FIGURES
        if not study:
            return ["Choose a study."] + [None] * N_FIGURES
        figs = list(service.study_figures(study).values())[:N_FIGURES]
        progress_rows = service.store.study_progress(study)
        note = f"{study}: {progress_rows.done} of {progress_rows.total} items done."
        return [note] + figs + [None] * (N_FIGURES - len(figs))

    def on_studies():
        names = [st.name for st in service.store.list_studies()]
        note = ("Choose a study." if names else "No study yet. An organiser creates one with "
                "`gazescope study create` (README: *Running a study*).")
        return gr.update(choices=names), note

    with gr.Blocks(title="GazeScope") as demo:
        with gr.Sidebar(label="Worklist", open=True, width=300, elem_id="gs-sidebar"):
            mode = gr.Dropdown(
                [ALL_CASES], value=ALL_CASES, label="Worklist", show_label=False, container=False,
                elem_id="gs-mode",
            )
            worklist = _component("worklist", {"cases": []}, elem_id="gs-worklist",
                                  server_functions=[show_case])
            upload = gr.File(
                label="Upload a radiograph (DICOM, PNG, JPEG)",
                file_types=[".dcm", ".dicom", ".png", ".jpg", ".jpeg", ".tif", ".tiff"],
                file_count="single",
                type="filepath",
                height=110,
                elem_id="gs-upload",
            )
            upload_status = gr.HTML("", elem_id="gs-upload-status")
            with gr.Accordion("Keyboard shortcuts", open=False, elem_id="gs-shortcuts"):
                gr.HTML(shortcuts_html())
            if login_button:
                gr.LoginButton()
        gr.HTML(
            '<div class="gs-bar"><span class="gs-logo">GazeScope</span>'
            '<span class="gs-tag">chest X-ray reading with expert-gaze aids</span>'
            '<span class="gs-warn">research prototype &middot; not for clinical use</span></div>',
            elem_id="gs-header",
        )
        with gr.Tabs(elem_id="gs-tabs"):
            with gr.Tab("Reading room", elem_id="gs-tab-read"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=7, min_width=480):
                        viewer = _component("viewer", None, elem_id="gs-viewer")
                    with gr.Column(scale=4, min_width=340):
                        report = _component("report", None, elem_id="gs-report")
            with gr.Tab("Study results", elem_id="gs-tab-results") as results_tab:
                with gr.Row():
                    study_pick = gr.Dropdown([], label="Study", scale=3, elem_id="gs-study-pick")
                    refresh = gr.Button("Show results", scale=1)
                results_note = gr.Markdown()
                plots = [gr.Plot(show_label=False) for _ in range(N_FIGURES)]
        footer = _component("footer", footer_html([]), elem_id="gs-footer")

        demo.load(on_load, outputs=[worklist, mode], show_progress="hidden")
        mode.change(on_mode, inputs=[mode], outputs=[worklist, viewer, report], show_progress="hidden")
        worklist.open_case(  # type: ignore[attr-defined]
            open_case, inputs=[mode], outputs=[viewer, report, footer, worklist],
            show_progress="minimal", trigger_mode="always_last",
        )
        report.review(  # type: ignore[attr-defined]
            on_review, inputs=[mode], outputs=[report, worklist], show_progress="hidden", queue=False
        )
        for name in ("complete", "turing"):
            getattr(report, name)(
                on_study_action, inputs=[mode], outputs=[viewer, report, footer, worklist],
                show_progress="minimal",
            )
        upload.upload(
            on_upload,
            inputs=[upload, mode],
            outputs=[upload_status, worklist, viewer, report, footer, upload],
            show_progress="full",
        )
        results_tab.select(on_studies, outputs=[study_pick, results_note], show_progress="hidden")
        refresh.click(on_results, inputs=[study_pick], outputs=[results_note, *plots])
    return demo


def launch(
    demo: gr.Blocks,
    *,
    cache_dir: Path,
    port: int | None = None,
    host: str = "127.0.0.1",
    auth: Callable[[str, str], bool] | list[tuple[str, str]] | None = None,
    block: bool = True,
) -> Any:
    """Launch with the settings the viewer needs (GRADIO_NOTES): static cache, no run history."""
    gr.set_static_paths([str(cache_dir / "images")])
    return demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        run_history=False,
        prevent_thread_lock=not block,
        show_error=True,
        theme=gr.themes.Base(primary_hue="blue", neutral_hue="slate"),
        css=PAGE_CSS,
        js=FORCE_DARK,
        footer_links=[],
        quiet=not block,
    )
