"""`uv tool install` and `pipx install` from the built wheel: the README's install lines give a working
`promptls` command (the one Neovim's config and mason run), offline from a wheelhouse of this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "chat.prompt.yaml"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run([str(REPO / "tests" / "editors" / "wheelhouse.sh"), sys.executable, str(out)], check=True,
                   capture_output=True, text=True, timeout=900)
    (wheel,) = out.glob("promptls-*.whl")
    return wheel


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """A home of its own and a PATH without this venv, so only the tool's own promptls can answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PIPX_", "VIRTUAL_ENV"))}
    return {**env, "HOME": str(tmp_path / "home"), "PATH": "/usr/local/bin:/usr/bin:/bin",
            "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data"),
            "PROMPTLS_CACHE_DIR": str(tmp_path / "promptls-cache")}


def check_works(promptls: Path, env: dict[str, str]) -> None:
    version = subprocess.run([str(promptls), "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert version.returncode == 0 and "0.1.0" in version.stdout, version.stdout + version.stderr
    check = subprocess.run([str(promptls), "check", "--mode", "offline", str(EXAMPLE)], capture_output=True, text=True,
                           env=env, timeout=120, cwd=EXAMPLE.parent)
    assert "budget-exceeded" in check.stdout + check.stderr, check.stdout + check.stderr


def base_python() -> str:
    return getattr(sys, "_base_executable", sys.executable)


@pytest.mark.slow
def test_uv_tool_install_from_the_wheel(tmp_path: Path, wheelhouse: Path) -> None:
    uv = shutil.which("uv", path=str(BIN))
    if uv is None:
        pytest.skip("uv is not installed in this venv (test extras)")
    env = isolated_env(tmp_path) | {"UV_TOOL_DIR": str(tmp_path / "tools"), "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
                                    "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    run = subprocess.run([uv, "tool", "install", "--offline", "--no-index", "--find-links", str(wheelhouse.parent),
                          "--python", base_python(), str(wheelhouse)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    check_works(tmp_path / "bin" / "promptls", env)


@pytest.mark.slow
def test_pipx_install_from_the_wheel(tmp_path: Path, wheelhouse: Path) -> None:
    pipx = shutil.which("pipx", path=str(BIN))
    if pipx is None:
        pytest.skip("pipx is not installed in this venv (test extras)")
    env = isolated_env(tmp_path) | {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
                                    "PIP_CONFIG_FILE": os.devnull}
    run = subprocess.run([pipx, "install", "--python", base_python(), "--pip-args",
                          f"--no-index --find-links {wheelhouse.parent}", str(wheelhouse)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    check_works(tmp_path / "bin" / "promptls", env)
