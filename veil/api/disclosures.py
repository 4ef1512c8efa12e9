"""POST /api/v1/disclosures: the HTTP face of the only door."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from veil.api.problems import PROBLEM_RESPONSES, respond
from veil.disclosure.outcome import handle_async
from veil.disclosure.request import DisclosureBody
from veil.home import Home

ANSWER_EXAMPLES = {
    "case_handling": {
        "summary": "case_handling: every record, sealed ones marked, with the notice",
        "value": {
            "records": [
                {
                    "source": "bj-psb",
                    "record_id": "R-000123",
                    "name": "张三",
                    "id_number": "11010519491231002X",
                    "alt_id": None,
                    "kind": "criminal",
                    "code": "CL-264-THEFT",
                    "name_zh": "盗窃罪",
                    "name_en": "Theft",
                    "offence_date": "2019-03-02",
                    "decision_date": "2019-09-10",
                    "completion_date": "2020-03-10",
                    "disposition": "detention",
                    "detention_days": None,
                    "sentence_months": 6,
                    "fine_yuan": 2000,
                    "seal_state": "sealed",
                    "seal_rule": "cpl-286-seal",
                }
            ],
            "confidentiality_notice": {"zh": "本答复含有依法封存的记录……", "en": "This answer…"},
        },
    },
    "statutory_screening": {
        "summary": "statutory_screening: match or no_match, as of the query",
        "value": {
            "outcome": "no_match",
            "regulation": "cn-minors-protection-62",
            "as_of": "2026-11-24",
            "offences": [],
        },
    },
    "self_inquiry": {
        "summary": "self_inquiry: own records with reasons, and who looked",
        "value": {
            "records": [],
            "access_history": [
                {
                    "time": "2026-11-24T09:30:00+00:00",
                    "organisation": "Haidian No. 1 Primary School",
                    "organisation_type": "school",
                    "purpose": "statutory_screening",
                    "decision": "allow",
                    "case_number": None,
                    "regulation": "cn-minors-protection-62",
                }
            ],
        },
    },
}


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credential = authorization.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else None


def router(home: Home) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["disclosure"])

    @api.post(
        "/disclosures",
        responses={
            200: {
                "content": {"application/json": {"examples": ANSWER_EXAMPLES}},
                "description": "What the purpose allows",
            },
            **PROBLEM_RESPONSES,
        },
    )
    async def disclose(
        body: DisclosureBody,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        """Ask the one door. The audit entry is durable before the answer is sent.

        Refusals are 403 problems whose bytes depend only on the request: a subject whose
        records are all sealed and a subject with none get the same answer. Screening
        answers and refusals are sent no earlier than VEIL_ANSWER_FLOOR_MS (default 5 ms)
        after the request arrived, so that their time does not tell them apart either.
        """
        outcome = await handle_async(home, bearer(authorization), body, request.state.request_id)
        return respond(outcome)

    return api
