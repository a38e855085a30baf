"""A run's progress: a line per file and per chunk in the Prefect run log and, if asked, on
stderr under a bar with an ETA."""

from __future__ import annotations

import logging

from prefect import get_run_logger
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from flows.summary import FileOutcome, RunSummary, display_path, summary_line


def _describe(outcome: FileOutcome) -> str:
    if outcome.status in ("loaded", "partial"):
        forms = outcome.forms_landed + outcome.forms_quarantined
        text = f"{forms} form{'s' if forms != 1 else ''}"
        details = [f"{outcome.forms_quarantined} quarantined"] if outcome.forms_quarantined else []
        if outcome.warnings:
            details.append(f"{outcome.warnings} warning{'s' if outcome.warnings != 1 else ''}")
        return f"{text} ({', '.join(details)})" if details else text
    return f"{outcome.status}: {outcome.message}" if outcome.message else outcome.status


# set on a log record whose text is already on the console (a progress line): a console log
# handler may leave it out, the run log in Prefect keeps it
SHOWN_ON_CONSOLE = "jixiao_shown_on_console"
STATUS_STYLES = {"loaded": "green", "partial": "yellow", "failed": "red", "no_forms": "magenta"}


class Reporter:
    """Progress lines to the Prefect run log and, if asked, to stderr under a bar with an ETA."""

    def __init__(self, total: int, to_console: bool) -> None:
        self.total = total
        self.done = 0
        self.logger = get_run_logger()
        self.console = Console(stderr=True, highlight=False, soft_wrap=True) if to_console else None
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not (self.console and self.console.is_terminal),
        )
        self.job = self.bar.add_task("files", total=total)

    def __enter__(self) -> Reporter:
        self.bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bar.stop()

    def chunk_done(self, summary: RunSummary) -> None:
        """A progress line in the run log after each chunk: files done, counts so far."""
        self.logger.info("%d/%d files done: %s", self.done, self.total, summary_line(summary))

    def note(self, message: str) -> None:
        """A line that is not about one file (a download, an ignored file)."""
        self.logger.info("%s", message)
        if self.console:
            self.bar.console.print(Text(message, style="dim"))

    def file_done(self, outcome: FileOutcome) -> None:
        """One file's line: position, path and what happened.

        The run log gets a failed file's line as a warning, the others at debug level (a
        backfill's hundred thousand lines would weigh on Prefect's database); see
        :meth:`chunk_done` for its progress lines.
        """
        self.done += 1
        prefix = f"[{self.done}/{self.total}] {display_path(outcome.path)}: "
        level = logging.WARNING if outcome.status == "failed" else logging.DEBUG
        shown = {SHOWN_ON_CONSOLE: self.console is not None}
        self.logger.log(level, "%s%s", prefix, _describe(outcome), extra=shown)
        if self.console:
            style = STATUS_STYLES.get(outcome.status, "dim")
            self.bar.console.print(Text.assemble(prefix, (_describe(outcome), style)))
        self.bar.advance(self.job)
