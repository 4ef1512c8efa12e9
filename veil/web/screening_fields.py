"""What the screening and case-handling forms check before anything is asked of the door,
and how a page asks it: a refusal and an unwritable ledger each get their own page.

The checks are the API's (`veil/disclosure/request.py`): the same ID number pattern and the
same longest text. They only spare a person a request the policies would refuse anyway;
the decision is still the door's, so a crafted form that skips them is refused there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from veil.disclosure.door import Requester
from veil.disclosure.request import ID_PATTERN, TEXT
from veil.web.language import N_
from veil.web.site import Site

ID_NUMBER = re.compile(ID_PATTERN)
MALFORMED_ID = N_(
    "An ID number is 6 to 64 letters, digits or hyphens, as on the identity card, without spaces."
)
TOO_LONG = N_("This is too long: at most %(limit)s characters.")

T = TypeVar("T")


def form_values(**given: str) -> dict[str, str]:
    """The form's fields, without the spaces around them."""
    return {name: value.strip() for name, value in given.items()}


def form_errors(
    values: Mapping[str, str], missing: Mapping[str, str], limits: Mapping[str, int] | None = None
) -> dict[str, str]:
    """Each field's error (a msgid), if any: `missing` gives each required field's message
    when it is empty; a field longer than its limit (TEXT unless `limits` says) is too long;
    the ID number must match the API's pattern."""
    errors: dict[str, str] = {}
    for name, message in missing.items():
        value = values.get(name, "")
        if not value:
            errors[name] = message
        elif len(value) > (limits or {}).get(name, TEXT):
            errors[name] = TOO_LONG
    if "id_number" not in errors and not ID_NUMBER.fullmatch(values.get("id_number", "")):
        errors["id_number"] = MALFORMED_ID
    return errors


def in_group(site: Site, who: Requester, group: str) -> bool:
    """Whether the signed-in requester's organisation is of the disclosure group `group`."""
    return site.role(who).key == group
