"""HTML to PDF, the one way PSA Core prints a document: activity reports now, invoices next.

WeasyPrint lays the HTML and its CSS out for print (`@page` rules apply). It needs Pango
(>= 1.44) and fontconfig from the operating system; Debian's `libpango-1.0-0` and
`libpangoft2-1.0-0` are enough, plus any font (DejaVu is the usual one).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render a whole HTML document, with its CSS, to a PDF file.

    The document loads nothing from the network: only `data:` URLs are fetched, plus, when
    `base_url` is given, URLs of its scheme (so `base_url="file:///.../static/"` lets an invoice
    template show `<img src="logo.png">`). A resource that may not be fetched is left out and the
    rest still prints, as a browser does under a Content-Security-Policy.

    Nothing here bounds the document, so the caller must: time and memory grow with its length
    and the process keeps most of the memory afterwards (a 4,000-row activity report: 35 s and
    +700 MB, measured 2026-11-27). Count what will print and refuse past a cap before rendering,
    as the tickets' reports do (`psa_tickets.api.ticket_trail.PDF_MAX_ROWS`).

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
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
