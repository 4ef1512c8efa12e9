"""Who is signed in: the credential in the session cookie, and the cookies' attributes.

The cookie holds the credential itself (an organisation token or an identity credential),
HttpOnly and SameSite=Strict, Secure over https; signing out deletes it. Each request asks
the authenticator afresh, so a token revoked a moment ago signs its holder out at once.
"""

from __future__ import annotations

from typing import Literal, TypeGuard

from starlette.requests import Request
from starlette.responses import Response

from veil.disclosure.door import Requester

COOKIE = "veil_session"
# Longer than any token or identity credential Veil issues; anything longer proves nobody.
MAX_CREDENTIAL = 512


def credential(request: Request) -> str:
    """The session cookie's credential, or "" when there is none."""
    return request.cookies.get(COOKIE, "")


def is_live(who: Requester | None) -> TypeGuard[Requester]:
    """A requester a page may treat as signed in: known, and not of a revoked organisation."""
    return who is not None and not (who.entity.attrs or {}).get("revoked", False)


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    same_site: Literal["lax", "strict"] = "strict",
    max_age: int | None = None,
) -> None:
    """A cookie only the server reads, Secure when the page came over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite=same_site,
    )


def sign_in(response: Response, request: Request, value: str) -> None:
    set_cookie(response, request, COOKIE, value)


def sign_out(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
