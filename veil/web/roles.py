"""The roles of SPEC section 1 that sign in or use the public pages, and where each starts.

A role page registers here: give its role a `home` (where signing in lands) and `links`
(what the landing page offers it). Titles and texts are English msgids, translated when a
page renders them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from veil.disclosure.door import Requester
from veil.web.language import N_

SUBJECT = "subject"
PUBLIC = "public"


@dataclass(frozen=True)
class Link:
    path: str
    label: str  # msgid


@dataclass(frozen=True)
class Role:
    key: str  # a disclosure group (org_types.yaml), "subject" or "public"
    title: str  # msgid
    does: str  # msgid: what the role can do, in one or two sentences
    signs_in: Literal["token", "identity"] | None
    home: str = "/"  # where signing in lands
    links: tuple[Link, ...] = ()


RULES = Link("/rules", N_("Sealing rules and regulations"))
VERIFY = Link("/certificates/verify", N_("Verify a certificate"))
API = Link("/docs", N_("HTTP API reference"))
# The procuratorate's only (policy procuratorial-oversight); other organs are refused.
OVERSIGHT = Link("/oversight", N_("Oversight of the access log and the ledger (procuratorates)"))

ROLES = (
    Role(
        "records_bureau",
        N_("Records bureau"),
        N_(
            "Ingests records from case systems, runs sealing sweeps, reads any record's seal "
            "state with its reasons and history, and manages the organisations that may ask."
        ),
        "token",
        home="/bureau",
        links=(
            Link("/bureau/ingest", N_("Upload a records file")),
            Link("/bureau/sweep", N_("Run a sealing sweep")),
            Link("/bureau/records", N_("Look up a record")),
            Link("/bureau/organisations", N_("Organisations and tokens")),
            RULES,
        ),
    ),
    Role(
        "case_handling_organ",
        N_("Case-handling organs"),
        N_(
            "Public security, procuratorates, courts, state security and supervision "
            "commissions read a subject's records, sealed ones marked, for a named case with "
            "its case number."
        ),
        "token",
        home="/case",
        links=(Link("/case", N_("Read a subject's records for a case")), OVERSIGHT, RULES),
    ),
    Role(
        "screening_unit",
        N_("Screening units"),
        N_(
            "Schools, kindergartens, child care and the other units a regulation names ask, "
            "with the applicant's consent, the one question the regulation allows, and see "
            "which staff are due for their yearly re-check."
        ),
        "token",
        home="/screening",
        links=(
            Link("/screening", N_("Check a person")),
            Link("/screening/rechecks", N_("Staff due for their re-check")),
            RULES,
        ),
    ),
    Role(
        "employer",
        N_("Other employers"),
        N_(
            "An ordinary employer has no statutory basis to query records. Ask the applicant "
            "for a certificate and verify it here."
        ),
        "token",
        links=(VERIFY,),
    ),
    Role(
        SUBJECT,
        N_("The person concerned"),
        N_(
            "Sees their own records, whether each is sealed and why, and who has looked at "
            "them; obtains a certificate. Signing in needs the identity check."
        ),
        "identity",
        home="/me",
        links=(
            Link("/me", N_("My records and who looked at them")),
            Link("/me/certificate", N_("My certificate")),
            RULES,
        ),
    ),
    Role(
        PUBLIC,
        N_("Anyone"),
        N_(
            "Checks whether a certificate is genuine, and reads the rules that seal records "
            "and the regulations that allow screening, each with its article."
        ),
        None,
        links=(VERIFY, RULES),
    ),
)
BY_KEY: Mapping[str, Role] = {role.key: role for role in ROLES}


def role_of(who: Requester, groups: Mapping[str, str]) -> Role:
    """The role of a signed-in requester; `groups` maps organisation types to groups."""
    if who.org_type is None:
        return BY_KEY[SUBJECT]
    return BY_KEY.get(groups.get(who.org_type, ""), BY_KEY[PUBLIC])
