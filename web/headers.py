"""Security headers, set once for every answer the app gives.

- `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` on everything;
- a Content-Security-Policy on every HTML page (no script, style or frame from elsewhere, no
  inline script; the pages load their own files from /static);
- `Cache-Control: no-store` on everything but the static files: the answers carry queue data,
  tokens or a session's page, which no cache between the browser and fila should keep;
- `Retry-After` only where it means something: on a 429, the rate limiter's (when its window
  opens again); on any other refusal, the one the refusal gave (a busy route: 1 s), even on a
  rate-limited route, whose limiter adds its window's reset to every answer.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

CSP = ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
       "object-src 'none'")
#: Paths whose answers are the same for everyone and may be cached.
CACHEABLE_PREFIXES = ("/static/",)


def secure(response: Response) -> Response:
    """Add the headers to one answer."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
    if not request.path.startswith(CACHEABLE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if response.status_code != 429:
        wanted = g.pop("retry_after", None)
        if wanted is None:
            headers.pop("Retry-After", None)
        else:
            headers["Retry-After"] = wanted
    return response


def init_app(app: Flask) -> None:
    """Set the headers on every answer of the app (errors included)."""
    app.after_request(secure)
