"""``jixiao`` in a subprocess: help, usage errors, and a real ingest into a temp warehouse."""

import argparse
import importlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import tomllib

from flows.app.cli import build_parser, main

PROJECT = Path(__file__).parents[3]
SEEDS = sorted((PROJECT / "tests" / "data" / "seeds").glob("*.txt"))


def jixiao(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run the command line's entry point (the console script's target) in a subprocess.

    Through ``python -m``: an installed console script may have been generated from another
    checkout; that the script's target exists is tested below.
    """
    command = [sys.executable, "-m", "flows.app.cli"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
        "PREFECT_HOME": str(cwd / "prefect-home"),
    }
    for name in ("PREFECT_API_URL", "PREFECT_LOGGING_LEVEL", "JIXIAO_DB"):
        env.pop(name, None)
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def completed_ingests_recorded() -> int:
    """Completed ingest flow runs on jixiao's local Prefect server (0 if none runs yet)."""
    record = Path(os.environ["JIXIAO_STATE_DIR"]) / "prefect-server.json"
    if not record.exists():
        return 0
    runs = httpx.post(
        f"{json.loads(record.read_text())['api_url']}/flow_runs/filter",
        json={"flows": {"name": {"any_": ["ingest"]}}},
        timeout=10,
    ).json()
    return sum(run["state"]["type"] == "COMPLETED" for run in runs)


def test_the_console_script_names_the_command_line_entry_point():
    with (PROJECT / "pyproject.toml").open("rb") as handle:
        target = tomllib.load(handle)["project"]["scripts"]["jixiao"]
    module_name, function_name = target.split(":")
    assert getattr(importlib.import_module(module_name), function_name) is main


def test_the_parser_is_built_without_prefect():
    """Prefect is imported once a command runs: help is instant, and its log level is set first."""
    code = "import sys; from flows.app.cli import build_parser; build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'fastapi', 'uvicorn')))"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_help_documents_exit_codes_and_every_command(tmp_path):
    result = jixiao("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "exit codes" in result.stdout
    for code in ("0", "1", "2", "3"):
        assert f"\n  {code}  " in result.stdout
    assert "ingest" in result.stdout


def test_every_subcommand_and_option_has_help():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    assert set(helps) == set(commands.choices)
    for name, subparser in commands.choices.items():
        assert helps[name] and subparser.description, name
        for action in subparser._actions:
            assert action.help, f"{name} {action.dest}"


def test_missing_path_is_a_usage_error(tmp_path):
    result = jixiao("ingest", "nowhere", "--db", "tmp/x.duckdb", cwd=tmp_path)
    assert result.returncode == 2
    assert "no such file or folder: nowhere" in result.stderr
    assert not (tmp_path / "tmp").exists()


def test_folder_without_supported_files_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    result = jixiao("ingest", "empty", "--db", "tmp/x.duckdb", cwd=tmp_path)
    assert result.returncode == 2
    assert "no supported files (" in result.stderr and ".pdf" in result.stderr
    assert "found in empty" in result.stderr


def test_ingest_end_to_end(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for seed in SEEDS:
        shutil.copyfile(seed, inbox / seed.name)
    (inbox / "corrupt.pdf").write_bytes(random.Random(3).randbytes(2048))
    (inbox / "notes.md").write_text("# notes\n")

    recorded_before = completed_ingests_recorded()

    first = jixiao("ingest", "inbox", "--db", "tmp/x.duckdb", cwd=tmp_path)

    assert first.returncode == 1, first.stderr
    assert (tmp_path / "tmp" / "x.duckdb").is_file()
    assert "warehouse: tmp/x.duckdb" in first.stdout
    assert (
        "3 files seen: 3 new, 0 skipped, 1 failed (1 more skipped: not a supported file type);"
        in first.stdout
    )
    assert "\n  skipped: inbox/notes.md: not a supported file type (.bmp .csv .doc" in first.stdout
    # each failure once on each stream: the progress line (stderr), the summary (stdout)
    for stream in (first.stdout, first.stderr):
        assert len([line for line in stream.splitlines() if "corrupt.pdf" in line]) == 1
    assert "\n  failed: inbox/corrupt.pdf: corrupt.pdf is" in first.stdout
    assert "[3/3] inbox/corrupt.pdf: failed" in first.stderr
    assert "notes.md" not in first.stderr
    assert "Traceback" not in first.stderr

    second = jixiao("ingest", "inbox", "--db", "tmp/x.duckdb", cwd=tmp_path)

    assert second.returncode == 0, second.stderr
    assert (
        "3 files seen: 0 new, 3 skipped, 0 failed (1 more skipped: not a supported file type); "
        "0 forms landed, 0 quarantined" in second.stdout
    )
    # no Prefect server configured: each run is recorded on jixiao's local one
    assert completed_ingests_recorded() == recorded_before + 2

    # beside it a warm worker server: the next run's worker reads the new file from it, in
    # the run's folder (the path is relative)
    state = Path(os.environ["JIXIAO_STATE_DIR"])
    deadline = time.monotonic() + 180
    while not any(state.glob("workers-*.sock")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert any(state.glob("workers-*.sock"))
    (inbox / "new.txt").write_text(SEEDS[0].read_text(encoding="utf-8") + "\n# new\n")

    third = jixiao("ingest", "inbox", "--db", "tmp/x.duckdb", cwd=tmp_path)

    assert third.returncode == 0, third.stderr
    assert "4 files seen: 1 new, 3 skipped, 0 failed" in third.stdout
    assert re.search(r"\] inbox/new\.txt: [1-9] forms?\b", third.stderr), third.stderr


def test_the_db_option_says_whether_the_command_writes(tmp_path):
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (actions,) = [
        a
        for a in commands.choices["quarantine"]._actions
        if isinstance(a, argparse._SubParsersAction)
    ]
    writers = {"ingest", "backfill", "serve", "release", "reject"}
    readers = {"sql", "export", "list", "show"}
    found = {}
    for name, command in [*commands.choices.items(), *actions.choices.items()]:
        for action in command._actions:
            if "--db" in action.option_strings:
                found[name] = action.help
    assert set(found) == writers | readers | {"review"}
    assert (
        found["review"].startswith("warehouse file to review") and "created" not in found["review"]
    )
    for name in writers:
        assert found[name].startswith("warehouse file to write") and "created" in found[name]
    for name in readers:
        assert found[name].startswith("warehouse file to read") and "created" not in found[name]
