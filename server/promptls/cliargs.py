"""The command line's arguments: every subcommand, its options and their help texts.

Kept apart from cli.py (which runs the commands) so the whole interface reads in one place.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import __version__


class _Version(argparse.Action):
    """`--version`, naming the tokenizer path (native or pure) only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from .counting.tokenizer import describe

        print(f"promptls {__version__}\n{describe()}")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="promptls", description="What a Claude prompt costs, before you send it.")
    p.add_argument("--version", action=_Version, nargs=0, help="show the version and which tokenizer counts offline")
    sub = p.add_subparsers(dest="command", required=True, metavar="{serve,count,check,diff,schema}")

    serve = sub.add_parser("serve", help="run the language server (stdio)",
                           description="Run the promptls language server for an editor (stdio by default).")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (debugging)")
    serve.add_argument("--stdio", action="store_true", help="use stdio (the default; accepted for editors)")
    serve.add_argument("--mode", choices=("auto", "api", "offline"), help="override the counting mode")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("paths", nargs="*", type=Path, default=[Path(".")], help="prompt files or folders")
        sp.add_argument("--root", type=Path, help="project root (default: nearest promptls.toml, pyproject.toml "
                        "or .git); attachments must stay inside it")
        sp.add_argument("--mode", choices=("auto", "api", "offline"),
                        help="auto: exact with ANTHROPIC_API_KEY, else offline (default from config: auto)")
        sp.add_argument("--model", help="default model for files that name none or a non-Claude model")
        sp.add_argument("-v", "--verbose", action="store_true", help="also show hints and estimator accuracy")

    count = sub.add_parser("count", help="per-part token table for prompt files",
                           description="Count the input tokens of prompt files, part by part: exact with "
                                       "ANTHROPIC_API_KEY, else a labelled offline estimate (≈).")
    common(count)
    count.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: a table per file (default); json: the stable report documented in the README")
    count.add_argument("--compare-models", metavar="A,B,C",
                       help="also count each file on these models, each with its own tokenizer (`current`: "
                            "config compare_models, else the current lineup)")

    check = sub.add_parser("check", help="exit 1 when over budget, 2 when invalid (for CI)",
                           description="Gate prompt files in CI: exit 0 when all is well, 1 when a file is over "
                                       "a budget or the context window, 2 when a file is invalid.")
    common(check)
    check.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                       help="text: one line per finding (default); github: workflow annotations; sarif: for "
                            "code scanning; json: the stable report")
    check.add_argument("--show-hints", action="store_true", help="print hint-level findings too")
    check.add_argument("--show-all", action="store_true",
                       help="print every instance of a finding that many files share (text and github formats "
                            "print one summary line for them)")
    check.add_argument("--exact-parts", action="store_true",
                       help="with the API, attribute every part exactly (about 1 request per part instead of 1 per "
                            "file; budgets only need totals)")

    from .diff.command import add_parser as add_diff_parser

    add_diff_parser(sub, common)

    schema = sub.add_parser("schema", help="print the JSON Schema of prompt files",
                            description="Print (or write) the JSON Schema of prompt files, for YAML editors.")
    schema.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    return p
