"""The benchmark harness still runs end to end (bench/run.py --short): every table is produced
from real server processes, the real CLI and the fake endpoint. Never judged on a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"
TITLES = ("### 1. Open", "### 2. Edit", "### 3. API economy", "### 4. Workspace scale",
          "### 5. Estimator throughput", "### 6. Growth")


@pytest.mark.slow
def test_short_benchmark_run_produces_all_six_tables(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--short", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for title in TITLES:
        assert title in proc.stdout, f"{title!r} missing from the output"
    assert (tmp_path / "short.md").read_text(encoding="utf-8").count("### ") == len(TITLES)

    raw = json.loads((tmp_path / "short.json").read_text(encoding="utf-8"))
    assert len(raw["open"]["promptls"]["diagnostics"]) == raw["open"]["runs"]
    assert raw["open"]["promptls"]["hint_count"] > 0  # the hints row measured real hints, not an empty answer
    assert len(raw["edit"]["times"]) == raw["edit"]["edits"]
    assert raw["editor"]["first_open"] > 0  # the server really talked to the fake endpoint
    assert raw["scale"]["complete"] and raw["scale"]["rss_mb"] > 0
    assert raw["throughput"]["tokens"] > 0
