"""The ``jixiao`` command line. Prefect is imported only once a command runs, so help is instant."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from pathlib import Path

from extractors import SUPPORTED_SUFFIXES

SUFFIXES = " ".join(sorted(SUPPORTED_SUFFIXES))

EXIT_OK = 0
EXIT_FILES_FAILED = 1
EXIT_USAGE = 2
EXIT_RUN_FAILED = 3

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}  every file was read (forms may still be quarantined: see the quarantine view)
  {EXIT_FILES_FAILED}  some files could not be read: see the summary and source_files.error
  {EXIT_USAGE}  usage error, a path that does not exist, or no supported files found
  {EXIT_RUN_FAILED}  the run itself failed (warehouse in use by another program, internal error)
"""

DB_HELP = (
    "warehouse file to write (default: $JIXIAO_DB if set, else data/jixiao.duckdb "
    "under the current folder); created with its folder if missing"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one subcommand per task."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="FILE", help=DB_HELP)
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show Prefect's own log lines (hidden below WARNING by default)",
    )
    parser = argparse.ArgumentParser(
        prog="jixiao",
        description="Turn published Chinese fiscal performance forms (绩效自评表 / 绩效目标申报表) "
        "into a checked DuckDB warehouse.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ingest = commands.add_parser(
        "ingest",
        parents=[common],
        help="read files and folders of forms into the warehouse",
        description=textwrap.fill(
            f"Read files of the supported types ({SUFFIXES}); folders are searched "
            "recursively, hidden files skipped. Every form is checked and loaded. Files already "
            "ingested and unchanged are skipped; changed files replace their earlier forms. "
            "Forms failing an error-level check go to the quarantine view instead of forms. "
            "Progress goes to stderr, the summary to stdout.",
            width=80,
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="a file or a folder to ingest")
    ingest.set_defaults(run=run_ingest)
    return parser


def _quiet_logs(verbose: bool) -> None:
    """Keep Prefect's and GX's console logging at WARNING unless asked (before Prefect loads)."""
    level = "INFO" if verbose else "WARNING"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", level)
    # the temporary server's telemetry heartbeat races its own SQLite writes and logs tracebacks
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # its first start creates Prefect's database, which can exceed the 20 s default on a busy host
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if not verbose:
        # Great Expectations sets this logger to INFO when imported; a filter survives that
        logging.getLogger("great_expectations.data_context.types.base").addFilter(
            lambda record: record.levelno >= logging.WARNING
        )


def _error(message: str) -> None:
    print(f"jixiao: {message}", file=sys.stderr)


def run_ingest(args: argparse.Namespace) -> int:
    """Run the ingest flow and print its summary; returns the exit code."""
    missing = [path for path in args.paths if not Path(path).exists()]
    if missing:
        _error(
            f"no such file or folder: {', '.join(missing)} (check the spelling; relative paths "
            f"are taken from {Path.cwd()})"
        )
        return EXIT_USAGE
    _quiet_logs(args.verbose)

    from prefect.settings import get_current_settings

    from flows.ingest import discover_files, display_path, ingest, summary_line
    from warehouse import Warehouse, WarehouseBusy, default_db_path

    discovery = discover_files(args.paths)
    for path in discovery.ignored:
        _error(f"ignoring {path}: not a supported file type ({SUFFIXES})")
    if not discovery.files:
        _error(f"no supported files ({SUFFIXES}) found in {' '.join(args.paths)}")
        return EXIT_USAGE
    db = Path(args.db) if args.db else default_db_path()
    try:
        Warehouse.open(db).close()  # fail fast, before Prefect starts, if another program holds it
    except WarehouseBusy as error:
        _error(str(error))
        return EXIT_RUN_FAILED
    if get_current_settings().api.url is None:
        print(
            "jixiao: no Prefect server configured, starting a temporary one (about 15 s)",
            file=sys.stderr,
        )
    try:
        summary = ingest(paths=args.paths, db=str(db), progress=not args.verbose)
    except Exception as error:
        _error(f"the ingest run failed: {type(error).__name__}: {error}")
        if "ephemeral" in str(error):
            _error(
                "the temporary Prefect server did not come up: try again, or start one with "
                "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
            )
        else:
            _error("run again with --verbose for Prefect's log, or report this with the message")
        return EXIT_RUN_FAILED

    print(f"warehouse: {display_path(db)}")
    print(summary_line(summary))
    for outcome in summary.files:
        if outcome.status == "failed":
            print(f"  failed: {display_path(outcome.path)}: {outcome.message}")
    if summary.forms_quarantined:
        print("quarantined forms and their reasons: SELECT * FROM quarantine")
    return EXIT_FILES_FAILED if summary.files_failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jixiao`` console script."""
    args = build_parser().parse_args(argv)
    code = args.run(args)
    if argv is None:
        _silence_shutdown()
    return code


def _silence_shutdown() -> None:
    """Hide the native extensions' reference-leak report printed while the interpreter exits.

    DuckDB's bindings list objects still alive at exit (GX's SQL engine holds some); the report
    is noise to a user once the command's own output is complete.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


if __name__ == "__main__":
    sys.exit(main())
