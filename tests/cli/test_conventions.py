"""Conventions every command of the ``triage`` CLI keeps (issue 13): exit codes in --help,
-q/--quiet wherever a command prints more than its data."""
from __future__ import annotations

import argparse

from triage.cli.common import EXIT_CODES_HELP
from triage.cli.main import _parser

# Commands whose standard output is the data asked for: there is nothing to keep quiet.
DATA_COMMANDS = {"models list", "register list", "register show", "register history", "register stats"}


def leaf_commands() -> dict[str, argparse.ArgumentParser]:
    out = {}

    def walk(parser, prefix):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out[" ".join(prefix)] = parser
        for action in subs:
            for name, child in action.choices.items():
                walk(child, prefix + [name])

    walk(_parser(), [])
    return out


def test_every_command_but_the_data_commands_has_quiet():
    commands = leaf_commands()
    assert len(commands) >= 20 and DATA_COMMANDS <= set(commands)
    missing = sorted(name for name, p in commands.items() if name not in DATA_COMMANDS
                     and "--quiet" not in {o for a in p._actions for o in a.option_strings})
    assert missing == []


def test_every_help_lists_the_exit_codes():
    lacking = sorted(name for name, p in leaf_commands().items() if EXIT_CODES_HELP not in (p.epilog or ""))
    assert lacking == []
