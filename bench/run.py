"""Run the promptls benchmarks and print the six tables (Markdown). `--short` is the CI smoke size.

    .venv/bin/python bench/run.py            # full run (several minutes), writes bench/out/
    .venv/bin/python bench/run.py --short    # every table at toy sizes, well under a minute

Numbers are reported, never judged by exit code: the run fails only when something crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import economy
import latency
import scale
import startup

OUT = Path(__file__).resolve().parent / "out"


@dataclass(frozen=True)
class Sizes:
    open_runs: int
    edits: int
    workspace_files: int
    rpm_seconds: float
    scale_files: int
    throughput_mb: float
    throughput_repeats: int
    startup_runs: int
    economy_growth: tuple[int, ...]
    scale_growth: tuple[int, ...]


FULL = Sizes(20, 200, 1000, 70.0, 2000, 1.0, 3, 20, (500, 1000, 2000), (250, 1000, 4000))
SHORT = Sizes(3, 20, 20, 6.0, 40, 0.05, 1, 3, (10, 20), (10, 20))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    commit = _version(["git", "-C", str(latency.REPO), "rev-parse", "--short", "HEAD"])
    peer = "not installed (npm ci in bench/)"
    if (exe := latency.node()) and latency.YLS.is_file():
        yls = _version([exe, str(latency.YLS), "--version"])
        peer = f"yaml-language-server {yls} on node {_version([exe, '--version'])}"
    return "\n".join([
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}",
        f"- machine: {cpu}, {os.cpu_count()} cores, {mem:,} MB RAM, {platform.platform()}",
        f"- Python {platform.python_version()}, promptls at commit {commit}",
        f"- peer: {peer}",
        f"- load average at start (1/5/15 min): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}"])


def t1(data: dict[str, Any]) -> str:
    p, y = data["promptls"], data.get("yaml-language-server")
    pd = statistics.median(p["diagnostics"])
    ph = statistics.median(p["hints"])
    rows = [["promptls", ms(pd), ms(ph) + f" ({p['hint_count']} hints)", ms(p["cold"])]]
    notes = ""
    if y is not None:
        yd = statistics.median(y["diagnostics"])
        rows.append(["yaml-language-server", ms(yd), "— (no token hints)", ms(y["cold"])])
        cold = p["cold"] / y["cold"]
        rows.append(["ratio promptls / peer", f"{pd / yd:.2f} (target ≤ 1.0: {verdict(pd <= yd)})",
                     f"{ph / yd:.2f} (hints vs peer diagnostics)",
                     f"{cold:.2f} (target ≤ 0.8: {verdict(cold <= 0.8)})"])
    else:
        notes = "\nPeer not installed: run `npm ci` in bench/ (needs node ≥ 22 for yaml-language-server 2).\n"
    return table(f"1. Open → first diagnostics and hints (50-message file, schema error; median of {data['runs']} "
                 "opens, server warm)",
                 ["server", "open → diagnostics with the error", "open → inlay hints (valid 50-message file)",
                  "cold: spawn → first diagnostics"], rows) + notes


def t2(data: dict[str, Any]) -> str:
    times = data["times"]
    p50, p95 = latency.percentile(times, 50), latency.percentile(times, 95)
    rows = [[data["edits"], data["messages"], f"{data['debounce_ms']} ms", ms(p50), ms(p95), ms(max(times)),
             f"{verdict(p95 <= 0.012)} (≤ 12 ms)", f"{data['changed']}/{data['edits']}"]]
    return table("2. Edit → refreshed hints (offline, debounceMs = 0, so every figure is on top of the debounce)",
                 ["edits", "messages", "debounce", "p50", "p95", "max", "p95 target", "edits that changed a hint"],
                 rows)


def t3(editor: dict[str, Any], ws: dict[str, Any], rpm: dict[str, Any]) -> str:
    rows = [
        [f"first open ({editor['parts']} parts)", editor["first_open"], "—"],
        ["reopen (new server, same cache)", editor["reopen"], f"0: {verdict(editor['reopen'] == 0)}"],
        ["one message edited", editor["edit"], f"≤ 2: {verdict(editor['edit'] <= 2)}"],
        [f"`promptls check`, {ws['files']} files, cold cache ({ms(ws['cold_s'])})", f"{ws['cold']:,}", "—"],
        [f"`promptls check`, {ws['files']} files, warm cache ({ms(ws['warm_s'])})", ws["warm"],
         f"0: {verdict(ws['warm'] == 0)}"],
        [f"most requests in any 60 s, limit {rpm['rpm']} rpm, {rpm['requests']} requests over "
         f"{rpm['span_s']:.0f} s", rpm["max_60s"], f"≤ {rpm['rpm']}: {verdict(rpm['max_60s'] <= rpm['rpm'])}"],
        ["most requests in any 1 s (burst) at that limit", rpm["max_1s"], "—"],
        [f"shortest span holding {rpm['rpm'] + 1} requests (limit + 1)",
         "—" if rpm["tightest_over_limit_s"] is None else f"{rpm['tightest_over_limit_s']:.3f} s", "≥ 60 s"],
    ]
    return table("3. API economy (count_tokens requests against the fake endpoint)",
                 ["scenario", "requests", "target"], rows)


def _cpu(seconds: float | None) -> str:
    return "?" if seconds is None else ms(seconds)


def t4(data: dict[str, Any]) -> str:
    what = f"{data['files']:,} ({data['media']} with an image/PDF, {data['text_mb']:.1f} MB)"
    incomplete = "" if data["complete"] else " (incomplete)"
    rows = [[what, "cold (empty cache)", ms(data["index_s"]) + incomplete, _cpu(data.get("index_cpu_s")),
             f"{verdict(data['index_s'] <= 4)} (≤ 4 s)", ms(data["check_s"]), _cpu(data.get("check_cpu_s")),
             f"{verdict(data['check_s'] <= 2)} (≤ 2 s)", f"{data['rss_mb']:.0f} MB",
             f"{verdict((data['rss_mb'] or 0) <= 100)} (≤ 100 MB)"],
            ["", "warm (same cache again)", ms(data["warm_index_s"]), _cpu(data.get("warm_index_cpu_s")), "",
             ms(data["warm_check_s"]), _cpu(data.get("warm_check_cpu_s")), "", f"{data['warm_rss_mb']:.0f} MB",
             f"{verdict((data['warm_rss_mb'] or 0) <= 100)} (≤ 100 MB)"]]
    return table("4. Workspace scale (offline; CPU = user + system time of the server, or of check and its workers)",
                 ["files", "cache", "server: initialized → all totals", "server CPU", "index target",
                  "`promptls check`", "check CPU", "check target", "server peak RSS", "RSS target"], rows)


def t5(tp: dict[str, Any], st: dict[str, Any]) -> str:
    rows = [[f"estimator `text_tokens` ({tp['path']}), fresh {kind} text ({tp['mb']} MB × {tp['repeats']})",
             f"{k['mb_s']:.2f} MB/s wall, {k['cpu_mb_s']:.2f} MB/s CPU ({k['bytes_per_token']:.1f} bytes/token)",
             f"≥ 10 MB/s: {verdict(k['mb_s'] >= 10)}"] for kind, k in tp.get("kinds", {}).items()]
    targets = {"promptls --version": 0.150, "promptls count one file": 0.100}
    for name, t in st["times"].items():
        limit = targets.get(name, 0.150)
        rows.append([f"{name} ({st['tool']}, {st['runs']} runs)",
                     f"median {ms(t['median'])} (min {ms(t['min'])}, max {ms(t['max'])})",
                     f"≤ {limit * 1000:.0f} ms: {verdict(t['median'] <= limit)}"])
    return table("5. Estimator throughput and CLI start-up", ["what", "result", "target"], rows)


def linearity(points: list[tuple[float, float]], unit: str = "file") -> str:
    """Compare the marginal cost per file (or per MB of text: `unit`) of the upper step with the
    lower step; the fixed start-up cost cancels out. Within ±30 % counts as linear."""
    points = [(n, v) for n, v in points if v is not None]
    if len(points) < 2:
        return "not measured"
    if len(points) < 3:
        (n0, v0), (n1, v1) = points[0], points[-1]
        return f"{(v1 - v0) / (n1 - n0):.3g} per extra {unit} (two sizes only: no verdict)"
    (n0, v0), (n1, v1), (n2, v2) = points[0], points[len(points) // 2], points[-1]
    lower, upper = (v1 - v0) / (n1 - n0), (v2 - v1) / (n2 - n1)
    if lower <= 0 or upper <= 0:
        return f"flat (marginal cost per {unit} {lower:.3g} then {upper:.3g})"
    ratio = upper / lower
    kind = "linear" if 0.7 <= ratio <= 1.3 else ("super-linear" if ratio > 1.3 else "sub-linear")
    if unit != "file":
        return (f"{kind}: marginal cost per {unit} {lower:.3g} ({n0:.2f}→{n1:.2f}), {upper:.3g} ({n1:.2f}→{n2:.2f}); "
                f"ratio {ratio:.2f}")
    return (f"{kind}: marginal cost per file {lower:.3g} ({n0:,}→{n1:,} files), {upper:.3g} ({n1:,}→{n2:,}); "
            f"ratio {ratio:.2f}")


def t6(econ: list[dict[str, Any]], sc: list[dict[str, Any]]) -> str:
    rows = [[f"{e['files']:,}", f"{e['cold']:,}", f"{e['cold'] / e['files']:.1f}", ms(e["cold_s"]), e["warm"],
             "", "", ""] for e in econ]
    rows += [[f"{s['files']:,} ({s['text_mb']:.1f} MB)", "", "", "", "",
              f"{ms(s['index_s'])} / {ms(s['warm_index_s'])} (CPU {_cpu(s.get('index_cpu_s'))} / "
              f"{_cpu(s.get('warm_index_cpu_s'))})",
              f"{ms(s['check_s'])} / {ms(s['warm_check_s'])} (CPU {_cpu(s.get('check_cpu_s'))} / "
              f"{_cpu(s.get('warm_check_cpu_s'))})", f"{s['rss_mb']:.0f} MB"] for s in sc]
    out = table("6. Growth", ["files", "API requests (cold)", "per file", "check wall (API)", "warm requests",
                              "server index (cold / warm)", "check offline (cold / warm)",
                              "server peak RSS (cold)"], rows)
    out += "\n" + "\n".join([
        f"- API requests, cold: {linearity([(e['files'], e['cold']) for e in econ])}",
        f"- `promptls check` with the API (s): {linearity([(e['files'], e['cold_s']) for e in econ])}",
        f"- server index time, cold (s): {linearity([(s['files'], s['index_s']) for s in sc])}",
        f"- server index time, warm (s): {linearity([(s['files'], s['warm_index_s']) for s in sc])}",
        f"- `promptls check` offline, cold (s): {linearity([(s['files'], s['check_s']) for s in sc])}",
        f"- `promptls check` offline, warm (s): {linearity([(s['files'], s['warm_check_s']) for s in sc])}",
        f"- `promptls check` offline, cold CPU (s): {linearity([(s['files'], s.get('check_cpu_s')) for s in sc])}",
        f"- `promptls check` offline, cold CPU per MB of text (s): "
        f"{linearity([(s['text_mb'], s.get('check_cpu_s')) for s in sc], 'MB')}",
        f"- `promptls check` offline, warm CPU (s): {linearity([(s['files'], s.get('warm_check_cpu_s')) for s in sc])}",
        f"- server index, cold CPU (s): {linearity([(s['files'], s.get('index_cpu_s')) for s in sc])}",
        f"- server peak RSS (MB): {linearity([(s['files'], s['rss_mb']) for s in sc])}"]) + "\n"
    return out


async def _editor_and_latency(work: Path, sizes: Sizes, fake: Any) -> tuple[Any, Any, Any]:
    opened = await latency.open_latency(work, sizes.open_runs)
    edited = await latency.edit_latency(work, sizes.edits)
    editor = await economy.editor_requests(work, fake)
    return opened, edited, editor


def main(argv: list[str] | None = None) -> int:
    # Users run an installed promptls whose bytecode pip compiled; a development shell that sets
    # PYTHONDONTWRITEBYTECODE would make every spawned server and CLI compile promptls from source.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--short", action="store_true", help="toy sizes for CI: proves the harness runs")
    ap.add_argument("--out", type=Path, help="write the tables and raw data here (default: bench/out/)")
    ap.add_argument("--only", default="123456", help="tables to run, e.g. 145 (default: all six)")
    args = ap.parse_args(argv)
    sizes = SHORT if args.short else FULL
    raw: dict[str, Any] = {"short": args.short}
    sections = [f"## promptls benchmarks{' (short mode)' if args.short else ''}\n", machine() + "\n"]

    def emit(text: str) -> None:
        sections.append(text)
        print(text, flush=True)

    print(sections[0] + "\n" + sections[1], flush=True)
    with tempfile.TemporaryDirectory(prefix="promptls-bench-") as tmp:
        work = Path(tmp)
        fake = economy.FakeAnthropic().start()
        try:
            only = set(args.only)
            if only & set("123"):
                opened, edited, editor = asyncio.run(_editor_and_latency(work, sizes, fake))
                raw |= {"open": opened, "edit": edited, "editor": editor}
                emit(t1(opened))
                emit(t2(edited))
            if "3" in only:
                ws = economy.workspace_requests(work, fake, sizes.workspace_files)
                raw["workspace"] = ws
            if "3" in only:
                rpm = economy.rate_limit(work, fake, 60, sizes.rpm_seconds)
                raw["rpm"] = rpm
                emit(t3(editor, ws, rpm))
            if only & set("46"):
                sc = asyncio.run(scale.scale(work, sizes.scale_files))
                raw["scale"] = sc
            if "4" in only:
                emit(t4(sc))
            if "5" in only:
                tp = startup.throughput(sizes.throughput_mb, sizes.throughput_repeats)
                st = startup.cli_startup(work, sizes.startup_runs)
                raw |= {"throughput": tp, "startup": st}
                emit(t5(tp, st))
            if "6" in only:
                econ = [ws if n == ws["files"] else economy.workspace_requests(work, fake, n)
                        for n in sorted({*sizes.economy_growth, ws["files"]})] if "3" in only else []
                scs = [sc if n == sc["files"] else asyncio.run(scale.scale(work, n))
                       for n in sorted({*sizes.scale_growth, sc["files"]})]
                raw |= {"economy_growth": econ, "scale_growth": scs}
                emit(t6(econ, scs))
        finally:
            fake.stop()
    emit(f"Load average at the end (1/5/15 min): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    out = args.out or OUT
    out.mkdir(parents=True, exist_ok=True)
    stem = ("short" if args.short else "full") + ("" if set(args.only) >= set("123456") else f"-{args.only}")
    (out / f"{stem}.md").write_text("\n".join(sections), encoding="utf-8")
    (out / f"{stem}.json").write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    print(f"written: {out / (stem + '.md')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
