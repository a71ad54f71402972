"""The count cache: persistence, canonical keys, LRU bound, recovery from corruption and
unwritable locations, several connections at once, and the estimator calibration table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptls.counting.cache import FILE_NAME, CountCache, default_cache_path, request_key


def test_counts_survive_a_restart(tmp_path: Path) -> None:
    key = request_key("claude-sonnet-4-6", {"messages": [{"role": "user", "content": "hi"}]}, "e")
    first = CountCache(tmp_path / FILE_NAME)
    first.put(key, 42)
    first.close()
    again = CountCache(tmp_path / FILE_NAME)
    assert again.get(key) == 42
    assert again.get(request_key("claude-sonnet-4-6", {"messages": []}, "e")) is None


def test_key_is_canonical_and_depends_on_the_model() -> None:
    a = request_key("m", {"b": 1, "a": [1, {"y": "é", "x": 2}]}, "e")
    b = request_key("m", {"a": [1, {"x": 2, "y": "é"}], "b": 1}, "e")
    assert a == b
    assert request_key("other", {"b": 1, "a": [1, {"y": "é", "x": 2}]}, "e") != a


def test_env_var_chooses_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLS_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_path() == tmp_path / "c" / FILE_NAME
    cache = CountCache()
    assert cache.location == str(tmp_path / "c" / FILE_NAME)
    cache.put("k", 1)
    assert (tmp_path / "c" / FILE_NAME).exists()


def test_least_recently_used_rows_are_evicted(tmp_path: Path) -> None:
    cache = CountCache(tmp_path / FILE_NAME, max_rows=3)
    for i in range(3):
        cache.put(f"k{i}", i)
    assert cache.get("k0") == 0  # touch k0 so k1 is the oldest
    cache.put("k3", 3)
    assert len(cache) == 3
    assert cache.get("k1") is None
    assert [cache.get(k) for k in ("k0", "k2", "k3")] == [0, 2, 3]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_file_is_moved_aside_and_recreated(tmp_path: Path, damage: str) -> None:
    path = tmp_path / FILE_NAME
    good = CountCache(path)
    for i in range(200):
        good.put(f"key-{i}", i)
    good.close()
    if damage == "garbage":
        path.write_bytes(os.urandom(8192))
    else:
        path.write_bytes(path.read_bytes()[:1500])
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    cache = CountCache(path)
    cache.put("fresh", 7)
    assert cache.get("fresh") == 7
    assert cache.location == str(path)
    assert list(tmp_path.glob(f"{FILE_NAME}.corrupt-*"))
    assert cache.warning and "corrupt" in cache.warning


def test_an_unwritable_location_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    cache = CountCache(blocker / "sub" / FILE_NAME)
    assert cache.location == "memory"
    assert cache.warning
    cache.put("k", 5)
    assert cache.get("k") == 5
    assert cache.correction("m") == 1.0


def test_two_connections_share_one_file(tmp_path: Path) -> None:
    a = CountCache(tmp_path / FILE_NAME)
    b = CountCache(tmp_path / FILE_NAME)
    a.put("shared", 11)
    assert b.get("shared") == 11
    b.put("other", 12)
    assert a.get("other") == 12


def test_calibration_moves_toward_the_exact_ratio_and_is_clamped(tmp_path: Path) -> None:
    cache = CountCache(tmp_path / FILE_NAME)
    assert cache.correction("claude-sonnet-4-6") == 1.0
    for _ in range(5):
        cache.record_calibration("claude-sonnet-4-6", exact=1100, raw_estimate=1000, shown_estimate=1000)
    assert cache.correction("claude-sonnet-4-6") == pytest.approx(1.1)
    cache.record_calibration("claude-sonnet-4-6", exact=1000, raw_estimate=1000, shown_estimate=1100)
    assert 1.0 < cache.correction("claude-sonnet-4-6") < 1.1
    for _ in range(3):
        cache.record_calibration("claude-opus-4-8", exact=5000, raw_estimate=1000, shown_estimate=1000)
    assert cache.correction("claude-opus-4-8") == 2.0
    report = dict((m, (n, err)) for m, n, err in cache.calibration_report())
    assert report["claude-sonnet-4-6"][0] == 6
    assert report["claude-sonnet-4-6"][1] == pytest.approx((5 * 100 / 11 + 10) / 6)
    assert report["claude-opus-4-8"] == (3, pytest.approx(80.0))


def test_several_processes_write_at_once(tmp_path: Path) -> None:
    """Two CLIs/servers filling the same cache concurrently: no crash, no lost rows."""
    script = (
        "import sys; from pathlib import Path; from promptls.counting.cache import CountCache\n"
        "c = CountCache(Path(sys.argv[1]))\n"
        "for i in range(150): c.put(f'{sys.argv[2]}-{i}', i); c.get(f'{sys.argv[2]}-{i // 2}')\n"
        "c.record_calibration('m', 110, 100, 100)\n"
        "print(c.location)\n"
    )
    path = tmp_path / FILE_NAME
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "server")}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), name], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("a", "b", "c")]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert all(out.strip() == str(path) for out, _ in outs)
    cache = CountCache(path)
    assert len(cache) == 450
    assert cache.calibration_report()[0][:2] == ("m", 3)
