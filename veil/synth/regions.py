"""Real county-level region codes, read from the division table python-stdnum ships."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_ENTRY = re.compile(r'^\s+(\d{4}) county="([^"]*)"')
_PROVINCE = re.compile(r"^(\d{2}) province=")


@cache
def county_codes() -> dict[str, list[str]]:
    """Province code -> six-digit county codes valid in every year (no date range)."""
    text = resources.files("stdnum").joinpath("cn", "loc.dat").read_text(encoding="utf-8")
    by_province: dict[str, list[str]] = {}
    province = ""
    for line in text.splitlines():
        head = _PROVINCE.match(line)
        if head:
            province = head.group(1)
            continue
        entry = _ENTRY.match(line)
        if not entry or not province:
            continue
        code, name = entry.groups()
        # "00" codes are whole cities or provinces, and bracketed names existed only for a time.
        if code.endswith("00") or name.startswith("[") or name in ("市辖区", "县"):
            continue
        by_province.setdefault(province, []).append(province + code)
    return by_province
