"""``gazescope serve``: the reading app in the browser (what ``make run`` starts).

Bundled example cases (real NIH ChestX-ray14 PNGs and a DICOM, plus synthetic phantoms made
once into the cache folder), the shipped models, and a local SQLite store unless ``--db`` or
``GAZESCOPE_DB`` says otherwise. ``--auth FILE`` (``user:password`` lines) asks readers to
sign in; without it everyone is the local reader "reader". Nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the reading app (Gradio) on the bundled example cases")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: all)")
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default: $GAZESCOPE_DB, else ./gazescope.sqlite)")
    p.add_argument("--auth", type=Path, default=None, help="file of user:password lines")
    p.add_argument("--cache", type=Path, default=None, help="image/phantom cache folder (default: $GAZESCOPE_CACHE, else ./gazescope-cache)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.main import create_app, read_auth_file
    from app.ui import launch

    auth = read_auth_file(args.auth) if args.auth else None
    app = create_app(db_url=args.db, cache_dir=args.cache, organiser_all=auth is None)
    print(f"GazeScope reading app on http://{args.host}:{args.port}/  (research prototype, not for clinical use)")
    launch(app.demo, cache_dir=app.cache_dir, port=args.port, host=args.host, auth=auth, block=True)
    return 0
