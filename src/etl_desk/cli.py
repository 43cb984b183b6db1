"""The ``etl-desk`` command line.

``etl-desk`` with no arguments (or with a data file) opens the window;
``etl-desk SUBCOMMAND ...`` runs the analysis from a terminal using
:mod:`etl_desk.core` only (Qt is imported only for the window, ``--screenshot``
and ``--self-test``). Bad arguments or input: exit status 2 and one line on stderr.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from etl_desk import __version__
from etl_desk.core.data.memory import prefer_system_allocator

#: subcommand name -> module under etl_desk.commands with add_parser() and run()
SUBCOMMANDS = {
    "generate": "etl_desk.commands.generate",
    "analyze": "etl_desk.commands.analyze",
    "check": "etl_desk.commands.check",
}

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or bad input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, no usage dump
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="etl-desk", description="ETL Desk: cost, failures and duration of ETL job runs, "
                "a business case for five remedies, and an Excel workbook for finance. "
                "With no arguments, opens the window.")
    p.add_argument("--version", action="version", version=f"etl-desk {__version__}")
    p.add_argument("--screenshot", metavar="PNG", nargs="+",
                   help="--screenshot PNG [INPUT]: render the main window with INPUT (default: the "
                        "case-study data) to PNG, offscreen, and exit")
    p.add_argument("--self-test", action="store_true", help="check the installation end to end and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, modname in SUBCOMMANDS.items():
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:
                raise
            continue
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    prefer_system_allocator()  # before any import brings pyarrow in (peak memory, issue 15 item 8)
    # `etl-desk` and `etl-desk FILE` open the window.
    if not argv:
        return gui_main(argv)
    if len(argv) == 1 and not argv[0].startswith("-") and argv[0] not in SUBCOMMANDS:
        if os.path.exists(argv[0]):
            return gui_main(argv)
        print(f"etl-desk: {argv[0]!r} is neither a command ({', '.join(SUBCOMMANDS)}) nor a file (see --help)",
              file=sys.stderr)
        return EXIT_USAGE
    from etl_desk.core.errors import DataError

    try:
        parser = build_parser()
        if argv[0] == "--screenshot":
            rest, size = list(argv[1:]), (1600, 1000)
            if "--size" in rest:
                i = rest.index("--size")
                try:
                    w, h = (int(x) for x in rest[i + 1].lower().split("x"))
                    size = (w, h)
                except (IndexError, ValueError):
                    raise UsageError("etl-desk: --size takes WIDTHxHEIGHT, e.g. 1366x768") from None
                del rest[i:i + 2]
            if len(rest) not in (1, 2):
                raise UsageError("etl-desk: --screenshot takes PNG|FOLDER [INPUT] [--size WxH]")
            from etl_desk.ui.window.app import screenshot

            return screenshot(rest[0], rest[1] if len(rest) == 2 else None, size)
        args = parser.parse_args(argv)
        if args.self_test:
            from etl_desk.selftest import run_self_test

            return run_self_test()
        if not args.command:
            parser.error("no command given")
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except DataError as exc:
        print(f"etl-desk: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `etl-desk analyze ... | head`: the reader left, nothing to report
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        print("etl-desk: interrupted", file=sys.stderr)
        return 130
    except (OSError, MemoryError) as exc:
        print(f"etl-desk: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def no_display_reason() -> str | None:
    """Why the window cannot open here (a Linux terminal without a display), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); use the command line "
            "(etl-desk --help), or set QT_QPA_PLATFORM=offscreen for --screenshot / --self-test")


def gui_main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    prefer_system_allocator()
    reason = no_display_reason()
    if reason:
        print(f"etl-desk: {reason}", file=sys.stderr)
        return EXIT_USAGE
    from etl_desk.ui.window.app import run_app

    return run_app(argv[0] if argv else None)
