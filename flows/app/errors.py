"""What the command line says when something stops it: one line, and an exit code it documents.

Every error a person can cause — a mistake in what was asked, or the machine refusing (permissions,
a read-only or full disk, a warehouse held by another writer or written by a newer version) — is
told in one line saying what happened and what to do; never as a traceback.
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_FILES_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}    done: every file was read (forms may still be quarantined: see the quarantine view)
  {EXIT_FILES_FAILED}    some files could not be read: see the summary and source_files.error
  {EXIT_USAGE}    usage: a mistake in the command, a path that does not exist, no supported files,
       a --db that is not a DuckDB warehouse, a form that cannot be reviewed
  {EXIT_REFUSED}    the environment refused: permissions, a read-only or full disk, the warehouse
       locked by another writer or written by a newer version (or jixiao failed: report it)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); an interrupted ingest or backfill resumes when run again
"""

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# what DuckDB's own I/O errors say, mapped to the errno they stand for
DUCKDB_IO_ERRORS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "File too large": errno.EFBIG,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


class UsageError(Exception):
    """A mistake in what was asked; the message says how to ask instead."""


class Refused(Exception):
    """The machine cannot do what was asked (no room, say); the message says what to do."""


def _os_error(code: int | None, where: str, elsewhere: str) -> str:
    if code in DISK_FULL:
        return f"the disk is full (writing {where}): free some space or {elsewhere}, then run again"
    if code == errno.EROFS:
        return f"{where} is on a read-only file system: {elsewhere}"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied: {where}: ask for write access there, or {elsewhere}"
    return ""


def explain(error: BaseException, elsewhere: str) -> tuple[str, int]:
    """The one-line message and exit code for ``error``; ``elsewhere`` says how to choose another
    place to write (e.g. 'choose another warehouse with --db FILE')."""
    from warehouse import NotAWarehouse, WarehouseBusy, WarehouseTooNew

    if isinstance(error, (UsageError, NotAWarehouse)):
        return str(error), EXIT_USAGE
    if isinstance(error, (Refused, WarehouseBusy, WarehouseTooNew)):
        return str(error), EXIT_REFUSED
    if isinstance(error, FileNotFoundError):
        if error.filename is None:  # raised with a message of its own
            return str(error), EXIT_USAGE
        return f"no such file or folder: {error.filename}", EXIT_USAGE
    if isinstance(error, OSError):
        where = error.filename or "a file"
        message = _os_error(error.errno, where, elsewhere)
        return message or f"{error.strerror or error}: {where}", EXIT_REFUSED
    text = str(error)
    for phrase, code in DUCKDB_IO_ERRORS.items():
        if phrase in text and type(error).__module__.startswith(("duckdb", "_duckdb")):
            where = text.split('"')[1] if text.count('"') >= 2 else "the warehouse"
            return _os_error(code, where, elsewhere), EXIT_REFUSED
    return (
        f"jixiao failed: {type(error).__name__}: {text.splitlines()[0] if text else ''} "
        "(run again with --verbose for the details, and report it with them)",
        EXIT_REFUSED,
    )
