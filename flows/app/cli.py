"""The ``jixiao`` command line. Prefect is imported only once a command runs, so help is instant."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from extractors import SUPPORTED_SUFFIXES
from flows.app.errors import (
    EXIT_CODES,
    EXIT_FILES_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Refused,
    UsageError,
    explain,
)

if TYPE_CHECKING:
    from flows.options import RunOptions
    from flows.summary import RunSummary

SUFFIXES = " ".join(sorted(SUPPORTED_SUFFIXES))
MIN_FREE_BYTES = 64 * 2**20  # room a run needs beyond a copy of the warehouse

WRITE_DB_HELP = (
    "warehouse file to write (default: $JIXIAO_DB if set, else data/jixiao.duckdb "
    "under the current folder); created with its folder if missing"
)
READ_DB_HELP = (
    "warehouse file to read (default: $JIXIAO_DB if set, else data/jixiao.duckdb "
    "under the current folder); it must exist"
)
REVIEW_DB_HELP = (
    "warehouse file to review (default: $JIXIAO_DB if set, else data/jixiao.duckdb under the "
    "current folder); it must exist: the pages read it read-only, a decision is written under "
    "the writer's lock"
)
ELSEWHERE = {  # how to write somewhere else, by command
    "export": "choose another folder with --parquet DIR",
    "sql": "copy the warehouse somewhere readable and pass it with --db FILE",
}
ELSEWHERE_DEFAULT = "choose another warehouse file with --db FILE"
# how a person resumes, by command, after Ctrl-C
INTERRUPTED = {
    "ingest": "interrupted: the warehouse is as it was before this run, whose files loaded so "
    "far are kept aside; run the same command again to resume",
}
INTERRUPTED["backfill"] = INTERRUPTED["ingest"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one subcommand per task."""
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show Prefect's own log lines (hidden below WARNING by default)",
    )
    reader = argparse.ArgumentParser(add_help=False, parents=[verbose])
    reader.add_argument("--db", metavar="FILE", help=READ_DB_HELP)
    common = argparse.ArgumentParser(add_help=False, parents=[verbose])
    common.add_argument("--db", metavar="FILE", help=WRITE_DB_HELP)
    common.add_argument(
        "--wait",
        action="store_true",
        help="if another jixiao run is writing the warehouse, wait for it instead of stopping "
        "(same as JIXIAO_WAIT=1)",
    )
    parser = argparse.ArgumentParser(
        prog="jixiao",
        description="Turn published Chinese fiscal performance forms (绩效自评表 / 绩效目标申报表) "
        "into a checked DuckDB warehouse.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    pipeline = _pipeline_options()
    ingest = commands.add_parser(
        "ingest",
        parents=[common, pipeline],
        help="read files, folders and URLs of forms into the warehouse",
        description=textwrap.fill(
            f"Read files of the supported types ({SUFFIXES}); folders are searched "
            "recursively, hidden files skipped; http(s) URLs are downloaded (retried, "
            "size-capped, not fetched again when unchanged) and stored under the URL. Every "
            "form is checked and loaded. Files already ingested and unchanged are skipped; "
            "changed files replace their earlier forms. Forms failing an error-level check go "
            "to the quarantine view instead of forms. Progress goes to stderr, the summary to "
            "stdout, an HTML run report to reports/ beside the warehouse.",
            width=80,
        ),
    )
    ingest.add_argument(
        "paths", nargs="*", metavar="PATH", help="a file, a folder or an http(s) URL to ingest"
    )
    _add_source_options(ingest)
    ingest.set_defaults(run=run_ingest)
    _add_quarantine(commands, common, reader)
    _add_review(commands, verbose)
    _add_backfill(commands, common, pipeline)
    _add_serve(commands, common, pipeline)
    _add_export(commands, reader)
    _add_sql(commands, reader)
    _add_debug(commands)
    for command in _commands(parser):
        command.epilog = EXIT_CODES
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command and subcommand under ``parser`` (quarantine list, …), depth first."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                found += [command, *_commands(command)]
    return found


def _add_quarantine(
    commands: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    reader: argparse.ArgumentParser,
) -> None:
    quarantine = commands.add_parser(
        "quarantine",
        help="review forms held back by a failed check: list, show, release, reject",
        description=textwrap.fill(
            "Forms failing an error-level check are kept out of the forms view until reviewed. "
            "`list` shows them, `show` prints one form's values beside its failed checks and "
            "where they were printed, `release` lets a form into forms, `reject` keeps it out "
            "for good. Every decision is recorded with who, when and why (the reviews view).",
            width=80,
        ),
    )
    actions = quarantine.add_subparsers(
        dest="action", metavar="ACTION", required=True, help="list, show, release or reject"
    )
    listing = actions.add_parser(
        "list",
        parents=[reader],
        help="list the quarantined forms and why they were held back",
        description="One line per quarantined form: its id, year, name, reasons and source.",
    )
    listing.add_argument(
        "--all", action="store_true", help="include forms already rejected by a reviewer"
    )
    show = actions.add_parser(
        "show",
        parents=[reader],
        help="print a form's values beside its failed checks",
        description=textwrap.fill(
            "Print the form's failed checks, each beside the values it concerns and the page "
            "and cell box (in points) they came from; with --png, draw those cells on the page.",
            width=80,
        ),
    )
    show.add_argument("form_id", metavar="FORM_ID", help="a form id from `jixiao quarantine list`")
    show.add_argument(
        "--png",
        metavar="FILE",
        help="also write a PNG of the page region with the offending cells outlined "
        "(PDF sources; FILE-p<page>.png per page when they span several)",
    )
    for action, verb in (("release", "let the form into forms"), ("reject", "keep it out")):
        review = actions.add_parser(
            action,
            parents=[common],
            help=f"{verb}, with a note saying why",
            description=f"{verb.capitalize()}; the decision is recorded with who, when and why.",
        )
        review.add_argument("form_id", metavar="FORM_ID", help="the quarantined form's id")
        review.add_argument("--note", required=True, help="why: recorded with the decision")
        review.add_argument("--by", help="who decides (default: the logged-in user)")
    quarantine.set_defaults(run=run_quarantine)


def _add_review(commands: argparse._SubParsersAction, verbose: argparse.ArgumentParser) -> None:
    from flows.summary import REVIEW_PORT

    review = commands.add_parser(
        "review",
        parents=[verbose],
        help="review quarantined forms in the browser, on http://127.0.0.1:PORT",
        description=textwrap.fill(
            "Serve the review pages on this machine only (127.0.0.1): the quarantined forms, "
            "filtered by department, year, family and failed check; each form's source page "
            "with the failing cells outlined, beside the values read and its failed checks; "
            "Release or Reject with a note, recorded as by `jixiao quarantine` (under the same "
            "lock as an ingest). Landed forms can be browsed the same way. Ctrl-C stops it.",
            width=80,
        ),
    )
    review.add_argument("--db", metavar="FILE", help=REVIEW_DB_HELP)
    review.add_argument(
        "--port",
        type=_port,
        default=REVIEW_PORT,
        metavar="N",
        help=f"the port (default {REVIEW_PORT}, which run reports link to; 0: any free one)",
    )
    review.add_argument("--by", metavar="NAME", help="who decides (default: the logged-in user)")
    review.set_defaults(run=run_review)


def run_review(args: argparse.Namespace) -> int:
    """Serve the review pages until interrupted."""
    import getpass

    from flows.app.web import serve
    from warehouse import Warehouse

    db = _db(args)
    Warehouse.open(db, read_only=True).close()  # a missing or foreign file: one line now
    try:
        serve(db, args.port, args.by or getpass.getuser(), args.verbose)
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise Refused(
            f"port {args.port} on 127.0.0.1 is in use (another jixiao review?): choose another "
            "with --port N, or --port 0 for any free one"
        ) from error
    return EXIT_OK


def run_quarantine(args: argparse.Namespace) -> int:
    """Run one ``jixiao quarantine`` action; returns the exit code."""
    import getpass

    from flows.app.review import list_forms, page_images, show
    from warehouse import Warehouse

    db = _db(args)
    writing = args.action in ("release", "reject")
    try:
        with Warehouse.open(
            db, read_only=not writing, wait=args.wait if writing else None
        ) as warehouse:
            if args.action == "list":
                forms = list_forms(warehouse, include_rejected=args.all)
                for form_id, name, year, reasons, rejected, source in forms:
                    mark = " [rejected]" if rejected else ""
                    print(f"{form_id}  {year or '—'}  {name or '—'}{mark}")
                    print(f"    {', '.join(reasons) or 'no error-level check'}  ({source})")
                print(f"{len(forms)} quarantined form{'s' if len(forms) != 1 else ''}")
                if forms:
                    print(f"to review them in the browser: jixiao review --db {db}")
            elif args.action == "show":
                print(show(warehouse, args.form_id))
                if args.png:
                    for path in page_images(warehouse, args.form_id, Path(args.png)):
                        print(f"wrote {path}")
            else:
                by = args.by or getpass.getuser()
                decision = {"release": "released", "reject": "rejected"}[args.action]
                warehouse.review(args.form_id, decision, args.note, by)
                print(f"{args.form_id} {decision} by {by}: {args.note.strip()}")
    except (LookupError, ValueError) as error:
        raise UsageError(str(error)) from error
    return EXIT_OK


def _quiet_logs(verbose: bool) -> None:
    """Keep Prefect's and GX's console logging at WARNING unless asked (before Prefect loads)."""
    level = "INFO" if verbose else "WARNING"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", level)
    if not verbose:
        # Great Expectations sets this logger to INFO when imported; a filter survives that
        logging.getLogger("great_expectations.data_context.types.base").addFilter(
            lambda record: record.levelno >= logging.WARNING
        )


def _quiet_console(verbose: bool) -> None:
    """Keep off the console what jixiao says itself (once Prefect has set up its logging): a
    failed run's exception and Prefect's line on the run's end (jixiao says it in one line) and
    the lines already printed as progress. Prefect's run log keeps them all."""
    if verbose:
        return
    from flows.progress import SHOWN_ON_CONSOLE

    def keep(record: logging.LogRecord) -> bool:
        if getattr(record, SHOWN_ON_CONSOLE, False) or record.exc_info:
            return False
        run_log = record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))
        return not (run_log and record.levelno >= logging.ERROR)

    for handler in logging.getLogger().handlers:
        handler.addFilter(keep)


def _error(message: str) -> None:
    print(f"jixiao: {message}", file=sys.stderr)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0–65535, not {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _pipeline_options() -> argparse.ArgumentParser:
    """Options shared by ingest, backfill and serve: how files are read and reported."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="worker processes reading files and checking their forms in parallel (default: 1 "
        "for ingest and serve, every core for backfill; with --task-runner dask, how many check "
        "tasks a chunk's forms are split into)",
    )
    options.add_argument(
        "--chunk",
        type=_positive_int,
        default=100,
        metavar="FILES",
        help="files per chunk: each worker reads its share and checks its forms in one call, "
        "then the chunk is loaded in one transaction (default 100); an interruption loses at "
        "most two chunks of reading",
    )
    options.add_argument(
        "--timeout",
        type=_positive_float,
        default=300.0,
        metavar="SECONDS",
        help="stop reading a file after this long and record it as failed (default 300)",
    )
    options.add_argument(
        "--task-runner",
        choices=("process", "dask"),
        default="process",
        help="read in local worker processes (default), or on a Dask cluster through "
        "Prefect's DaskTaskRunner (needs --address)",
    )
    options.add_argument(
        "--address",
        metavar="tcp://HOST:PORT",
        help="the Dask scheduler to read on, with --task-runner dask",
    )
    options.add_argument(
        "--report-dir",
        metavar="DIR",
        help="where each run's HTML report goes (default: reports/ beside the warehouse)",
    )
    options.add_argument(
        "--no-report", action="store_true", help="write no HTML report for this run"
    )
    options.add_argument(
        "--retry-failed",
        action="store_true",
        help="read files recorded as failed again (after raising --timeout, say)",
    )
    options.add_argument(
        "--reread",
        action="store_true",
        help="read again the files an older version of the readers read (after an upgrade): "
        "their forms are replaced, review decisions on forms whose content did not change kept",
    )
    return options


def _add_source_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--manifest",
        metavar="FILE",
        help="a text file listing one path or URL per line (# comments; relative paths from "
        "the manifest's folder)",
    )
    command.add_argument(
        "--max-download-mb",
        type=_positive_float,
        default=200.0,
        metavar="MB",
        help="refuse downloads larger than this (default 200)",
    )


def _add_backfill(
    commands: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    pipeline: argparse.ArgumentParser,
) -> None:
    backfill = commands.add_parser(
        "backfill",
        parents=[common, pipeline],
        help="load an archive of past years, in parallel, resumably",
        description=textwrap.fill(
            "Load an archive of past years: a folder of year folders (2019/, 2019年/, "
            "2019年度/ at any depth) or a manifest listing paths and URLs. A file's year is "
            "the innermost such folder in its path or URL; --from/--to select on it and then "
            "leave out files without one. Files are read by parallel worker processes (or on "
            "a Dask cluster) in chunks, oldest year first, under a progress bar with ETA. "
            "Interrupted? Run the same command again: loaded files are never read twice. "
            "Prints a per-year summary at the end.",
            width=80,
        ),
    )
    backfill.add_argument(
        "source", metavar="SOURCE", help="the archive: a folder of year folders, or a manifest"
    )
    backfill.add_argument(
        "--from", dest="from_year", type=int, metavar="YEAR", help="first year to load"
    )
    backfill.add_argument("--to", dest="to_year", type=int, metavar="YEAR", help="last year")
    backfill.set_defaults(run=run_backfill)


def _add_serve(
    commands: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    pipeline: argparse.ArgumentParser,
) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[common, pipeline],
        help="run the ingest nightly on a schedule (needs a Prefect server)",
        description=textwrap.fill(
            "Register the nightly deployment with the Prefect server at PREFECT_API_URL and "
            "run it on its cron schedule until stopped (Ctrl-C). Start the server first, in "
            "another terminal: `prefect server start`, then `export "
            "PREFECT_API_URL=http://127.0.0.1:4200/api`. Each run ingests the inbox folder "
            "(and the manifest, if given) and leaves a summary artifact and an HTML report.",
            width=80,
        ),
    )
    serve.add_argument(
        "inbox",
        nargs="?",
        metavar="INBOX",
        help="the folder to ingest every night (default: $JIXIAO_INBOX, else data/inbox)",
    )
    _add_source_options(serve)
    serve.add_argument(
        "--cron",
        default="0 2 * * *",
        help="when to run, as a cron line (default '0 2 * * *': 02:00 every day)",
    )
    serve.add_argument(
        "--timezone",
        default="Asia/Shanghai",
        help="the time zone of --cron (default Asia/Shanghai)",
    )
    serve.add_argument(
        "--name", default="nightly", help="the deployment's name in Prefect (default nightly)"
    )
    serve.set_defaults(run=run_serve)


def _add_export(commands: argparse._SubParsersAction, reader: argparse.ArgumentParser) -> None:
    from warehouse.ddl import VIEWS

    unpartitioned = [name for name, view in VIEWS.items() if view.year is None]
    export = commands.add_parser(
        "export",
        parents=[reader],
        help="write every analyst view as Parquet, partitioned by fiscal_year",
        description=textwrap.fill(
            f"Write each analyst view ({', '.join(VIEWS)}) as Parquet under DIR/<view>/, "
            f"hive-partitioned by fiscal_year ({', '.join(unpartitioned)} unpartitioned), for "
            "Spark, Trino, Polars or pandas. Reads the warehouse read-only; each view is "
            "swapped in whole.",
            width=80,
        ),
    )
    export.add_argument(
        "--parquet", required=True, metavar="DIR", help="the folder to write (created if missing)"
    )
    export.set_defaults(run=run_export)


def _add_debug(commands: argparse._SubParsersAction) -> None:
    debug = commands.add_parser(
        "debug",
        help="show what the reader saw on a page: rulings, cells, column roles, forms",
        description=textwrap.fill(
            "Read FILE and print, for one page, the rulings found, every cell with its span, "
            "the role each column was given and where each form starts and ends; with --png, "
            "draw the same over the rendered page (PDFs and scans). Writes no warehouse.",
            width=80,
        ),
    )
    debug.add_argument("file", metavar="FILE", help="the file to look at")
    debug.add_argument(
        "--page", type=_positive_int, help="1-based page (default: the first with a table)"
    )
    debug.add_argument("--png", metavar="OUT", help="draw the page into this PNG file")
    debug.set_defaults(run=run_debug)


def _add_sql(commands: argparse._SubParsersAction, reader: argparse.ArgumentParser) -> None:
    sql = commands.add_parser(
        "sql",
        parents=[reader],
        help="query the warehouse read-only, once or interactively",
        description=textwrap.fill(
            "Run a SQL query (DuckDB dialect) against the warehouse's views, read-only. "
            "Without a query: an interactive prompt (statements end with ';', .help for "
            "help), or the statements piped to stdin.",
            width=80,
        ),
    )
    sql.add_argument("query", nargs="?", metavar="QUERY", help='e.g. "SELECT * FROM forms"')
    sql.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table (default), csv, or json (one object per line)",
    )
    sql.add_argument(
        "--max-rows",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="print at most N rows of a query (default 1000)",
    )
    sql.set_defaults(run=run_sql)


def _missing_local(entries: list[str]) -> list[str]:
    from flows.sources import is_url

    return [entry for entry in entries if not is_url(entry) and not Path(entry).exists()]


def _connect_prefect() -> contextlib.AbstractContextManager | None:
    """Record the run on the Prefect server Prefect is configured with, else on jixiao's local
    one (started in the background by the first run that needs it). On the local one, the
    settings to run the flow under: it runs no services, so nothing reads a flow run's
    heartbeats, which would keep the run's end waiting up to a second."""
    from prefect.context import refresh_global_settings_context
    from prefect.settings import get_current_settings, temporary_settings

    if get_current_settings().api.url is not None:
        return None
    from flows.app.prefect_server import connect

    os.environ["PREFECT_API_URL"] = connect(_error)
    refresh_global_settings_context()
    return temporary_settings(updates={"flows.heartbeat_frequency": None})


def _db(args: argparse.Namespace) -> Path:
    """The warehouse a command works on: ``--db``, else the default."""
    from warehouse import db_path

    return db_path(args.db)


def _run_options(args: argparse.Namespace, db: Path, workers: int, progress: bool) -> RunOptions:
    """The run options of a pipeline command (``workers`` when --workers is not given)."""
    from flows.options import RunOptions

    report_dir = None
    if not args.no_report:
        report_dir = str(Path(args.report_dir) if args.report_dir else db.parent / "reports")
    return RunOptions(
        db=str(db),
        workers=args.workers or workers,
        timeout=args.timeout,
        chunk_files=args.chunk,
        task_runner=args.task_runner,
        address=args.address,
        report_dir=report_dir,
        retry_failed=args.retry_failed,
        reread=args.reread,
        progress=progress,
        max_download_mb=getattr(args, "max_download_mb", 200.0),
    )


def _print_summary(summary: RunSummary, db: Path) -> int:
    from flows.summary import display_path, skipped_lines, summary_line

    print(f"warehouse: {display_path(db)}")
    print(summary_line(summary))
    for outcome in summary.files:
        if outcome.status == "failed":
            print(f"  failed: {display_path(outcome.path)}: {outcome.message}")
    for line in skipped_lines(summary.ignored):
        print(f"  {line}")
    if summary.forms_quarantined:
        print("quarantined forms and their reasons: SELECT * FROM quarantine")
    if summary.report:
        print(f"report: {display_path(summary.report)}")
    return EXIT_FILES_FAILED if summary.files_failed else EXIT_OK


def _check_engine(args: argparse.Namespace) -> None:
    if args.task_runner == "dask" and not args.address:
        raise UsageError("--task-runner dask needs --address tcp://HOST:PORT (the Dask scheduler)")
    if args.address and args.task_runner != "dask":
        raise UsageError("--address is for the Dask scheduler: add --task-runner dask")


def run_ingest(args: argparse.Namespace) -> int:
    """Run the ingest flow and print its summary; returns the exit code."""
    if not args.paths and not args.manifest:
        raise UsageError("nothing to ingest: give files, folders or URLs, or --manifest FILE")
    _check_engine(args)
    _quiet_logs(args.verbose)
    from flows.sources import discover_files, is_url, read_manifest

    if missing := _missing_local(args.paths):
        raise UsageError(
            f"no such file or folder: {', '.join(missing)} (check the spelling; relative paths "
            f"are taken from {Path.cwd()})"
        )
    entries = list(args.paths)
    if args.manifest:
        listed = read_manifest(args.manifest)
        if missing := _missing_local(listed):
            raise UsageError(
                f"{args.manifest} lists paths that do not exist: {', '.join(missing[:5])}"
            )
        entries += listed
    discovery = discover_files([entry for entry in entries if not is_url(entry)])
    if not discovery.files and not any(map(is_url, entries)):
        raise UsageError(f"no supported files ({SUFFIXES}) found in {' '.join(entries)}")

    db, prefect_settings = _writer_db(args)
    from flows.ingest import ingest

    _quiet_console(args.verbose)
    options = _run_options(args, db, workers=1, progress=not args.verbose)
    with prefect_settings:
        summary = ingest(paths=args.paths, manifest=args.manifest, options=options)
    return _print_summary(summary, db)


def _writer_db(args: argparse.Namespace) -> tuple[Path, contextlib.AbstractContextManager]:
    """The warehouse a run will write, once it is known to be free and to have room (raises
    what stands in the way, before Prefect starts), and the Prefect settings to run under."""
    from warehouse import check_writable

    db = _db(args)
    check_writable(db)
    _check_space(db)
    from flows.app.prefect_server import idle_seconds, keeper_pid, state_dir
    from flows.extraction import warm

    local_workers = args.task_runner == "process"
    warm_workers = local_workers and warm.use(state_dir())  # a warm server forks a worker now
    if local_workers and not warm_workers:
        from flows.extraction.pool import start_worker_server

        start_worker_server()  # its imports run beside Prefect's in this process
    local_settings = _connect_prefect()
    if local_settings and local_workers and not warm_workers and (keeper := keeper_pid()):
        warm.start(state_dir(), keeper, idle_seconds())  # for the next runs
    return db, local_settings or contextlib.nullcontext()


def _check_space(db: Path) -> None:
    """Refuse to start a run the disk cannot hold: a writer copies the warehouse, then grows it."""
    import shutil

    needed = (db.stat().st_size if db.is_file() else 0) + MIN_FREE_BYTES
    free = shutil.disk_usage(db.parent).free
    if free < needed:
        raise Refused(
            f"not enough free space for the warehouse in {db.parent}: {free / 2**20:.1f} MB "
            f"free, a run needs about {needed / 2**20:.0f} MB; free some space or {ELSEWHERE_DEFAULT}"
        )


def run_backfill(args: argparse.Namespace) -> int:
    """Run the backfill flow, then print the summary and the per-year table."""
    _check_engine(args)
    if args.from_year and args.to_year and args.from_year > args.to_year:
        raise UsageError(f"--from {args.from_year} is after --to {args.to_year}")
    _quiet_logs(args.verbose)
    from flows.backfill import archive_entries

    entries = archive_entries(args.source)
    if missing := _missing_local(entries):
        raise UsageError(f"{args.source} lists paths that do not exist: {', '.join(missing[:5])}")
    db, prefect_settings = _writer_db(args)
    from flows.backfill import backfill, year_table

    _quiet_console(args.verbose)
    options = _run_options(args, db, workers=os.cpu_count() or 1, progress=not args.verbose)
    with prefect_settings:
        summary = backfill(
            source=args.source, from_year=args.from_year, to_year=args.to_year, options=options
        )
    if not summary.files_seen:
        raise UsageError(
            f"no supported files ({SUFFIXES}) in {args.source} for the years asked; check "
            "--from/--to and that files sit in year folders (2019/, 2019年/)"
        )
    code = _print_summary(summary, db)
    print(year_table(summary))
    return code


def run_debug(args: argparse.Namespace) -> int:
    """Print (and with --png draw) what was read on one page of a file."""
    from extractors import UnreadableFile
    from flows.app.debug import debug_page, draw_page

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    try:
        view = debug_page(path, args.page)
    except UnreadableFile as error:
        _error(str(error))
        return EXIT_FILES_FAILED
    except ValueError as error:
        raise UsageError(str(error)) from error
    print(view.report())
    if args.png:
        try:
            print(f"drawn: {draw_page(view, Path(args.png))}")
        except ValueError as error:
            raise UsageError(str(error)) from error
    return EXIT_OK


def run_serve(args: argparse.Namespace) -> int:
    """Register the nightly deployment and serve it until interrupted."""
    _check_engine(args)
    inbox = Path(args.inbox or os.environ.get("JIXIAO_INBOX") or Path("data") / "inbox")
    if not inbox.is_dir():
        _error(f"no inbox folder {inbox}: create it (mkdir -p {inbox}) or name another folder")
        return EXIT_USAGE
    if args.manifest and not Path(args.manifest).is_file():
        _error(f"no such manifest: {args.manifest}")
        return EXIT_USAGE
    _quiet_logs(args.verbose)
    from prefect.settings import get_current_settings

    if get_current_settings().api.url is None:
        _error(
            "`jixiao serve` needs a running Prefect server: start one in another terminal with "
            "`prefect server start`, then `export PREFECT_API_URL=http://127.0.0.1:4200/api` "
            "and run this again"
        )
        return EXIT_USAGE
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=args.cron, timezone=args.timezone)
    except ValueError:
        _error(
            f"--cron {args.cron!r} / --timezone {args.timezone!r}: give a cron line (minute "
            "hour day month weekday, e.g. '0 2 * * *') and an IANA time zone (Asia/Shanghai)"
        )
        return EXIT_USAGE
    db = _db(args)
    from flows.app.service import Service, deployment_arguments

    api_url = str(get_current_settings().api.url)
    deployment = deployment_arguments(
        inbox,
        _run_options(args, db, workers=1, progress=False),
        manifest=args.manifest,
        cron=args.cron,
        timezone=args.timezone,
        name=args.name,
    )
    serving = (
        f"serving deployment nightly/{args.name}: {args.cron} ({args.timezone}), inbox {inbox}, "
        f"warehouse {db}, Prefect server {api_url}; Ctrl-C to stop"
    )
    try:
        Service(
            api_url, deployment, say=_error, ready=lambda: _error(serving), verbose=args.verbose
        ).run()
    except KeyboardInterrupt:
        _error(f"stopped serving nightly/{args.name}")
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    """Export every analyst view as Parquet and print the row counts."""
    from warehouse.export import export_parquet

    for item in export_parquet(_db(args), args.parquet):
        print(f"{item.view}: {item.rows} rows → {item.folder}")
    return EXIT_OK


def run_sql(args: argparse.Namespace) -> int:
    """Run a query, the interactive prompt, or piped statements, read-only."""
    from warehouse import sql

    return sql.main(str(_db(args)), args.query, args.format, args.max_rows)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jixiao`` console script: runs one command, and tells whatever stops
    it in one line with an exit code the help lists (never a traceback)."""
    args = build_parser().parse_args(argv)  # a usage mistake: argparse says so, exit 2
    if getattr(args, "wait", False):  # sql and export only read: they never wait
        os.environ["JIXIAO_WAIT"] = "1"  # read by Warehouse.open wherever the run opens it
    previous = signal.signal(signal.SIGINT, _interrupted)
    try:
        code = args.run(args)
    except KeyboardInterrupt:
        code = _say_interrupted(args.command)
    except Exception as error:
        from warehouse import interrupted_query

        if interrupted_query(error):  # Ctrl-C met a DuckDB query
            code = _say_interrupted(args.command)
        else:
            message, code = explain(error, ELSEWHERE.get(args.command, ELSEWHERE_DEFAULT))
            _error(message)
    finally:
        signal.signal(signal.SIGINT, previous)
    if argv is None:
        _silence_shutdown()
    return code


def _say_interrupted(command: str) -> int:
    _error(INTERRUPTED.get(command, "interrupted; nothing was changed"))
    return EXIT_INTERRUPTED


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: stop what runs; a second Ctrl-C does not cut short the clean-up that follows
    (marking the run, closing the warehouse without publishing)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


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
