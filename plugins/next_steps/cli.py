"""Command line: ``next-steps <command>`` (or ``python -m next_steps.cli``).

- ``generate``: write a sample export (see :mod:`next_steps.sample.generator`).
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
    """Run a command; a bad command line gets the usage line and one error line on
    stderr and exit status 2, never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":
        try:
            from next_steps.sample import generator
        except ModuleNotFoundError:  # the production image leaves the sample data out
            print(  # noqa: T201 - the one error line of a bad command
                "next-steps generate: the sample generator is not part of this installation "
                "(the production image leaves plugins/next_steps/sample/ out); run it from a "
                "checkout of the repository",
                file=sys.stderr,
            )
            return 2
        return generator.main(argv[1:], prog="next-steps generate")
    parser = argparse.ArgumentParser(
        prog="next-steps", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="write a sample export (see --help of it)")
    summary = commands.add_parser("summary", help="print a night's summary")
    summary.add_argument("--date", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    commands.add_parser("paths", help="print the configured locations")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a NEXT_STEPS_* variable that does not parse
        parser.error(str(exc))
    if args.command == "summary":
        from next_steps.nightly import night_summary

        if not settings.warehouse.exists():
            summary.error(f"no warehouse at {settings.warehouse}: no night has been run there")
        print(night_summary(args.date, settings))  # noqa: T201
    elif args.command == "paths":
        print(format_paths(settings))  # noqa: T201
    return 0


def format_paths(settings: Settings) -> str:
    """One line per setting: its name, at least two spaces, its value (``(none)`` when
    empty), the values in one column whatever the longest name."""
    names = [item.name for item in fields(settings)]
    width = max(map(len, names)) + 2
    return "\n".join(
        f"{name:<{width}}{value}"
        for name in names
        if (value := str(getattr(settings, name)) or "(none)")
    )


if __name__ == "__main__":
    sys.exit(main())
