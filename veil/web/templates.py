"""Jinja2 templates, one environment per language with its catalogue and formats installed.

Autoescaping is on and undefined names are errors. Templates write English msgids with
`{% trans %}` or `_()`. Filters: `date`, `datetime` and `number` format for the page's
locale; `words` joins a list as the language does ("A、B和C", "A, B and C"); `translate`
translates a msgid held in a variable; `lookup(table)` is `table[key]`; and
`in_lang("title")` (also a global: `in_lang(obj, "title")`) picks a data file's `title_zh`
or `title_en`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined

from veil.web.language import LANGUAGES, Language, translations

STATIC = "static"


def _as_date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


@cache
def static_version(name: str) -> str:
    """A short digest of a static file, so that a changed file gets a new URL."""
    data = resources.files("veil.web").joinpath(STATIC, name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


def _in_lang(language: Language) -> Any:
    def in_lang(obj: object, field: str) -> Any:
        """`obj.FIELD_zh` or `obj.FIELD_en` (or the mapping's key) for the page's language."""
        name = f"{field}_{language.code}"
        if isinstance(obj, Mapping):
            return obj[name]
        return getattr(obj, name)

    return in_lang


@cache
def environment(code: str) -> Environment:
    language = LANGUAGES[code]
    env = Environment(
        loader=PackageLoader("veil.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Multi-line {% trans %} blocks become one-line msgids, as pyproject's extraction
    # (trimmed = "true") writes them into the catalogues.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(code), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = lambda value, form="long": format_date(
        _as_date(value), form, locale=language.locale
    )
    env.filters["datetime"] = lambda value, form="medium": format_datetime(
        _as_datetime(value), form, locale=language.locale
    )
    env.filters["number"] = lambda value: format_decimal(value, locale=language.locale)
    env.filters["words"] = lambda items: format_list(list(items), locale=language.locale)
    env.filters["translate"] = translations(code).gettext
    env.filters["lookup"] = lambda key, table: table[key]
    env.filters["in_lang"] = env.globals["in_lang"] = _in_lang(language)
    env.globals["static_url"] = static_url
    return env


def render(code: str, template: str, context: Mapping[str, Any]) -> str:
    return environment(code).get_template(template).render(context)
