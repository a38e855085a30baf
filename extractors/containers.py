"""What a file is and whether it is safe to open, for every reader: the kind its bytes say
(``sniff``), the zip-bomb guard, encrypted OLE containers, text decoding and the size limits.

``read_document`` sniffs a file once and picks its reader from the result; the readers import
these guards and never hand a file to one another.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from extractors.errors import UnreadableFile

MAX_UNZIPPED = 200 * 1024 * 1024  # bytes of all archive members together
MAX_RATIO = 200  # uncompressed / compressed, for a member over MIN_RATIO_SIZE
MIN_RATIO_SIZE = 10 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_SLOTS = 2_000_000  # rows × columns of one table, merged slots of one workbook
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
ENCODINGS = ("utf-8-sig", "gb18030")


def sniff(path: Path) -> str:
    """What the bytes are, whatever the suffix says: 'zip', 'ole', 'html', 'rtf' or 'other'."""
    with path.open("rb") as handle:
        head = handle.read(2048)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").replace(b"\x00", b"").lower()
    if text.startswith(b"<") and any(t in text for t in (b"<html", b"<table", b"<!doctype html")):
        return "html"
    return "other"


def ole_is_encrypted(path: Path) -> bool:
    """An OLE container holding an ``EncryptedPackage`` stream: a password-protected OOXML file."""
    return _ENCRYPTED_PACKAGE in path.read_bytes()


def password_message(path: Path) -> str:
    """What to tell the user about a password-protected Office file."""
    return (
        f"{path.name} is password-protected: it needs a password to open; open it in Excel/WPS/"
        "Word with the password and save a copy without one (File → Info → Protect), or ask "
        "the publisher for an unprotected copy"
    )


def guard_zip(path: Path, kind: str) -> None:
    """Refuse a file that is not a zip, or whose members would inflate absurdly (a zip bomb).

    The sizes checked are the ones the central directory declares; ``zipfile`` never inflates a
    member past its declared size, so they bound what the XML parsers can be fed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
        raise UnreadableFile(
            f"{path.name} is not a valid {kind} ({exc}); re-save it from Excel/WPS/Word"
        ) from exc
    unsupported = [
        m.filename
        for m in members
        if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        or m.extract_version > zipfile.MAX_EXTRACT_VERSION
    ]
    if unsupported:
        raise UnreadableFile(
            f"{path.name} is not a valid {kind}: its part {unsupported[0]} uses a zip feature "
            "Office files never use; re-save it from Excel/WPS/Word"
        )
    total = sum(m.file_size for m in members)
    if len(members) > MAX_MEMBERS or total > MAX_UNZIPPED:
        raise UnreadableFile(
            f"{path.name} would unpack to {total / 2**20:.0f} MB in {len(members)} parts, beyond "
            f"the {MAX_UNZIPPED // 2**20} MB / {MAX_MEMBERS} parts limit (a damaged file or a zip "
            "bomb); re-save it from Excel/WPS/Word or split it"
        )
    inflated = next(
        (
            m
            for m in members
            if m.file_size > MIN_RATIO_SIZE and m.file_size > MAX_RATIO * max(m.compress_size, 1)
        ),
        None,
    )
    if inflated is not None:
        raise UnreadableFile(
            f"{path.name}: its part {inflated.filename} would inflate {inflated.compress_size:,} "
            f"bytes to {inflated.file_size:,} (more than {MAX_RATIO}×: a damaged file or a zip "
            "bomb); re-save it from Excel/WPS/Word"
        )


def decode_text(data: bytes, what: str) -> str:
    """Decode UTF-8 (with or without BOM) or GBK/GB18030 text.

    (Not charset-normalizer: Chinese publications are UTF-8 or GB18030, and trying the two strictly
    is exact, where a statistical guess on a short export can pick Big5 or a Latin code page.)
    """
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(f"{what} is neither UTF-8 nor GBK text; re-export it as UTF-8")


def check_area(n_rows: int, n_cols: int, what: str) -> None:
    """Refuse a table too large to be a form before anything allocates its slots."""
    if n_rows * n_cols > MAX_SLOTS:
        raise UnreadableFile(
            f"{what} spans {n_rows} rows × {n_cols} columns, too large to be a form; delete "
            "stray cells far from the form (Ctrl+End shows the last one used) and re-save it"
        )
