"""MkDocs hook: the command-line reference, generated from ``--help`` at build time.

The page ``reference/cli.md`` is not a file in the repository: on every build this hook
builds the ``triage`` parser in-process (``triage.cli.main``), walks its commands and
sub-commands, and adds the page with the help text of each one. A command added, renamed
or given a new flag appears in the guide on the next build; the reference cannot drift.

mkdocs.yml names this file under ``hooks:``; tests/project/test_docs.py builds the site
with ``--strict`` and checks that every command the parser defines is on the page."""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

PAGE = "reference/cli.md"
WIDTH = 100  # columns of the help text, fixed so the page does not depend on the terminal
PARSER_FACTORIES = ("build_parser", "make_parser", "parser", "_parser")  # tried in this order

INTRO = """# Command-line reference / 命令行参考

This page is generated from the program's own `--help` each time the guide is built
(`docs/hooks/cli_reference.py`), so it always matches the installed commands. Type
`triage COMMAND --help` for the same text in a terminal.

本页在每次构建文档时由程序自身的 `--help` 自动生成（`docs/hooks/cli_reference.py`），
因此始终与实际命令一致。在终端中输入 `triage 命令 --help` 可看到相同内容。

"""


def find_parser(module=None) -> argparse.ArgumentParser:
    """The ``triage`` parser, built by the first factory function ``triage.cli.main`` has."""
    if module is None:
        from importlib import import_module

        module = import_module("triage.cli.main")
    for name in PARSER_FACTORIES:
        factory = getattr(module, name, None)
        if callable(factory):
            parser = factory()
            if isinstance(parser, argparse.ArgumentParser):
                return parser
    raise RuntimeError(f"triage.cli.main has no parser factory: expected one of {', '.join(PARSER_FACTORIES)} "
                       "returning an argparse.ArgumentParser")


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each direct sub-command, in the parser's order."""
    out, seen = [], set()
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            if id(sub) in seen:  # an alias of a command already listed
                continue
            seen.add(id(sub))
            out.append((name, helps.get(name, ""), sub))
    return out


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("triage",), help_: str = ""):
    """Every command as (path, one-line help, parser), depth first, the root first."""
    yield path, help_ or parser.description or "", parser
    for name, sub_help, sub in _subcommands(parser):
        yield from walk(sub, path + (name,), sub_help)


@contextmanager
def _columns(width: int):
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def _anchor(path: tuple[str, ...]) -> str:
    return "-".join(path)


def exit_codes() -> list[str]:
    """The exit codes as the CLI itself states them (``triage.cli.common.EXIT_CODES_HELP``)."""
    try:
        from triage.cli.common import EXIT_CODES_HELP
    except ImportError:
        return []
    return ["Exit codes, as `triage` states them / 退出码（0 成功，1 输入或数据有误，2 用法错误，130 被中断）:", "",
            "```text", textwrap.fill(EXIT_CODES_HELP, 88), "```", ""]


def render(parser: argparse.ArgumentParser | None = None) -> str:
    """The reference page as Markdown."""
    parser = parser or find_parser()
    commands = list(walk(parser))
    lines = [INTRO, *exit_codes(), "## Commands / 命令一览", "", "| command 命令 | what it does 作用 |", "|---|---|"]
    for path, help_, _ in commands[1:]:
        summary = " ".join(help_.split()).replace("|", "\\|")
        lines.append(f"| [`{' '.join(path)}`](#{_anchor(path)}) | {summary} |")
    lines.append("")
    with _columns(WIDTH):
        for path, _, sub in commands:
            level = "#" * min(len(path) + 1, 4)
            lines += [f"{level} `{' '.join(path)}` {{#{_anchor(path)}}}", "", "```text",
                      sub.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


# --- the MkDocs hook events ---------------------------------------------------------------
def on_config(config, **kwargs):
    root = str(Path(config["config_file_path"]).resolve().parent)
    if root not in sys.path:  # build the reference of this checkout's commands
        sys.path.insert(0, root)
    return config


def on_files(files, config, **kwargs):
    from mkdocs.structure.files import File

    existing = files.get_file_from_path(PAGE)
    if existing is not None:
        files.remove(existing)
    files.append(File.generated(config, PAGE, content=render()))
    return files
