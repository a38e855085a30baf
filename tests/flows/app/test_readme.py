"""The README is the truth about the command line: every command and option the parser has is in
it, every ``jixiao …`` line it shows parses, and the exit codes it lists are the help's."""

import argparse
import re
import shlex
from pathlib import Path

import pytest

from flows.app.cli import build_parser
from flows.app.errors import EXIT_CODES

README = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
FENCED = re.compile(r"^```\w*\n(.*?)^```", re.MULTILINE | re.DOTALL)
IN_BLOCK = re.compile(r"^\s*(?:\S*/)?jixiao\s+([^#\n]*)", re.MULTILINE)
INLINE = re.compile(r"`(?:\S*/)?jixiao ([^`]*)`")


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command with its words (('quarantine', 'release'), parser), depth first."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                found += [(path + (name,), command), *commands(command, path + (name,))]
    return found


COMMANDS = commands(build_parser())


def shown_lines() -> list[list[str]]:
    """The words after ``jixiao`` of every command the README shows, in code blocks and in
    backticks."""
    texts = [m.group(1) for block in FENCED.findall(README) for m in IN_BLOCK.finditer(block)]
    texts += INLINE.findall(README)
    lines = []
    for text in texts:
        text = text.replace("…", "")
        try:
            lines.append(shlex.split(text))
        except ValueError:  # a quote closed on the next line
            lines.append(text.split())
    return lines


@pytest.mark.parametrize("words,command", COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_every_command_and_option_is_in_the_readme(words, command):
    assert f"jixiao {' '.join(words)}" in README
    missing = [
        option
        for action in command._actions
        for option in action.option_strings
        if option.startswith("--")
        and option != "--help"
        and not re.search(rf"{re.escape(option)}(?![\w-])", README)
    ]
    assert missing == []


def test_every_command_the_readme_shows_exists():
    known = {words: command for words, command in COMMANDS}
    shown = shown_lines()
    assert len(shown) > 20
    for words in shown:
        if not words or words[0].startswith("-"):
            continue  # `jixiao --help`
        path = tuple(words[:2]) if tuple(words[:2]) in known else tuple(words[:1])
        assert path in known, f"jixiao {' '.join(words)}"
        command = known[path]
        options = {o for action in command._actions for o in action.option_strings}
        for word in words[len(path) :]:
            option = word.split("=")[0]
            if option.startswith("--"):
                assert option in options, f"jixiao {' '.join(words)}: {option}"


def test_the_readme_lists_the_exit_codes_as_the_help_does():
    for line in EXIT_CODES.splitlines()[1:]:
        match = re.match(r"\s+(\d+)\s+(.*)", line)
        if match:
            code, meaning = match.groups()
            assert re.search(rf"\|\s*{code}\s*\|", README), f"exit code {code}"
            assert meaning.split(":")[0] in README, meaning
