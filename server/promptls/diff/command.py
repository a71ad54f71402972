"""The `promptls diff` subcommand: arguments, output format, job summary and the exit gate."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_OK, EXIT_GATE, EXIT_ERROR = 0, 1, 2

HELP = "token and $ effect of the working tree against a git base (for pull requests)"
DESCRIPTION = """\
Count every prompt file added, removed, modified or renamed since the base revision (and every
prompt file whose attachments changed) on both sides, with the same engine and cache as
`promptls count`: per file and per part, tokens before -> after, the difference, and $ per call
at each side's model prices. With $GITHUB_STEP_SUMMARY set, the Markdown report is appended to
the job summary too. Exit 1 when --fail-above is passed, 2 on errors."""


def add_parser(sub: argparse._SubParsersAction, common: Callable[[argparse.ArgumentParser], None]
               ) -> argparse.ArgumentParser:
    p = sub.add_parser("diff", help=HELP, description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    common(p)
    p.add_argument("--base", metavar="REF", help="compare with this commit, branch or tag (default: the merge-base "
                   "of HEAD with the remote default branch, else HEAD)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("-o", "--output", type=Path, help="write the report to this file instead of stdout")
    p.add_argument("--fail-above", metavar="N|N%", help="exit 1 when the input tokens of the changed files grow by "
                   "more than N tokens, or by more than N%% of the base")
    return p


def run(args: argparse.Namespace) -> int:
    import logging

    from .compare import Gate
    from .git import GitError
    from .render import markdown, text, to_json
    from .run import run_diff

    logging.basicConfig(level=logging.WARNING if args.verbose else logging.ERROR, format="promptls: %(message)s")
    gate = None
    if args.fail_above is not None:
        try:
            gate = Gate.parse(args.fail_above)
        except ValueError as exc:
            print(f"promptls: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
    try:
        result = run_diff(args.paths, base_ref=args.base, root=args.root, mode=args.mode, model=args.model)
    except GitError as exc:
        print(f"promptls: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for f in result.config_findings:
        print(f"promptls: {f.path}: {f.message} [{f.code}]", file=sys.stderr)
    run_url = _run_url()
    if args.format == "json":
        out = json.dumps(to_json(result, gate), indent=2, ensure_ascii=False) + "\n"
    elif args.format == "markdown":
        out = markdown(result, gate, run_url=run_url)
    else:
        out = text(result, args.verbose) + "\n"
        if gate is not None:
            out += f"{'FAIL' if gate.exceeded(result.totals) else 'ok'}: limit {gate} more input tokens\n"
    if args.output:
        try:
            args.output.write_text(out, encoding="utf-8")
        except OSError as exc:
            print(f"promptls: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_ERROR
    else:
        sys.stdout.write(out)
    summary = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(markdown(result, gate, run_url=run_url) + "\n")
        except OSError as exc:
            print(f"promptls: cannot append to GITHUB_STEP_SUMMARY: {exc.strerror or exc}", file=sys.stderr)
    return EXIT_GATE if gate is not None and gate.exceeded(result.totals) else EXIT_OK


def _run_url() -> str | None:
    """A link to the CI run, when GitHub Actions says where it is."""
    server, repo, run_id = (os.environ.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                                     "GITHUB_RUN_ID"))
    if server.startswith("https://") and repo and run_id.isdigit():
        return f"{server}/{repo}/actions/runs/{run_id}"
    return None
