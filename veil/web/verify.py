"""GET/POST /certificates/verify: anyone checks a certificate, by its verification code or
by uploading the PDF, and learns only "genuine, issued on D, valid until V, for the person
named on it" or "not genuine".

The code check is `GET /api/v1/certificates/{code}`'s (`check_code`); the file check is
the offline verification with the installation's published key (`check_file`). Each check,
either way, is a ledger entry (SPEC section 5).
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from veil.certificates.issue import check_code, check_file, public_key
from veil.web.language import N_
from veil.web.outcomes import through_door
from veil.web.site import Site

UPLOAD_LIMIT = 10 * 1024 * 1024  # a certificate is a few kilobytes; veil/api/app.py enforces it
CODE = 64  # longer than any code (19 characters); anything longer is not genuine anyway

NO_FILE = N_("Choose the certificate's PDF file.")
TOO_LARGE = N_("This file is larger than 10 MiB: no certificate is that large.")


def routes(site: Site, pages: APIRouter) -> None:
    home = site.home

    def page(
        request: Request,
        *,
        code: str = "",
        found: dict[str, object] | None = None,
        method: str = "",
        errors: dict[str, str] | None = None,
    ) -> Response:
        return site.render(
            request,
            "verify.html",
            status=422 if errors else 200,
            code=code,
            found=found,
            method=method,
            errors=errors or {},
            key=base64.b64encode(public_key(home)).decode(),
        )

    @pages.get("/certificates/verify")
    def by_code(request: Request, code: Annotated[str, Query()] = "") -> Response:
        code = code.strip()[:CODE]
        if not code:
            return page(request)
        return through_door(
            site,
            request,
            lambda: page(request, code=code, found=check_code(home, code), method="code"),
        )

    @pages.post("/certificates/verify")
    def by_file(
        request: Request, certificate: Annotated[UploadFile | None, File()] = None
    ) -> Response:
        data = certificate.file.read(UPLOAD_LIMIT + 1) if certificate is not None else b""
        if not data:
            return page(request, errors={"certificate": NO_FILE})
        if len(data) > UPLOAD_LIMIT:
            return page(request, errors={"certificate": TOO_LARGE})
        return through_door(
            site, request, lambda: page(request, found=check_file(home, data), method="file")
        )
