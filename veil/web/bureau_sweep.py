"""GET/POST /bureau/sweep: start a sealing sweep as of a day (today by default);
GET /bureau/sweep/{job}: its live progress, then what it changed, rule by rule.

The POST starts `home.sweep` (the CLI's path: sweep, commit, ledger entry) in a background
thread (veil.web.jobs: one at a time; a second start shows the running one) and sends the
browser to the job's page, which reloads itself every second while the sweep runs. No
script: a `<meta http-equiv="refresh">`, which the reader can switch off.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from veil.disclosure.administration import acting
from veil.web.bureau import refusal, rule_words, stopped
from veil.web.jobs import SweepJobs
from veil.web.language import N_
from veil.web.site import SignedIn, Site

PATH = "/bureau/sweep"
BAD_DATE = N_("Enter the date as year-month-day, for example 2026-11-24.")
FUTURE = N_("A sweep cannot be run as of a day after today.")


def routes(site: Site, pages: APIRouter) -> None:
    # Resolved at each start, so the sweep is always the home's own.
    jobs = SweepJobs(lambda as_of, by, progress: site.home.sweep(as_of, by, progress=progress))

    def form(request: Request, as_of: str, error: str = "", status: int = 200) -> Response:
        return site.render(request, "bureau_sweep.html", status=status, as_of=as_of, error=error)

    @pages.get(PATH)
    def sweep_form(request: Request, who: SignedIn) -> Response:
        stop = refusal(site, request, who, "sweep")
        return stop or form(request, dt.date.today().isoformat())

    @pages.post(PATH)
    def sweep_start(
        request: Request, who: SignedIn, as_of: Annotated[str, Form(max_length=32)] = ""
    ) -> Response:
        stop = refusal(site, request, who, "sweep")
        if stop is not None:
            return stop
        try:
            day = dt.date.fromisoformat(as_of.strip())
        except ValueError:
            return form(request, as_of, BAD_DATE, 422)
        if day > dt.date.today():
            return form(request, as_of, FUTURE, 422)
        job_id, started = jobs.start(day, acting(who))
        target = f"{PATH}/{job_id}" + ("" if started else "?already=1")
        return RedirectResponse(target, status_code=303)

    @pages.get(PATH + "/{job_id}")
    def sweep_job(
        request: Request,
        who: SignedIn,
        job_id: str,
        already: Annotated[str, Query(max_length=8)] = "",
        refresh: Annotated[str, Query(max_length=8)] = "on",
    ) -> Response:
        stop = refusal(site, request, who, "sweep")
        if stop is not None:
            return stop
        job = jobs.get(job_id)
        if job is None:
            return stopped(
                site,
                request,
                404,
                N_("No such sweep"),
                N_(
                    "This server does not know this sweep: it keeps the last few sweeps it "
                    "ran, and forgets them when it restarts. A finished sweep is in the seal "
                    "history and the audit ledger all the same."
                ),
            )
        return site.render(
            request,
            "bureau_sweep_job.html",
            job=job,
            job_path=f"{PATH}/{job_id}",
            already=already == "1",
            refresh=job.running and refresh != "off",
            **rule_words(site),
        )
