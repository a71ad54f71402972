"""`python -m promptls.lsp [--mode offline|auto|api] [--tcp HOST:PORT]`: the server without the CLI."""

from __future__ import annotations

from ..safepath import drop_cwd

drop_cwd()  # before anything else is imported: `-m` put the current folder (maybe a checkout) first

import argparse  # noqa: E402

from ..model import MODES  # noqa: E402
from .server import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m promptls.lsp")
    parser.add_argument("--mode", choices=MODES)
    parser.add_argument("--tcp", metavar="HOST:PORT")
    parser.add_argument("--stdio", action="store_true")
    args = parser.parse_args()
    tcp = None
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        tcp = (host or "127.0.0.1", int(port))
    raise SystemExit(run(mode=args.mode, tcp=tcp))


if __name__ == "__main__":
    main()
