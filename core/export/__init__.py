"""Static exports of reading results: a browsable HTML page (``gazescope demo``).

The interactive app is :mod:`app`; these exports need nothing but a browser.
"""

from core.export.html import page, reads_section, result_section

__all__ = ["page", "reads_section", "result_section"]
