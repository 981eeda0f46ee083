"""What every command of the ``triage`` CLI shares: exit codes, ``--model`` and ``--quiet``,
progress bars, and the one-line human summary.

Exit codes (as click and sqlite-utils use them):
    0  success
    1  bad input or data: a file that cannot be read, a missing column, a refused model ...
    2  usage: an unknown command or flag, a bad flag value (argparse's own code)
  130  interrupted (Ctrl-C or SIGTERM); nothing was half-written
Errors are one line on standard error starting with ``Error:``. The dispatcher
(``triage.cli.main``) applies these to every command: a handler returns ``EXIT_OK`` or raises
``TriageError``; it never prints a traceback."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EXIT_CODES_HELP = ("exit codes: 0 success, 1 bad input or data (one line 'Error: ...'), "
                   "2 usage error (unknown flag or bad value), 130 interrupted")


def model_arg(p) -> None:
    p.add_argument("--model", help="model version folder, or models folder with a CURRENT mark (default: the shipped model)")


def quiet_arg(p, help_: str = "no progress bar and no summary") -> None:
    p.add_argument("-q", "--quiet", action="store_true", help=help_)


def load_model(path):
    from triage import paths
    from triage.store.folder import load

    return load(path or paths.models_dir())


def show_progress(quiet: bool) -> bool:
    """A progress bar only for a person watching: not with --quiet, not into a pipe or a log."""
    return not quiet and sys.stderr.isatty()


class _NoBar:
    """What ``progress_bar`` gives when nobody watches: the same calls, nothing shown, no tqdm import."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def progress_bar(quiet: bool, total: int | None = None, unit: str = " rows", desc: str | None = None,
                 mininterval: float = 0.5):
    """A tqdm bar on standard error, shown only when ``show_progress(quiet)`` (otherwise a bar
    that does nothing); ``bar.update(n)``, ``bar.set_postfix_str(text)``, usable in ``with``."""
    if not show_progress(quiet):
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, mininterval=mininterval, leave=False)


@contextlib.contextmanager
def progress_steps(quiet: bool, total: int, what: str):
    """A progress bar counted in named steps; yields ``step(name)``, which shows the name of the
    step just done and advances the bar by one (nothing is shown when nobody watches)."""
    with progress_bar(quiet, total=total, unit="step", desc=what, mininterval=0.1) as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        yield step


def quietly(handler):
    """A handler whose confirmation lines on standard output are dropped with ``--quiet``
    (errors still reach standard error as one ``Error:`` line, and the exit code tells the
    outcome). For commands whose output is a confirmation, not data."""
    import functools
    import io

    @functools.wraps(handler)
    def run(a) -> int:
        if not getattr(a, "quiet", False):
            return handler(a)
        with contextlib.redirect_stdout(io.StringIO()):
            return handler(a)

    return run


def say(line: str, quiet: bool = False) -> None:
    """A human line on standard error (standard output may carry the data)."""
    if not quiet:
        print(line, file=sys.stderr)


def with_exit_codes(parser) -> None:
    """Append ``EXIT_CODES_HELP`` to the --help epilog of ``parser`` and of every command under it."""
    import argparse

    if EXIT_CODES_HELP not in (parser.epilog or ""):
        parser.epilog = f"{parser.epilog}\n\n{EXIT_CODES_HELP}" if parser.epilog else EXIT_CODES_HELP
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                with_exit_codes(sub)


@contextlib.contextmanager
def sigterm_interrupts():
    """Inside the block, SIGTERM stops the command as Ctrl-C does (``KeyboardInterrupt``):
    workers are shut down, temporary files removed, exit code 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def one_line(message: object) -> str:
    return " ".join(str(message).split("\n")).strip()


def positive(value: str, expected: str = "a whole number of at least 1") -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected {expected}, found {value!r}")
    return n
