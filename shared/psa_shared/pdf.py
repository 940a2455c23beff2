"""HTML to PDF, the one way PSA Core prints a document: activity reports now, invoices next.

WeasyPrint lays the HTML and its CSS out for print (`@page` rules apply). It needs Pango
(>= 1.44) and fontconfig from the operating system; Debian's `libpango-1.0-0` and
`libpangoft2-1.0-0` are enough, plus any font (DejaVu is the usual one).
"""

from __future__ import annotations

import ctypes
import gc
import threading
from urllib.parse import urlsplit

from .errors import Unavailable

# One document at a time in a process. WeasyPrint lays out in Python, holding the GIL, so a second
# render beside the first is no sooner done; it only adds its memory (a 500-row activity report:
# +91 MB), and eight threads printing at once held eight. The others wait their turn, up to
# PRINT_WAIT_SECONDS, then hear 503 with Retry-After.
_PRINTER = threading.Lock()
PRINT_WAIT_SECONDS = 15.0
_LIBC = ctypes.CDLL(None)  # the process's own symbols, the C library's among them (no `ldconfig` run at import)


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render a whole HTML document, with its CSS, to a PDF file.

    The document loads nothing from the network: only `data:` URLs are fetched, plus, when
    `base_url` is given, URLs of its scheme (so `base_url="file:///.../static/"` lets an invoice
    template show `<img src="logo.png">`). A resource that may not be fetched is left out and the
    rest still prints, as a browser does under a Content-Security-Policy.

    A process renders one document at a time; a call that waits longer than
    PRINT_WAIT_SECONDS for its turn raises `Unavailable` (503, `Retry-After: 5`). Nothing here
    bounds the document itself, so the caller must: time and memory grow with its length (a
    4,000-row activity report: 35 s and +700 MB, measured 2026-11-27). Count what will print and
    refuse past a cap before rendering, as the tickets' reports do
    (`psa_tickets.api.ticket_trail.PDF_MAX_ROWS` and `PDF_MAX_TEXT`: rows, and characters of text).

    Args:
        html: the document; client-supplied text in it must already be escaped (render it with
            an autoescaping Jinja2 environment, as the services' templates do).
        base_url: where relative URLs in the document resolve; None for a self-contained one.

    Returns:
        The PDF's bytes (they start with `%PDF`).
    """
    # Imported on first use: loading Pango takes about half a second, paid otherwise by every
    # process and CLI command that imports a service, though few of them ever print.
    from weasyprint import HTML, URLFetcher

    allowed = {"data"} | ({urlsplit(base_url).scheme or "file"} if base_url else set())
    fetcher = URLFetcher(allowed_protocols=allowed, allow_redirects=False)
    if not _PRINTER.acquire(timeout=PRINT_WAIT_SECONDS):
        raise Unavailable("this worker is printing other PDFs; retry shortly", headers={"Retry-After": "5"})
    try:
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    finally:
        _PRINTER.release()
        _give_memory_back()


def _give_memory_back() -> None:
    """A layout leaves cycles and freed heap that the process would otherwise keep until it ends
    (a 1,000-row report: +178 MB kept, +59 MB after this; measured 2026-11-27)."""
    gc.collect()
    if hasattr(_LIBC, "malloc_trim"):  # glibc only: other C libraries give memory back themselves
        _LIBC.malloc_trim(0)
