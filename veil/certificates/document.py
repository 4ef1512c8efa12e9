"""A certificate: its signed content, its PDF, and checking both offline.

The content is canonical JSON signed with Ed25519. The PDF is rendered from the content
alone, deterministically (ReportLab's invariant mode), and carries the content and the
signature in its metadata. Verifying re-renders the PDF from the signed content and
requires the file to be that rendering byte for byte: any change to the document (text,
images, metadata) makes it not genuine. Only the public key is needed.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FORMAT = "veil-certificate/1"
KINDS = ("no_record_certificate", "cannot_issue_notice", "unit_letter")
LANGS = ("zh", "en")
# ReportLab's built-in Adobe CID font for Simplified Chinese: the PDF names it and every
# reader supplies the glyphs, so no font file is embedded or shipped.
CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"


@dataclass(frozen=True)
class Content:
    kind: str
    lang: str
    serial: str
    code: str
    issued_at: str  # UTC ISO-8601; the records are as of this moment
    valid_until: str  # ISO date
    name: str  # as the applicant gave it, verified at application; never from records
    id_number: str
    verify_url: str
    unit: str | None = None  # unit letters: the unit that asked
    finding: str | None = None  # unit letters: "none_found" or "found"

    def canonical(self) -> bytes:
        return json.dumps(
            asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    @classmethod
    def from_canonical(cls, data: bytes) -> Content:
        fields = json.loads(data)
        if not isinstance(fields, dict):
            raise ValueError("not a certificate")
        content = cls(**fields)
        if content.canonical() != data or content.kind not in KINDS or content.lang not in LANGS:
            raise ValueError("not a canonical certificate")
        return content


def _signed_bytes(content: Content) -> bytes:
    return FORMAT.encode() + b"\n" + content.canonical()


def sign(content: Content, private_key: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(_signed_bytes(content))


def public_key_of(private_key: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(private_key).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the page ---------------------------------------------------------------------------


@cache
def _texts() -> dict[str, dict[str, str]]:
    path = resources.files("veil.certificates").joinpath("data", "texts.yaml")
    texts: dict[str, dict[str, str]] = yaml.safe_load(path.read_text("utf-8"))
    return texts


def _body_key(content: Content) -> str:
    if content.kind == "no_record_certificate":
        return "no_record_body"
    if content.kind == "cannot_issue_notice":
        return "cannot_issue_body"
    return "unit_found_body" if content.finding == "found" else "unit_none_body"


def _wrapped(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` (character by character: CJK has no spaces)."""
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, font, size) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


def render(content: Content, signature: bytes) -> bytes:
    """The PDF of a signed certificate: the same bytes every time for the same input."""
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    words = {k: v.format(**asdict(content)) for k, v in _texts()[content.lang].items()}
    font = CJK_FONT if content.lang == "zh" else LATIN_FONT
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=1, pageCompression=0)
    page.setTitle(words[content.kind])
    page.setAuthor("Veil")
    page.setSubject(content.serial)
    page.setKeywords(f"{FORMAT} {_b64(content.canonical())}.{_b64(signature)}")
    width, height = A4
    page.setFont(font, 20)
    page.drawCentredString(width / 2, height - 120, words[content.kind])
    page.setFont(font, 12)
    y = height - 190
    for line in _wrapped(words[_body_key(content)], font, 12, width - 160):
        page.drawString(80, y, line)
        y -= 20
    y -= 10
    for key in ("as_of", "serial", "issued", "valid", "code", "verify"):
        page.drawString(80, y, words[key])
        y -= 20
    qr = QrCodeWidget(content.verify_url)
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(110, 110, transform=[110 / (x1 - x0), 0, 0, 110 / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, page, width - 190, 80)
    page.showPage()
    page.save()
    return out.getvalue()


# --- checking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    genuine: bool
    content: Content | None = None
    reason: str = ""

    def public(self) -> dict[str, Any]:
        """What a verifier learns: genuine, issued on D, valid until V; or not genuine."""
        if not self.genuine or self.content is None:
            return {"genuine": False}
        return {
            "genuine": True,
            "kind": self.content.kind,
            "issued_on": self.content.issued_at[:10],
            "valid_until": self.content.valid_until,
        }


def verify(pdf: bytes, public_key: bytes) -> Verdict:
    """Check a certificate file offline with the issuer's public key alone."""
    try:
        metadata = PdfReader(io.BytesIO(pdf)).metadata
        keywords = str(metadata.get("/Keywords", "")) if metadata is not None else ""
        tag, _, packed = keywords.partition(" ")
        payload, _, sig = packed.partition(".")
        if tag != FORMAT or not payload or not sig:
            return Verdict(False, reason="no Veil certificate in this file")
        content = Content.from_canonical(_unb64(payload))
        signature = _unb64(sig)
    except (PdfReadError, ValueError, TypeError, KeyError, OSError) as exc:
        return Verdict(False, reason=f"unreadable: {exc}")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _signed_bytes(content))
    except (InvalidSignature, ValueError):
        return Verdict(False, reason="the signature does not verify")
    if render(content, signature) != pdf:
        return Verdict(False, reason="the document differs from what was signed")
    return Verdict(True, content)
