"""What both web apps (kiosk and central) do the same way for safety: where a `next` link may lead, the
security headers every answer carries, and the error message shown for each HTTP error code."""

from urllib.parse import unquote, urlsplit

from flask import request
from flask_babel import gettext

#: The one content security policy: nothing from outside, no inline script or style.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")

LONGEST_NEXT = 2000


def safe_next(target, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback`.

    Accepts only text that every browser resolves to a path of the same site:
    it must start with one '/', and is refused if it holds a control character
    (tab, CR, LF: browsers drop them, so "/\\t/evil" becomes "//evil"), a
    backslash (browsers read it as '/'), a scheme or a host, or a '//' or dot
    segment once percent-escapes are decoded (so "/%2F/evil" is refused too).
    `target` may be None or anything a query string gives; never raises.
    """
    if not isinstance(target, str) or not target or len(target) > LONGEST_NEXT:
        return fallback
    decoded = target
    for _ in range(3):  # escapes of escapes: "%252F" -> "%2F" -> "/"
        decoded = unquote(decoded)
    for text in (target, decoded):
        if not text.isprintable() or "\\" in text or not text.startswith("/") or text.startswith("//"):
            return fallback
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return fallback
        if any(segment in (".", "..") for segment in parts.path.split("/")):
            return fallback
    return target


def add_security_headers(response, https: bool = False):
    """Set the headers every answer of either app carries; returns `response`.

    Every answer except a static file gets ``Cache-Control: no-store``: pages and
    exports may hold personal data (phone numbers, comments, dossier codes), and a
    shared or back-button cache must not keep them. ``https`` adds HSTS.
    """
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if https:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
        headers.pop("ETag", None)
        headers.pop("Last-Modified", None)
    return response


GENERIC_MESSAGES = {
    400: lambda: gettext("The request was not valid. Nothing was saved."),
    403: lambda: gettext("You may not open this page."),
    404: lambda: gettext("This page does not exist."),
    405: lambda: gettext("This action is not allowed here."),
    413: lambda: gettext("What was sent is too large. Nothing was saved."),
    429: lambda: gettext("Too many attempts. Please wait a few minutes and try again."),
    500: lambda: gettext("Something went wrong on our side. Nothing you sent was lost; please try again."),
}


def error_message(error) -> str:
    """The message for an HTTP error in the page's language.

    Our own ``abort(code, description=gettext(...))`` carries a translated
    description and is shown as it is; werkzeug's built-in English texts are
    replaced by ours, so a Vietnamese page never shows English.
    """
    custom = error.description and error.description != type(error).description
    if custom:
        return error.description
    return GENERIC_MESSAGES.get(error.code, lambda: gettext("Something went wrong."))()


def csrf_message() -> str:
    """What a form says when its token is missing, invalid or expired (the typed text is kept)."""
    return gettext("This form had expired, so nothing was saved yet. Your text is kept below: "
                   "please check it and send it again.")
