"""Table 5: estimator throughput on fresh text, and CLI start-up time (hyperfine when installed)."""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gen import paragraph, prompt_text


def _varied(seed: int, size: int) -> str:
    """Code, prose, CJK, emoji, JSON, numbers... (the equivalence suite's generator)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.textgen import corpus

    out: list[str] = []
    n = 0
    for doc in corpus(size, seed=seed):
        out.append(doc)
        n += len(doc.encode("utf-8"))
    return "\n".join(out)


def throughput(megabytes: float, repeats: int) -> dict[str, Any]:
    """MB/s of `text_tokens` on text it has never seen (new seed per repeat: no memo hits), wall and
    CPU time, on prose and on varied text, for the v3 and v4.8 families."""
    from promptls.counting import tokenizer
    from promptls.counting.estimate import clear_caches, text_tokens, warm_up

    warm_up(("3.0", "4.8"))
    out: dict[str, Any] = {"mb": megabytes, "repeats": repeats, "path": tokenizer.path(), "kinds": {}}
    for kind, make in (("prose", lambda r, n: paragraph(random.Random(10_000 + r), n)), ("varied", _varied)):
        for version in ("3.0", "4.8"):
            rates: list[float] = []
            cpu_rates: list[float] = []
            tokens = size = 0
            for r in range(repeats):
                clear_caches()
                text = make(20_000 + r, int(megabytes * 1e6))
                size = len(text.encode("utf-8"))
                t0, c0 = time.perf_counter(), time.process_time()
                tokens = text_tokens(text, version)
                rates.append(size / (time.perf_counter() - t0) / 1e6)
                cpu_rates.append(size / max(time.process_time() - c0, 1e-9) / 1e6)
            out["kinds"][f"{kind} v{version}"] = {"mb_s": statistics.median(rates),
                                                  "cpu_mb_s": statistics.median(cpu_rates), "tokens": tokens,
                                                  "bytes_per_token": size / tokens if tokens else None}
    first = out["kinds"]["prose v3.0"]
    out |= {"mb_s": first["mb_s"], "tokens": first["tokens"], "bytes_per_token": first["bytes_per_token"]}
    return out


def _promptls() -> list[str]:
    exe = Path(sys.executable).with_name("promptls")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "promptls"]


def _hyperfine(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hf.json"
        subprocess.run(["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--export-json", str(out),
                        "-i", *[" ".join(c) for c in commands.values()]],
                       env=env, check=True, capture_output=True)
        results = json.loads(out.read_text())["results"]
    return {name: {"median": r["median"], "mean": r["mean"], "min": r["min"], "max": r["max"]}
            for name, r in zip(commands, results, strict=True)}


def _repeat(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, dict[str, float]]:
    out = {}
    for name, cmd in commands.items():
        for _ in range(3):
            subprocess.run(cmd, env=env, capture_output=True, check=False)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=False)
            times.append(time.perf_counter() - t0)
        out[name] = {"median": statistics.median(times), "mean": statistics.fmean(times),
                     "min": min(times), "max": max(times)}
    return out


def cli_startup(work: Path, runs: int) -> dict[str, Any]:
    """`promptls --version` and `promptls count` on one small file, warm page cache and SQLite cache."""
    root = work / "startup"
    root.mkdir(parents=True)
    (root / ".git").mkdir()
    path = root / "one.prompt.yaml"
    path.write_text(prompt_text(3, seed=3), encoding="utf-8")
    env = {**os.environ, "PROMPTLS_CACHE_DIR": str(work / "cache-startup"), "ANTHROPIC_API_KEY": ""}
    cmd = _promptls()
    commands = {"promptls --version": [*cmd, "--version"],
                "promptls count one file": [*cmd, "count", "--mode", "offline", str(path)]}
    tool = "hyperfine" if shutil.which("hyperfine") else "subprocess"
    times = _hyperfine(commands, runs, env) if tool == "hyperfine" else _repeat(commands, runs, env)
    return {"tool": tool, "runs": runs, "times": times}
