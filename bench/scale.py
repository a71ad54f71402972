"""Table 4: a generated workspace of many prompt files, indexed by the server and checked by the CLI."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gen import workspace
from latency import promptls_client
from lspclient import cpu_seconds, peak_rss_mb


def _text_mb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


async def index_time(root: Path, files: int, cache: Path, timeout: float = 1800) -> dict[str, Any]:
    """Seconds from `initialized` until the server has a total for every file ($/progress end and
    `promptls/_stats` agree), and the server's peak RSS."""
    client = promptls_client(root, cache)
    await client.start()
    await client.initialize(root)
    t0 = time.monotonic()
    await client.wait_event(lambda m, p: m == "$/progress" and p.get("value", {}).get("kind") == "end",
                            timeout=timeout)
    stats = await client.request("promptls/_stats", {})
    elapsed = time.monotonic() - t0
    rss = peak_rss_mb(client.pid)
    cpu = cpu_seconds(client.pid)
    await client.stop()
    return {"index_s": elapsed, "index_cpu_s": cpu, "indexed": stats["indexed"], "rss_mb": rss,
            "complete": stats["indexed"] >= files}


def check_time(root: Path, cache: Path, timeout: float = 1800) -> dict[str, Any]:
    """Wall time of `promptls check --mode offline` on the whole workspace with the cache in `cache`, and
    the CPU time of it and its workers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "promptls", "check", "--mode", "offline", str(root)],
                          env={**os.environ, "PROMPTLS_CACHE_DIR": str(cache), "ANTHROPIC_API_KEY": ""},
                          capture_output=True, timeout=timeout, check=False)
    elapsed = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"promptls check exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"check_s": elapsed, "check_cpu_s": cpu, "exit": proc.returncode}


SEED = 2001


async def scale(work: Path, files: int) -> dict[str, Any]:
    """Cold (empty cache directory) then warm (the same directory again: the estimator's text memo
    answers) for both the CLI and the server. The CLI and the server get separate caches. Every size
    uses one seed, so a smaller workspace is the first files of a larger one and growth compares
    like with like (with a seed per size the 4,000-file workspace had 13 % more text per extra file)."""
    root = work / f"scale-{files}"
    paths = workspace(root, files, seed=SEED)
    media = sum(1 for p in (root / "assets").iterdir())
    out: dict[str, Any] = {"files": files, "media": media, "text_mb": _text_mb(paths)}
    out |= check_time(root, work / f"cache-check-{files}")
    warm_check = check_time(root, work / f"cache-check-{files}")
    out |= {"warm_check_s": warm_check["check_s"], "warm_check_cpu_s": warm_check["check_cpu_s"]}
    out |= await index_time(root, files, work / f"cache-index-{files}")
    warm = await index_time(root, files, work / f"cache-index-{files}")
    out |= {"warm_index_s": warm["index_s"], "warm_index_cpu_s": warm["index_cpu_s"], "warm_rss_mb": warm["rss_mb"],
            "complete": out["complete"] and warm["complete"]}
    return out
