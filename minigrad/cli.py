"""The ``minigrad`` command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="minigrad",
        description="minigrad: a tiny autodiff framework that draws and steps through its own backprop.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run the main job: the lectures' graphs, printed step by step and drawn")
    demo.add_argument("--out", default="minigrad-demo", help="folder to write pictures into (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "demo":
        return run_demo(Path(args.out))
    return 0


def run_demo(out):
    from . import lectures
    from .viz.walkthrough import walkthrough

    written = []
    for name, build in lectures.EXAMPLES.items():
        root, leaves = build()
        print(f"\n== {name}: {build.__doc__.splitlines()[0]}")
        written += walkthrough(root, leaves, out, name)
    print("\nwrote:")
    for path in written:
        print("  ", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
