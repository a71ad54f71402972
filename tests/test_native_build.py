"""The native tokenizer is optional: an install without a C compiler works, counts, and says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import ctok

ROOT = Path(__file__).resolve().parent.parent


def _promptls(*args: str, env: dict[str, str] | None = None, python_args: tuple[str, ...] = (),
              pre: str = "") -> subprocess.CompletedProcess[str]:
    code = pre + "import sys; from promptls.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, *python_args, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_version_says_which_tokenizer_counts() -> None:
    from promptls.counting import tokenizer

    out = _promptls("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1].startswith(f"tokenizer: {tokenizer.path()}")
    forced = _promptls("--version", env={"PROMPTLS_NATIVE": "0"})
    assert "tokenizer: pure Python ctok" in forced.stdout and "PROMPTLS_NATIVE=0" in forced.stdout


def test_install_without_a_compiler_falls_back_to_pure_python(tmp_path: Path) -> None:
    """`pip install .` on a machine whose compiler fails (CC=false) still builds, and the installed
    package counts with ctok itself, saying why."""
    # A fresh checkout: this one holds the editable install's in-place .so and a build/ folder that
    # setuptools would reuse.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "server", src / "server",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "*.egg-info"))
    wheels = tmp_path / "wheel"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
                           capture_output=True, text=True, timeout=600,
                           env={**os.environ, "CC": "false", "CXX": "false", "LDSHARED": "false"})
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("promptls-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "promptls/counting/tokenizer.py" in names and "promptls/prompt.schema.json" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S: no .pth files, so the editable checkout of this venv cannot shadow the unpacked wheel.
    pre = f"import sys; sys.path[:0] = [{str(site)!r}, {sysconfig.get_paths()['purelib']!r}]; "
    out = _promptls("--version", python_args=("-S",), pre=pre)
    assert out.returncode == 0, out.stderr
    assert "tokenizer: pure Python ctok" in out.stdout and "not built" in out.stdout
    count = subprocess.run([sys.executable, "-S", "-c", pre + "from promptls.counting import tokenizer as t; "
                            "print(t.__file__, t.content_tokens('Hello, Claude', '3.0'))"],
                           capture_output=True, text=True, timeout=120)
    where, n = count.stdout.split()
    assert where.startswith(str(site)) and int(n) == ctok.token_count("Hello, Claude", "3.0") - 7
