"""Put the uv binary for one VS Code target into bundled/ (for a platform-specific .vsix).

    python3 scripts/bundle_uv.py linux-x64        # then: vsce package --target linux-x64

uv comes from its PyPI wheel (the binary is in `uv-<version>.data/scripts/`), at the version package.json
pins under promptlsServer.uv, downloaded with pip so a mirror or a wheel cache configured for pip is used.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# VS Code target -> the PyPI platform tags uv publishes wheels for (the first that exists is taken).
PLATFORMS = {
    "linux-x64": ["manylinux_2_17_x86_64", "manylinux2014_x86_64"],
    "linux-arm64": ["manylinux_2_17_aarch64", "manylinux2014_aarch64"],
    "linux-armhf": ["manylinux_2_17_armv7l", "manylinux2014_armv7l"],
    "alpine-x64": ["musllinux_1_1_x86_64"],
    "alpine-arm64": ["musllinux_1_1_aarch64"],
    "darwin-x64": ["macosx_10_12_x86_64"],
    "darwin-arm64": ["macosx_11_0_arm64"],
    "win32-x64": ["win_amd64"],
    "win32-arm64": ["win_arm64"],
}


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in PLATFORMS:
        print(f"usage: bundle_uv.py TARGET (one of {', '.join(PLATFORMS)})", file=sys.stderr)
        return 2
    target = sys.argv[1]
    version = json.loads((HERE / "package.json").read_text(encoding="utf-8"))["promptlsServer"]["uv"]
    exe = "uv.exe" if target.startswith("win32") else "uv"
    out_dir = HERE / "bundled"
    out_dir.mkdir(exist_ok=True)
    for old in out_dir.iterdir():
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", tmp,
               f"uv=={version}"]
        for tag in PLATFORMS[target]:
            cmd += ["--platform", tag]
        subprocess.run(cmd, check=True)
        (wheel,) = Path(tmp).glob("uv-*.whl")
        with zipfile.ZipFile(wheel) as zf:
            member = f"uv-{version}.data/scripts/{exe}"
            (out_dir / exe).write_bytes(zf.read(member))
            for name in zf.namelist():
                if name.endswith(("LICENSE-APACHE", "LICENSE-MIT")):
                    (out_dir / f"uv-{Path(name).name}").write_bytes(zf.read(name))
    path = out_dir / exe
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (out_dir / "uv.json").write_text(json.dumps({"uv": version, "target": target}) + "\n", encoding="utf-8")
    print(f"bundled uv {version} for {target}: {path} ({path.stat().st_size // 1_000_000} MB)")
    return 0


if __name__ == "__main__":
    os.chdir(HERE)
    sys.exit(main())
