"""Command line: ``next-steps <command>`` (or ``python -m next_steps.cli``).

- ``generate``: write a sample export (see :mod:`next_steps.generator`).
- ``summary --date D``: print the night's segment table and files written.
- ``paths``: print where inputs and outputs live with the current environment.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from datetime import date

from next_steps.config import Settings


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":
        from next_steps import generator

        generator.main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(
        prog="next-steps", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="write a sample export (see --help of it)")
    summary = commands.add_parser("summary", help="print a night's summary")
    summary.add_argument("--date", required=True, type=date.fromisoformat)
    commands.add_parser("paths", help="print the configured locations")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "summary":
        from next_steps.nightly import night_summary

        print(night_summary(args.date, settings))  # noqa: T201
    elif args.command == "paths":
        for item in fields(settings):
            print(f"{item.name:<20}{getattr(settings, item.name)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
