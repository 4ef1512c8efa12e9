"""Anyone may check a certificate: by code over the API or on a page, and fetch the key."""

from __future__ import annotations

import base64
import html
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from veil.api.problems import PROBLEM_RESPONSES, respond
from veil.certificates.document import public_key_of
from veil.certificates.issue import check_code
from veil.disclosure import outcome
from veil.home import Home
from veil.ledger.log import LedgerUnavailable


class PublicKey(BaseModel):
    algorithm: str = Field(examples=["Ed25519"])
    public_key: str = Field(examples=["kQ3cV0V1…base64…="], description="Raw key, base64.")


class Check(BaseModel):
    genuine: bool = Field(examples=[True])
    issued_on: str | None = Field(None, examples=["2026-11-24"])
    valid_until: str | None = Field(None, examples=["2027-02-22"])
    expired: bool | None = Field(None, examples=[False])


PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>证明核验 Certificate check</title></head>
<body><h1>证明核验 · Certificate check</h1>
<form method="get" action="/certificates/verify">
<label for="code">验证码 Verification code</label>
<input id="code" name="code" value="{code}" maxlength="19" required>
<button type="submit">核验 Check</button></form>
{result}
<p>离线核验 Offline: <code>veil certificate verify FILE --key {key}</code></p>
</body></html>"""


def router(home: Home) -> APIRouter:
    api = APIRouter(tags=["certificates"])

    def key() -> str:
        return base64.b64encode(public_key_of(home.keys.certificate_signing_key())).decode()

    @api.get("/api/v1/certificates/key", response_model=PublicKey)
    def public_key() -> dict[str, str]:
        """The Ed25519 key every certificate is signed with: verify offline with it."""
        return {"algorithm": "Ed25519", "public_key": key()}

    @api.get("/api/v1/certificates/{code}", response_model=Check, responses=PROBLEM_RESPONSES)
    def check(code: str) -> Any:
        """Genuine, issued on D, valid until V; or not genuine. Nothing else."""
        try:
            return check_code(home, code)
        except LedgerUnavailable:
            return respond(outcome.ledger_unavailable())

    @api.get("/certificates/verify", response_class=HTMLResponse)
    def page(code: str = Query("", max_length=64)) -> Response:
        """The public page: the same answer as the API, without JavaScript."""
        result = ""
        if code:
            try:
                found = check_code(home, code)
            except LedgerUnavailable:
                return HTMLResponse("<p>暂不可用 Unavailable</p>", status_code=503)
            if found["genuine"]:
                result = (
                    f"<p><strong>真实 Genuine</strong>：出具于 issued on {found['issued_on']}，"
                    f"有效期至 valid until {found['valid_until']}"
                    f"{'（已过期 expired）' if found['expired'] else ''}，"
                    "为其上所载之人 for the person named on it.</p>"
                )
            else:
                result = "<p><strong>不是真实证明 Not genuine</strong></p>"
        return HTMLResponse(PAGE.format(code=html.escape(code), result=result, key=key()))

    return api
