"""GazeScope's Gradio reading app: a thin layer over ``core`` (no model or database logic here).

- ``app.main``: assemble store + case library + pipeline into the app (``gazescope serve``).
- ``app.service``: the glue between the UI, ``core.pipeline`` and ``core.store``.
- ``app.cases``: the worklist's cases (bundled examples, phantoms, uploads), keyed by SHA-256.
- ``app.payload``: what the browser receives (16-bit PNG of the stored values, maps, geometry).
- ``app.ui``: the layout and the event handlers; ``app/static``: the viewer's, report panel's and
  worklist's HTML, CSS and JavaScript.
- ``app.space``: the Hugging Face Space folder (``gazescope space``); ``app.bench``: the browser
  benchmark (``python -m app.bench``).
"""
