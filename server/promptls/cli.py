"""`promptls serve | count | check | schema`: the command line on the shared engine.

Imports are lazy so `promptls --version` and the first table appear quickly.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .cliargs import parser

if TYPE_CHECKING:
    from .catalog import ModelInfo
    from .config import Config
    from .counting.api import ApiCounter
    from .counting.cache import CountCache
    from .model import CountState, FileReport, Finding

EXIT_OK, EXIT_OVER_BUDGET, EXIT_INVALID = 0, 1, 2


class ApiOutcome(NamedTuple):
    """How the run counted: `state` for the api line, the cache (warnings, calibration), the counter."""

    state: CountState
    cache: CountCache | None
    counter: ApiCounter | None = None


class CliError(Exception):
    """A usage problem shown as `promptls: error: ...` with exit code 2."""


def _started() -> None:
    """The imports are done: collect again from here on, and never walk what they built."""
    gc.enable()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    # Start-up builds thousands of objects that live as long as the process (modules, classes,
    # functions): collections during the imports find no garbage and cost ~4 ms of every run.
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "schema":
            return _schema(args)
        if args.command == "diff":
            from .diff.command import run as diff

            _started()
            return diff(args)
        return _count_or_check(args)
    except CliError as exc:
        print(f"promptls: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        # The reader went away (`promptls count ... | head`): say so once and stop; point stdout at
        # /dev/null so the interpreter's final flush does not raise again with a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print("promptls: error: output closed before the end (broken pipe)", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130


def _serve(args: argparse.Namespace) -> int:
    from .lsp.server import run  # lsprotocol builds ~1,000 classes: no collection can find garbage there

    _started()
    tcp = None
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            raise CliError(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        tcp = (host or "127.0.0.1", int(port))
    return run(mode=args.mode, tcp=tcp)


def _schema(args: argparse.Namespace) -> int:
    from .schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{args.output}: cannot write the schema: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _files(args: argparse.Namespace) -> tuple[list[Path], Config, list[Finding]]:
    from .config import find_root, load_config
    from .workspace import discover

    for p in args.paths:
        if not p.exists():
            raise CliError(f"{p}: no such file or directory")
    root = (args.root or find_root(args.paths[0])).resolve()
    if not root.is_dir():
        raise CliError(f"--root {root}: not a folder")
    config, config_findings = load_config(root)
    for f in config_findings:
        f.path = _display(Path(f.path or root))
        if args.format != "text":  # in the report too; a person watching a machine format sees it here
            from .render.table import finding_line

            print(finding_line(f.path, f), file=sys.stderr)
    config = config.with_mode(args.mode)
    if args.model:
        from dataclasses import replace

        config = replace(config, default_model=args.model)
    files = list(discover(args.paths, config.exclude, config.include, config.root))
    if not files:
        raise CliError(f"no prompt files in {', '.join(map(str, args.paths))}: looked for "
                       f"{', '.join(config.include)} (set `include` in promptls.toml for other names)")
    return files, config, config_findings


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.enabled = sys.stderr.isatty() and total > 1

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            filled = int(30 * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 50 + "\r")
            sys.stderr.flush()


def _run_engine(files: list[Path], config: Config, parts: bool) -> tuple[list[FileReport], ApiOutcome]:
    """Offline estimates for every file, then exact counts when the API is usable."""
    from .counting.estimate import flush_store, use_store
    from .counting.textcache import open_default

    use_store(open_default())  # text counted by an earlier run is not tokenized again
    try:
        return _run_engine_with_store(files, config, parts)
    finally:
        flush_store()


def _offline_report(path: Path, config: Config, cache: CountCache | None) -> FileReport:
    """One file's report from the estimator alone (in-process)."""
    from .pipeline import offline_report

    return offline_report(path, config, cache)


def _offline_reports(files: list[Path], config: Config, cache: CountCache | None) -> list[FileReport]:
    """Estimates for every file; large runs use one process per core (offline_pool.py)."""
    from . import offline_pool

    progress = _Progress(len(files))
    try:
        if not offline_pool.pays(len(files)):
            out = []
            for path in files:
                out.append(_offline_report(path, config, cache))
                progress.step()
            return out
        from functools import partial

        results: list[FileReport] = []
        with offline_pool.OfflinePool() as pool:
            for chunk_reports in pool.map(partial(offline_pool.offline_report, config=config), files):
                results.extend(chunk_reports)
                for _ in chunk_reports:
                    progress.step()
        return results
    finally:
        progress.close()


def _run_engine_with_store(files: list[Path], config: Config, parts: bool
                           ) -> tuple[list[FileReport], ApiOutcome]:
    """`parts=False` asks the API for each file's total only (1 request per file, parts estimated)."""
    from . import pipeline
    from .model import CountState, FileReport

    counter, cache, api_state = _make_counter(config)
    if counter is None:
        if config.mode == "api" and api_state == CountState.NO_KEY:
            raise CliError("--mode api needs ANTHROPIC_API_KEY in the environment")
        return _offline_reports(files, config, cache), ApiOutcome(api_state, cache)
    import asyncio

    progress = _Progress(len(files))
    reports: list[FileReport | None] = []

    async def exact_all() -> None:
        # Windows from the Models API (cached for a day) before anything is measured against them.
        cfg = pipeline.with_model_limits(config, await counter.model_limits())
        analyses: list[pipeline.Analysis | None] = []
        for path in files:
            analysis = pipeline.analyze(path, cfg)
            if isinstance(analysis, FileReport):
                reports.append(analysis)
                analyses.append(None)
            else:
                analyses.append(analysis)
                reports.append(None)
        sem = asyncio.Semaphore(8)

        async def one(i: int, analysis: pipeline.Analysis) -> None:
            async with sem:
                estimated = pipeline.estimate(analysis, cfg, counter)  # its correction is per endpoint
                exact = await pipeline.count_exact(estimated, counter, 0, parts)
                reports[i] = pipeline.exact_report(estimated, exact, cfg) if exact else estimated.report
                progress.step()

        todo = [(i, a) for i, a in enumerate(analyses) if a is not None]
        if todo:  # one file first: a rejected key or a 429 is then known before the rest start
            await one(*todo[0])
        await asyncio.gather(*(one(i, a) for i, a in todo[1:]))
        await counter.aclose()

    asyncio.run(exact_all())
    progress.close()
    return [r for r in reports if r is not None], ApiOutcome(counter.state, cache, counter)


def _make_counter(config: Config) -> tuple[ApiCounter | None, CountCache, CountState]:
    """(counter or None, cache, state): `pipeline.open_counter` on the CLI's cache."""
    from .pipeline import open_counter

    cache = _open_cache(config)
    counter, state = open_counter(config, cache)
    return counter, cache, state


def _open_cache(config: Config) -> CountCache:
    """The count cache, its calibration read for the endpoint this run would use (endpoint.py)."""
    from .counting.cache import CountCache
    from .counting.endpoint import endpoint_id, resolve_base_url

    return CountCache(endpoint=endpoint_id(resolve_base_url(config.base_url)))


def _count_or_check(args: argparse.Namespace) -> int:
    import logging

    from . import pipeline  # noqa: F401  (imported here, before the work starts: see _started)
    from .catalog import CATALOG_DATE
    from .model import OVER_BUDGET_CODES, Severity
    from .render import annotations, jsonreport, summary, table
    from .workspace import summarize

    _started()
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.ERROR, format="promptls: %(message)s")
    files, config, config_findings = _files(args)
    compare = _compare_models(args, config)
    reports, api = _run_engine(files, config, parts=args.command == "count" or args.exact_parts)
    if compare:
        from .compare import attach

        attach(reports, config, compare, _make_counter)
    ws = summarize(reports, config, config_findings)
    for r in ws.files:
        r.path = _display(Path(r.path))
        for f in r.findings:
            f.path = r.path
    for f in ws.findings:
        f.path = _display(Path(f.path)) if f.path else f.path
    show_hints = args.verbose or getattr(args, "show_hints", False)
    min_sev = Severity.HINT if show_hints else Severity.INFO
    fmt = args.format
    if fmt == "json":
        print(json.dumps(jsonreport.report_json(ws, catalog_date=CATALOG_DATE, mode=config.mode,
                                                min_severity=min_sev), indent=2, ensure_ascii=False))
    elif fmt == "github":
        print(summary.check_github(ws, min_sev, getattr(args, "show_all", False)))
    elif fmt == "sarif":
        print(json.dumps(annotations.sarif(summary.located(ws, min_sev)), indent=2))
    elif args.command == "count":
        blocks = [table.file_table(r, r.path, min_sev) for r in ws.files]
        print("\n\n".join(blocks))
        print()
        for f in ws.findings:
            print(table.finding_line(f.path or "", f))
        print(table.workspace_line(ws))
        print(table.api_line(ws, config.mode, api.state))
    else:
        for line in summary.check_text(ws, min_sev, getattr(args, "show_all", False)):
            print(line)
        print(table.workspace_line(ws))
        if api.state != "offline":
            print(table.api_line(ws, config.mode, api.state))
    counter, cache = api.counter, api.cache
    if counter is not None and counter.disabled_reason and fmt != "text":
        print(f"promptls: {counter.disabled_reason}", file=sys.stderr)
    if cache is not None and cache.warning:
        print(f"promptls: {cache.warning}", file=sys.stderr)
    for note in getattr(counter, "notes", ()):
        print(f"promptls: note: {note}", file=sys.stderr)
    if args.verbose and cache is not None and fmt == "text":
        _print_calibration(cache)
    if any(not r.valid for r in ws.files) or any(f.blocking for f in ws.findings):
        return EXIT_INVALID
    if args.command == "check" and (any(r.over_budget for r in ws.files)
                                    or any(f.code in OVER_BUDGET_CODES for f in ws.findings)):
        return EXIT_OVER_BUDGET
    return EXIT_OK


def _compare_models(args: argparse.Namespace, config: Config) -> list[ModelInfo]:
    """The models of `--compare-models` (catalog rows); an id that names no Claude model is a usage error."""
    wanted = getattr(args, "compare_models", None)
    if wanted is None:
        return []
    from .compare import models_for, parse_models

    if wanted.strip().lower() == "current":
        return models_for(config)
    models, unknown = parse_models(wanted.split(","), config.models)
    if unknown:
        names = ", ".join(f"`{u}`" for u in unknown)
        raise CliError(f"--compare-models: {names} {'is' if len(unknown) == 1 else 'are'} not "
                       f"{'a Claude model' if len(unknown) == 1 else 'Claude models'} promptls knows")
    if not models:
        raise CliError("--compare-models needs model ids, e.g. claude-sonnet-4-6,claude-opus-5-5 (or `current`)")
    return models


def _print_calibration(cache: CountCache) -> None:
    rows = cache.calibration_report()
    if not rows:
        print("estimator accuracy: no exact counts seen yet (offline)")
        return
    print("estimator accuracy against exact counts:")
    for model, n, err in rows:
        print(f"  {model}: {n} exact counts, mean |error| {err:.1f}%")


if __name__ == "__main__":
    sys.exit(main())
