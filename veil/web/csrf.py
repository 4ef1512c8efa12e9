"""Cross-site request forgery: every form a page posts carries a token only this site makes.

A signed double submit: a random nonce in a cookie (`veil_csrf`, HttpOnly, SameSite=Strict)
and, in each form, an HMAC of that nonce and the session cookie under a key derived from
the installation's keys. Another site can neither read the nonce nor compute the HMAC, and
binding the session means a nonce planted in a victim's browser is worth nothing once they
sign in. A POST without a matching token is refused with 403 before its handler runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from starlette.datastructures import FormData
from starlette.requests import Request

COOKIE = "veil_csrf"
FIELD = "csrf_token"
LABEL = b"veil-web-csrf"


class Csrf:
    def __init__(self, master: Callable[[], bytes]) -> None:
        """`master`: the installation key the CSRF key is derived from, read when first needed
        (an uninitialised home can still build its pages)."""
        self._master = master
        self._key: bytes | None = None

    def _mac(self, nonce: str, session: str) -> str:
        if self._key is None:
            self._key = hmac.new(self._master(), LABEL, hashlib.sha256).digest()
        session_digest = hashlib.sha256(session.encode()).hexdigest()
        message = f"{nonce}|{session_digest}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(32)

    def token(self, nonce: str, session: str) -> str:
        """The token the page's forms carry, for this browser's nonce and session."""
        return self._mac(nonce, session)

    def accepts(self, request: Request, form: FormData, session: str) -> bool:
        """Whether a state-changing request came from one of this site's own forms."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            return False
        nonce = request.cookies.get(COOKIE, "")
        given = form.get(FIELD)
        if not nonce or not isinstance(given, str):
            return False
        return hmac.compare_digest(given.encode(), self._mac(nonce, session).encode())
