"""The pages' two languages: which one a request gets, and its gettext catalogue.

Chinese by default; `?lang=en` or `?lang=zh` on any page chooses, and the `veil_lang`
cookie remembers the choice. Catalogues are the Babel `.po` files under `locale/`, compiled
in memory when first used, so no build step stands between an edited `.po` and a page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

COOKIE = "veil_lang"
QUERY = "lang"
COOKIE_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    code: str  # `?lang=`, the cookie, the catalogue folder, the `_zh`/`_en` suffix of data
    tag: str  # BCP 47, for <html lang>
    locale: str  # Babel's locale, for dates and numbers
    name: str  # the language's own name, on the link that switches to it


LANGUAGES = {
    "zh": Language("zh", "zh-CN", "zh_Hans_CN", "中文"),
    "en": Language("en", "en", "en_GB", "English"),
}
DEFAULT = LANGUAGES["zh"]


def N_(message: str) -> str:
    """Marks an English msgid for extraction; the page translates it when it renders."""
    return message


def chosen(request: Request) -> tuple[Language, bool]:
    """The request's language, and whether it was chosen just now (so the cookie is due)."""
    asked = LANGUAGES.get(request.query_params.get(QUERY, ""))
    if asked is not None:
        return asked, True
    return LANGUAGES.get(request.cookies.get(COOKIE, ""), DEFAULT), False


def other(language: Language) -> Language:
    return next(lang for lang in LANGUAGES.values() if lang != language)


def catalogue_path(code: str) -> str:
    return f"locale/{code}/LC_MESSAGES/messages.po"


@cache
def translations(code: str) -> Translations:
    """The language's catalogue; untranslated and fuzzy entries fall back to the msgid."""
    source = resources.files("veil.web").joinpath(catalogue_path(code))
    with source.open("rb") as po:
        catalog = read_po(po, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)
