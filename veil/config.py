"""Where Veil keeps its data and which rules it runs.

`VEIL_HOME` (default ./.veil), `VEIL_DATABASE_URL`, `VEIL_RULE_PACKS`: further rule pack
files, separated by the path separator (`:`), in force beside the shipped packs, and
`VEIL_IDENTITY_CHECK`: how subjects prove who they are for self-inquiry (`none`, the
default, refuses every self-inquiry; `demo` is for local use only), and `VEIL_PUBLIC_URL`:
where certificates tell their readers to verify them, and `VEIL_ANSWER_FLOOR_MS`: the
least time, in milliseconds, a screening answer or a refusal takes (default 5; see
veil/disclosure/pace.py). `VEIL_LEDGER_SOCKET` is set by
`veil serve` for its server processes (the audit ledger's writer process), not by operators.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Where a server process finds the audit ledger's writer process (set by `veil serve`).
LEDGER_SOCKET_ENV = "VEIL_LEDGER_SOCKET"
DEFAULT_ANSWER_FLOOR_MS = 5.0
MAX_ANSWER_FLOOR_MS = 1000.0


class ConfigError(ValueError):
    """A VEIL_* setting that cannot be used; its message names the variable."""


def parse_answer_floor_ms(text: str) -> float:
    """VEIL_ANSWER_FLOOR_MS: milliseconds from 0 (no floor) to 1000."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= MAX_ANSWER_FLOOR_MS:  # also false for nan
        raise ConfigError(
            "VEIL_ANSWER_FLOOR_MS must be a number of milliseconds from 0 to "
            f"{MAX_ANSWER_FLOOR_MS:g}, not {text!r}"
        )
    return value


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    rule_packs: tuple[Path, ...] = ()
    identity_check: str = "none"
    public_url: str = "http://127.0.0.1:8000"
    ledger_socket: str | None = None
    answer_floor_ms: float = DEFAULT_ANSWER_FLOOR_MS

    @property
    def key_file(self) -> Path:
        return self.home / "keys" / "master.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("VEIL_HOME") or ".veil").absolute()
        url = env.get("VEIL_DATABASE_URL") or f"sqlite:///{home / 'veil.db'}"
        packs = tuple(Path(p) for p in (env.get("VEIL_RULE_PACKS") or "").split(os.pathsep) if p)
        identity = env.get("VEIL_IDENTITY_CHECK") or "none"
        public = (env.get("VEIL_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
        return cls(
            home=home,
            database_url=url,
            rule_packs=packs,
            identity_check=identity,
            public_url=public,
            ledger_socket=env.get(LEDGER_SOCKET_ENV) or None,
            answer_floor_ms=parse_answer_floor_ms(
                env.get("VEIL_ANSWER_FLOOR_MS") or str(DEFAULT_ANSWER_FLOOR_MS)
            ),
        )
