"""The FastAPI application: health, the OpenAPI page, and the public offence catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from veil import __version__, web
from veil.api import admin, audit, certificates, disclosures, problems
from veil.api.limits import BodyLimit
from veil.home import Home
from veil.records.catalogue import load_catalogue
from veil.store.database import current_revision
from veil.web import verify


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    schema_revision: str | None = Field(examples=["0001"])
    version: str = Field(examples=[__version__])


class OffenceOut(BaseModel):
    code: str = Field(examples=["PSAPL-43-BEAT"])
    kind: str = Field(examples=["admin_violation"])
    name_zh: str = Field(examples=["殴打他人、故意伤害"])
    name_en: str = Field(examples=["Beating another person or intentional injury"])
    statute: str = Field(examples=["psapl-2012"])
    article: str = Field(examples=["43"])
    categories: list[str] = Field(examples=[["violence"]])


class VeilApp(FastAPI):
    """FastAPI, with POST /api/v1/disclosures handed to `disclosures` (a plain ASGI app)
    before FastAPI's middleware and routing see it (veil/api/disclosures.py says why)."""

    disclosures: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.disclosures is not None
            and scope["type"] == "http"
            and scope["path"] == disclosures.PATH
            and scope["method"] == "POST"
        ):
            await self.disclosures(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(home: Home | None = None) -> VeilApp:
    home = home or Home()
    _ = home.pdp  # parse and validate the Cedar policies now: a bad policy stops start-up
    app = VeilApp(
        title="Veil",
        version=__version__,
        description=(
            "Veil keeps public-security records sealed and discloses them only to the parties "
            "the law names, for the purpose it names, with a tamper-evident audit of every look."
        ),
    )

    @app.get("/healthz", response_model=Health, tags=["operations"])
    def healthz() -> dict[str, Any]:
        """Liveness and schema: 200 when the database answers."""
        with home.engine.connect() as conn:
            revision = current_revision(conn)
        return {"status": "ok", "schema_revision": revision, "version": __version__}

    @app.get("/api/v1/offences", response_model=list[OffenceOut], tags=["catalogue"])
    def offences() -> list[dict[str, Any]]:
        """The offence catalogue: code, names (zh, en), statute, article, categories."""
        return [o.as_dict() for o in load_catalogue().offences.values()]

    problems.install(app)
    app.include_router(disclosures.router(home))
    app.include_router(admin.router(home))
    app.include_router(audit.router(home))
    app.include_router(certificates.router(home))
    app.include_router(web.router(home))
    limits = {
        "/api/v1/ingest": admin.INGEST_LIMIT,
        "/bureau/ingest": admin.INGEST_LIMIT,  # the bureau's upload page: the same files
        "/certificates/verify": verify.UPLOAD_LIMIT,  # a certificate's PDF, uploaded
    }
    app.add_middleware(BodyLimit, limits=limits)
    # The same limit and request id as every other route (the default limit: JSON).
    app.disclosures = BodyLimit(disclosures.DisclosureEndpoint(home), limits={})
    return app


def server_app() -> VeilApp:
    """The app `veil serve` runs in each server process (uvicorn factory); its ledger is
    the writer process `veil serve` started (VEIL_LEDGER_SOCKET, veil.ledger.service)."""
    home = Home()
    home.check_ready()
    return create_app(home)
