"""Running the real `veil` executable from the project's virtual environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

VEIL = str(Path(sys.executable).parent / "veil")


def veil(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([VEIL, *args], capture_output=True, text=True, env=os.environ.copy())
    if check and result.returncode != 0:
        raise AssertionError(f"veil {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def veil_json(*args: str, expect: int = 0) -> Any:
    result = veil(*args, "--json")
    assert result.returncode == expect, result.stderr + result.stdout
    return json.loads(result.stdout)
