"""The extraction entry point: one file read and its forms parsed, a batch of forms checked.

Both run in the worker processes of :mod:`flows.extraction.pool` (or on Dask workers).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
from collections import defaultdict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from expectations import validate
from extractors import read_document
from extractors.errors import UnreadableFile
from extractors.evidence import unread_forms_message
from extractors.forms import parse_forms
from schemas.grid import Document
from schemas.records import CheckResult, Extraction, Form, form_id_for

SPEAKS_OF_FORMS = re.compile(r"绩效(目标|指标)|[一二三]级(指标|目标)|指标值")


ROOT = Path(__file__).resolve().parents[2]


def _reader_version() -> str:
    """A fingerprint of the reader code (the readers, the form parser, the records they fill
    and this module): it changes whenever what a reading gives may change."""
    digest = hashlib.sha256()
    paths = [Path(__file__).resolve()]
    for package in ("extractors", "schemas"):
        paths += sorted((ROOT / package).rglob("*.py"))
    for path in paths:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# recorded with every file read (source_files.reader_version), and part of the cache key of an
# extraction: a file read by another version is read again on request (--reread)
READER_VERSION = _reader_version()


@dataclass
class Checks:
    """The failed checks of a batch of forms by form id."""

    results: dict[str, list[CheckResult]] = field(default_factory=dict)

    def add(self, other: Checks) -> None:
        """Take in the checks of another batch (of other forms)."""
        self.results.update(other.results)


def extract_path(path: str, sha256: str | None = None) -> Extraction:
    """Read one file and parse its forms; any failure becomes the extraction's error message, and
    so does a file whose tables hold a form's words but give no form (never a silent no_forms).

    With the file's ``sha256`` the forms get their ids (:func:`schemas.records.form_id_for`).
    """
    extraction = Extraction(reader_version=READER_VERSION)
    try:
        document = read_document(Path(path))
        extraction.pages = document.pages
        extraction.extractor = document.extractor
        extraction.n_tables = document.n_tables
        extraction.forms = parse_forms(document)
        extraction.notes = list(document.notes)
        if not extraction.forms:
            extraction.error = unread_forms_message(Path(path), document)
            if extraction.error is None:
                extraction.notes.append(debug_hint(path, document))
    except UnreadableFile as error:
        extraction.error = str(error)
    except Exception as error:  # a reader or parser bug must not stop the batch
        extraction.forms = []
        extraction.error = (
            f"could not extract forms ({type(error).__name__}: {error}); "
            "this is a bug in jixiao: please report it with the file"
        )
    if sha256 is not None:
        for form in extraction.forms:
            form.form_id = form_id_for(sha256, form.form_ordinal)
    return extraction


def debug_hint(path: str | Path, doc: Document) -> str:
    """How to see what was read in a file that gave no form: the ``jixiao debug`` command for its
    likeliest page (the first whose tables print 绩效目标, 绩效指标 or an indicator header, else
    the first with a table)."""
    tables = [g for g in doc.grids if g.is_table]
    pages = [c.page for g in tables for c in g.cells if c.page and SPEAKS_OF_FORMS.search(c.text)]
    pages = pages or [c.page for g in tables for c in g.cells if c.page]
    page = f" --page {min(pages)}" if pages else ""
    drawn = " --png out.png" if doc.pages is not None else ""
    return f"to see what was read, run: jixiao debug {path}{page}{drawn}"


def check_forms(forms: list[Form]) -> Checks:
    """Run every check on ``forms`` in one GX call."""
    results: dict[str, list[CheckResult]] = defaultdict(list)
    for result in validate(forms):
        results[result.form_id].append(result)
    return Checks(dict(results))


# imported once, by the forkserver, before it forks the workers: each starts with them loaded
WORKER_PRELOAD = [
    "flows.extraction.pool",
    "extractors.pdf",
    "extractors.text",
    "expectations.gx_suite",
]


def run_worker(connection: Connection, environment: dict[str, str], threads: int | None) -> None:
    """A worker's loop, in the parent's ``environment`` with ``threads`` OCR threads (None: the
    engine's default): receive a job, send back the file's extraction or the checks of the
    forms, until told to stop."""
    os.environ.clear()
    os.environ.update(environment)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us
    from extractors import ocr_engine  # here, not in the writer, which never reads

    ocr_engine.THREADS = threads
    while True:
        try:
            job = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if job is None:
            return
        kind, payload = job
        if kind == "read":
            connection.send(("read", extract_path(*payload)))
            continue
        try:
            reply = ("checked", check_forms(payload))
        except Exception as error:
            reply = ("failed", f"{type(error).__name__}: {error}")
        connection.send(reply)
