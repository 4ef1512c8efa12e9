"""Where Veil keeps its data: `VEIL_HOME` (default ./.veil) and `VEIL_DATABASE_URL`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str

    @property
    def key_file(self) -> Path:
        return self.home / "keys" / "master.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("VEIL_HOME") or ".veil").absolute()
        url = env.get("VEIL_DATABASE_URL") or f"sqlite:///{home / 'veil.db'}"
        return cls(home=home, database_url=url)
