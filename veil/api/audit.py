"""GET /api/v1/audit/...: the public, read-only face of the audit ledger (SPEC section 6).

Anyone may fetch the signed checkpoint, the verifier key and proofs: they hold hashes, not
entries, so they say nothing about who was looked up.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from veil.home import Home
from veil.ledger.checkpoint import LEDGER_ORIGIN
from veil.ledger.proofs import ConsistencyProof, InclusionProof
from veil.ledger.reader import LedgerDamaged, LedgerReader

ROOT = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
NOTE = (
    "veil.local/audit\n20\nujqpikuKU6QLkniCKWoFqSwbKSOXn1Od3ZlmK2qqEhk=\n\n"
    "— veil.local/audit kOVTVU/Aiy6orFHScMwpMF6wiLEfzZYUAb+Wr6RZsZzXZ9gYoerkhvJ7YGEok3jZH9TC0PwM"
    "96F3dVorQe3D7pDTkgA=\n"
)
PATH = [
    "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
    "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
]
KEY = "veil.local/audit+90e55355+AaeDkkZr5VUykYER0TGS/TB/IvWwQiiPCfR8T+uwnHEg"


class InclusionProofOut(BaseModel):
    leafIdx: int = Field(examples=[0], description="The entry's log index.")
    treeSize: int = Field(examples=[8], description="The size of the tree proved against.")
    root: str = Field(examples=[ROOT], description="base64 of that tree's root.")
    leafHash: str = Field(
        examples=["bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="],
        description="base64 of SHA-256(0x00 ‖ entry).",
    )
    proof: list[str] = Field(examples=[PATH], description="base64 hashes, leaf to root.")


class ConsistencyProofOut(BaseModel):
    size1: int = Field(examples=[1], description="The earlier tree size.")
    size2: int = Field(examples=[8], description="The later tree size.")
    root1: str = Field(
        examples=["bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="],
        description="base64 of the earlier root.",
    )
    root2: str = Field(examples=[ROOT], description="base64 of the later root.")
    proof: list[str] = Field(examples=[PATH], description="base64 hashes (RFC 6962 2.1.2).")


class AuditKeyOut(BaseModel):
    origin: str = Field(examples=["veil.local/audit"], description="The checkpoints' origin.")
    verifier_key: str = Field(
        examples=[KEY], description="name+hex(key id)+base64(0x01 ‖ Ed25519 public key)."
    )
    public_key: str = Field(
        examples=["p4OSRmvlVTKRgRHRMZL9MH8i9bBCKI8J9HxP67CccSA="],
        description="base64 of the 32-byte Ed25519 public key.",
    )


def _answer(make: Callable[[], InclusionProof | ConsistencyProof]) -> dict[str, Any]:
    """The proof as JSON; 400 for sizes the log does not have, 500 for a damaged log."""
    try:
        return make().as_json()
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    except LedgerDamaged as exc:
        raise HTTPException(500, str(exc)) from None


def router(source: Home | LedgerReader) -> APIRouter:
    """The audit routes over `source`'s ledger; a Home's is opened on the first request."""
    api = APIRouter(prefix="/api/v1/audit", tags=["audit"])

    @cache
    def ledger() -> LedgerReader:
        if isinstance(source, LedgerReader):
            return source
        return LedgerReader(source.engine, source.keys, LEDGER_ORIGIN)

    @api.get(
        "/checkpoint",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"example": NOTE}}}},
    )
    def checkpoint() -> PlainTextResponse:
        """The latest signed checkpoint: a C2SP signed note (origin, size, base64 root)."""
        return PlainTextResponse(ledger().checkpoint().note)

    @api.get("/proof", response_model=InclusionProofOut)
    def proof(
        index: Annotated[int, Query(ge=0, description="The entry's log index.")],
        size: Annotated[
            int | None, Query(ge=0, description="Tree size (default: the latest checkpoint's).")
        ] = None,
    ) -> dict[str, Any]:
        """Inclusion proof of one entry (RFC 6962 2.1.1), in the shape of the RFC 6962
        test vectors: check it with `veil audit check-inclusion` or any RFC 6962 tool."""
        return _answer(lambda: ledger().inclusion_proof(index, size))

    @api.get("/consistency", response_model=ConsistencyProofOut)
    def consistency(
        first: Annotated[int, Query(alias="from", ge=1, description="The earlier tree size.")],
        second: Annotated[
            int | None,
            Query(alias="to", ge=1, description="The later size (default: the latest one)."),
        ] = None,
    ) -> dict[str, Any]:
        """Consistency proof between two tree sizes (RFC 6962 2.1.2): the later tree
        extends the earlier one. Check it with `veil audit check-consistency`."""
        return _answer(lambda: ledger().consistency_proof(first, second))

    @api.get("/key", response_model=AuditKeyOut)
    def key() -> dict[str, str]:
        """The key checkpoints are signed with, as a signed-note verifier key."""
        verifier = ledger().verifier
        return {
            "origin": ledger().origin,
            "verifier_key": str(verifier),
            "public_key": base64.b64encode(verifier.public_key).decode(),
        }

    return api
