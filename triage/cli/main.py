"""The ``triage`` command: the dispatcher, a thin door into the library.

Each command lives in its own module (``add_commands(subparsers, formatter_class)``, a
handler set with ``set_defaults(func=...)``), parses its arguments, calls one library
function and prints the result. Here every command gets the conventions of
``triage.cli.common``: exit code 2 for usage errors, 1 for bad input or data
(``TriageError``, one line ``Error: ...``), 130 when interrupted (Ctrl-C or SIGTERM), the
exit codes in every --help, no traceback unless ``TRIAGE_DEBUG`` is set."""
from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from triage.cli.common import (EXIT_DATA, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, load_model,  # noqa: F401
                               model_arg, one_line, sigterm_interrupts, with_exit_codes)
from triage.errors import TriageError


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="triage", formatter_class=fmt,
        description="Sort and route opinions collected by a deputy liaison station.\n"
                    "联络站意见分类与交办建议。",
        epilog="Run 'triage COMMAND --help' for a command's options and an example.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    for name in _COMMAND_MODULES:  # further command groups, each in its own module
        import_module(name).add_commands(sub, fmt)
    with_exit_codes(p)
    return p


# Modules that add commands: each has add_commands(subparsers, formatter_class) and sets
# a handler with ``parser.set_defaults(func=handler)``; a handler takes the parsed
# arguments and returns an exit code.
_COMMAND_MODULES: tuple[str, ...] = ("triage.cli.classify", "triage.cli.train", "triage.cli.evaluate", "triage.cli.models", "triage.cli.serve",
                                     "triage.cli.register", "triage.cli.screen")


def main(argv=None) -> int:
    parser = _parser()
    try:
        a = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage error
        return EXIT_USAGE if exc.code else EXIT_OK
    if a.version:
        from importlib.metadata import version

        print(version("station-triage"))
        return EXIT_OK
    if not a.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        with sigterm_interrupts():
            return a.func(a)
    except TriageError as exc:
        print(f"Error: {one_line(exc)}", file=sys.stderr)
        return EXIT_DATA
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("Error: interrupted; no output was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line for the user, the trace only on request
        if os.environ.get("TRIAGE_DEBUG"):
            raise
        print(f"Error: unexpected {type(exc).__name__} (set TRIAGE_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_DATA


def run() -> None:
    sys.exit(main())
