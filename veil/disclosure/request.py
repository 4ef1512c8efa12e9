"""The body of a disclosure request, as HTTP and `veil disclose` accept it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

TEXT = 256  # the longest case number, legal basis, consent reference or post accepted

ID_PATTERN = r"^[0-9A-Za-z-]{6,64}$"


class Subject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(
        pattern=ID_PATTERN,
        description="The subject's resident ID number (or, lacking one, the alternative ID).",
        examples=["11010519491231002X"],
    )


class DisclosureBody(BaseModel):
    """A disclosure request. Which fields a purpose requires: GET /api/v1/purposes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"id_number": "11010519491231002X"},
                    "purpose": "case_handling",
                    "case_number": "京公刑立字〔2026〕1234号",
                    "legal_basis": "Criminal Procedure Law art. 286",
                },
                {
                    "subject": {"id_number": "11010519491231002X"},
                    "purpose": "statutory_screening",
                    "regulation": "cn-minors-protection-62",
                    "consent_ref": "CONSENT-2026-0001",
                    "post": "primary school teacher",
                },
                {"subject": {"id_number": "11010519491231002X"}, "purpose": "self_inquiry"},
            ]
        },
    )
    subject: Subject = Field(examples=[{"id_number": "11010519491231002X"}])
    purpose: str = Field(
        max_length=64,
        description="case_handling, statutory_screening or self_inquiry; anything else is refused.",
        examples=["statutory_screening"],
    )
    case_number: str = Field("", max_length=TEXT, examples=["京公刑立字〔2026〕1234号"])
    legal_basis: str = Field("", max_length=TEXT, examples=["Criminal Procedure Law art. 286"])
    regulation: str = Field("", max_length=TEXT, examples=["cn-minors-protection-62"])
    consent_ref: str = Field("", max_length=TEXT, examples=["CONSENT-2026-0001"])
    post: str = Field("", max_length=TEXT, examples=["primary school teacher"])
