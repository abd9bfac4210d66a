"""The ``deepfin`` command line: ``deepfin demo NAME`` runs one of the seeds' experiments."""

from __future__ import annotations

import argparse
import sys

from deepfin import demos


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepfin", description="Neural networks for finance, on NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run one of the seeds' experiments", description="Run one of the seeds' experiments: it "
        "trains, prints its figures and writes its plots under runs/NAME/ (or --out).",
        epilog="`deepfin demo --list` lists the demos; `deepfin demo NAME --help` explains one.")
    demo.add_argument("--list", action="store_true", help="list the demos and what each shows")
    names = demo.add_subparsers(dest="name", metavar="NAME", title="demos")
    for name in demos.NAMES:
        module = demos.module(name)
        sub = names.add_parser(name, help=demos.summary(name), description=module.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--out", metavar="DIR", help=f"folder for the plots (default: runs/{name})")
        sub.add_argument("--quick", action="store_true",
                         help="a smaller run where the demo has one (what the tests run)")
        if hasattr(module, "add_arguments"):
            module.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.list or args.name is None:
        width = max(map(len, demos.NAMES))
        print("deepfin demos (run one with `deepfin demo NAME`, help with `deepfin demo NAME --help`):")
        for name in demos.NAMES:
            print(f"  {name:<{width}}  {demos.summary(name)}")
        return 0
    options = {key: value for key, value in vars(args).items() if key not in ("command", "list", "name")}
    demos.run(args.name, **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
