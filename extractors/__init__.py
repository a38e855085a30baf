"""Readers turn each source format into the one grid model; ``forms`` turns grids into forms.

Each reader module exposes one function ``(path, password) -> Document``; heavy dependencies are
imported only when a file of that kind is read.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from extractors.errors import UnreadableFile
from schemas.grid import Document

READERS: dict[str, str] = {
    ".pdf": "extractors.pdf:read_pdf",
    ".txt": "extractors.text:read_text",
    ".tsv": "extractors.text:read_text",
    ".xlsx": "extractors.xlsx:read_xlsx",
    ".xlsm": "extractors.xlsx:read_xlsx",
    ".xls": "extractors.xls:read_xls",
    ".docx": "extractors.docx:read_docx",
    ".doc": "extractors.docx:read_legacy_word",
    ".wps": "extractors.docx:read_legacy_word",
    ".html": "extractors.html:read_html",
    ".htm": "extractors.html:read_html",
    ".png": "extractors.scan:read_image",
    ".jpg": "extractors.scan:read_image",
    ".jpeg": "extractors.scan:read_image",
    ".tif": "extractors.scan:read_image",
    ".tiff": "extractors.scan:read_image",
}
SUPPORTED_SUFFIXES = frozenset(READERS)


def read_document(path: Path, password: str | None = None) -> Document:
    """Read any supported file into grids; raise UnreadableFile with a message a person can act on."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnreadableFile(
            f"{path.name}: unsupported file type '{suffix}' (supported: {supported})"
        )
    if path.stat().st_size == 0:
        raise UnreadableFile(f"{path.name} is empty (0 bytes); re-download or remove it")
    module_name, function_name = READERS[suffix].split(":")
    reader = getattr(import_module(module_name), function_name)
    document: Document = reader(path, password=password)
    document.source_name = path.name
    return document


__all__ = ["READERS", "SUPPORTED_SUFFIXES", "UnreadableFile", "read_document"]
