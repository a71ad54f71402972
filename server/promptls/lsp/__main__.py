"""`python -m promptls.lsp [--mode offline|auto|api] [--tcp HOST:PORT]`: the server without the CLI."""

from __future__ import annotations

import argparse

from .server import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m promptls.lsp")
    parser.add_argument("--mode", choices=("auto", "api", "offline"))
    parser.add_argument("--tcp", metavar="HOST:PORT")
    parser.add_argument("--stdio", action="store_true")
    args = parser.parse_args()
    tcp = None
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        tcp = (host or "127.0.0.1", int(port))
    run(mode=args.mode, tcp=tcp)


if __name__ == "__main__":
    main()
