"""What every command of the ``triage`` CLI shares: exit codes, ``--model`` and ``--quiet``,
progress bars, and the one-line human summary.

Exit codes (as click and sqlite-utils use them):
    0  success
    1  bad input or data: a file that cannot be read, a missing column, a refused model ...
    2  usage: an unknown command or flag, a bad flag value (argparse's own code)
  130  interrupted (Ctrl-C); nothing was half-written
Errors are one line on standard error starting with ``Error:``."""
from __future__ import annotations

import sys

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EXIT_CODES_HELP = ("exit codes: 0 success, 1 bad input or data (one line 'Error: ...'), "
                   "2 usage error (unknown flag or bad value), 130 interrupted")


def model_arg(p) -> None:
    p.add_argument("--model", help="model version folder, or models folder with a CURRENT mark (default: the shipped model)")


def quiet_arg(p) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")


def load_model(path):
    from triage import paths
    from triage.store.folder import load

    return load(path or paths.models_dir())


def show_progress(quiet: bool) -> bool:
    """A progress bar only for a person watching: not with --quiet, not into a pipe or a log."""
    return not quiet and sys.stderr.isatty()


def say(line: str, quiet: bool = False) -> None:
    """A human line on standard error (standard output may carry the data)."""
    if not quiet:
        print(line, file=sys.stderr)
