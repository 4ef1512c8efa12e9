"""GET/POST /bureau/ingest: upload a records file and read the report, rejected rows one by
one; GET /bureau/ingest/{key}/rejections.csv: every rejected row, as a CSV file.

The upload is a multipart form, at most the API's INGEST_LIMIT (the app's body limit counts
it as it arrives, on this path as on the API's). The form parser spools the file to disk;
it is copied into a private temporary folder under a name with the file's own suffix (which
chooses the reader) and ingested by `home.ingest_file`, the API's path: one atomic batch,
then its ledger entry. A file that cannot be read as records stores nothing and is refused
beside the field.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from veil.api.admin import INGEST_LIMIT
from veil.disclosure.administration import acting
from veil.disclosure.door import Requester
from veil.ingest import IngestReport, Rejection
from veil.ledger.log import LedgerUnavailable
from veil.recordfiles import FORMATS, FileFormatError
from veil.web.bureau import refusal, rule_words, stopped
from veil.web.jobs import Recent
from veil.web.language import N_
from veil.web.site import SignedIn, Site

PATH = "/bureau/ingest"
FIELD = "records_file"
SHOWN = 500  # rejected rows in the page's table; the CSV download has them all
NO_FILE = N_("Choose a file to upload.")
WRONG_KIND = N_("Choose a .csv, .jsonl or .parquet file: Veil reads records from these only.")
UNREADABLE = N_("This file cannot be read as records, so nothing was stored.")
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Kept:
    """An ingest's rejections, kept for their download by the organisation that uploaded."""

    org_id: str | None
    rejections: list[Rejection]


def file_name(given: str) -> str:
    """The uploaded file's own name, as the batch and the ledger record it: no folders,
    no control characters, at most 255 characters (the batch's column)."""
    name = PurePosixPath(given.replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return name[-255:]


def rejections_csv(rejections: list[Rejection]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "column", "reason"])
    for r in rejections:
        reason = "'" + r.reason if r.reason.startswith(FORMULA) else r.reason
        writer.writerow([r.line, r.column, reason])
    return out.getvalue()


def routes(site: Site, pages: APIRouter) -> None:
    kept: Recent[Kept] = Recent()

    def page(
        request: Request,
        *,
        status: int = 200,
        error: str = "",
        detail: str = "",
        report: IngestReport | None = None,
        name: str = "",
        key: str = "",
    ) -> Response:
        context: dict[str, Any] = {
            "error": error,
            "detail": detail,
            "report": report,
            "name": name,
            "key": key,
            "shown": report.rejections[:SHOWN] if report else [],
            "limit_mib": INGEST_LIMIT // (1024 * 1024),
            **rule_words(site),
        }
        return site.render(request, "bureau_ingest.html", status=status, **context)

    @pages.get(PATH)
    def ingest_form(request: Request, who: SignedIn) -> Response:
        return refusal(site, request, who, "ingest") or page(request)

    @pages.post(PATH)
    async def ingest_upload(request: Request, who: SignedIn) -> Response:
        form = await request.form()
        try:
            stop = await run_in_threadpool(refusal, site, request, who, "ingest")
            if stop is not None:
                return stop
            upload = form.get(FIELD)
            if not isinstance(upload, UploadFile) or not upload.filename:
                return page(request, status=422, error=NO_FILE)
            name = file_name(upload.filename)
            suffix = PurePosixPath(name).suffix.lower()
            if suffix not in FORMATS:
                return page(request, status=422, error=WRONG_KIND, name=name)
            return await run_in_threadpool(ingest, request, who, upload, name, suffix)
        finally:
            await form.close()  # the parser's spooled copy of the upload

    def ingest(
        request: Request, who: Requester, upload: UploadFile, name: str, suffix: str
    ) -> Response:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload{suffix}"
            with path.open("wb") as handle:
                shutil.copyfileobj(upload.file, handle)
            try:
                report = site.home.ingest_file(path, acting(who), file_name=name)
            except FileFormatError as exc:
                detail = str(exc).removeprefix(f"{path.name}: ")
                return page(request, status=422, error=UNREADABLE, detail=detail, name=name)
            except LedgerUnavailable:
                return stopped(
                    site,
                    request,
                    503,
                    N_("The audit ledger is unavailable"),
                    N_(
                        "The records were stored, but the audit ledger could not record the "
                        "upload. Tell whoever runs this server."
                    ),
                )
        key = kept.add(Kept(who.org_id, report.rejections)) if report.rejections else ""
        return page(request, report=report, name=name, key=key)

    @pages.get(PATH + "/{key}/rejections.csv")
    def rejections(request: Request, who: SignedIn, key: str) -> Response:
        stop = refusal(site, request, who, "ingest")
        if stop is not None:
            return stop
        found = kept.get(key)
        if found is None or found.org_id != who.org_id:
            return stopped(
                site,
                request,
                404,
                N_("This report is no longer kept"),
                N_(
                    "The server keeps the rejection reports of the last few uploads only. "
                    "Uploading the same file again gives its report again and stores nothing "
                    "twice."
                ),
            )
        return Response(
            rejections_csv(found.rejections),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="rejections.csv"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
