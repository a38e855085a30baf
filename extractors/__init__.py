"""Readers turn each source format into the one grid model; ``forms`` turns grids into forms.

Each reader module exposes one function ``(path, password) -> Document``; heavy dependencies are
imported only when a file of that kind is read. ``read_document`` sniffs a file's bytes once
(``containers.sniff``) and picks the reader: publishers mislabel Office files (an .xlsx saved
under an .xls name, a web page saved as .doc), so for those the bytes decide, not the suffix.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from extractors.containers import ole_is_encrypted, password_message, sniff
from extractors.errors import UnreadableFile
from schemas.grid import Document

_PDF = "extractors.pdf:read_pdf"
_TEXT = "extractors.text:read_text"
_XLSX = "extractors.xlsx:read_xlsx"
_XLS = "extractors.xls:read_xls"
_DOCX = "extractors.docx:read_docx"
_LEGACY_WORD = "extractors.docx:read_legacy_word"
_HTML = "extractors.html:read_html"
_IMAGE = "extractors.scan:read_image"

# suffix → {sniffed kind → reader}; "*" is every other kind
READERS: dict[str, dict[str, str]] = {
    ".pdf": {"*": _PDF},
    ".txt": {"*": _TEXT},
    ".tsv": {"*": _TEXT},
    ".csv": {"*": _TEXT},  # a sheet saved as CSV
    ".xlsx": {"ole": _XLS, "*": _XLSX},
    ".xlsm": {"ole": _XLS, "*": _XLSX},
    ".xls": {"zip": _XLSX, "html": _HTML, "*": _XLS},
    ".docx": {"ole": _LEGACY_WORD, "*": _DOCX},
    ".doc": {"zip": _DOCX, "html": _HTML, "*": _LEGACY_WORD},
    ".wps": {"zip": _DOCX, "html": _HTML, "*": _LEGACY_WORD},
    ".html": {"*": _HTML},
    ".htm": {"*": _HTML},
    ".png": {"*": _IMAGE},
    ".jpg": {"*": _IMAGE},
    ".jpeg": {"*": _IMAGE},
    ".tif": {"*": _IMAGE},
    ".tiff": {"*": _IMAGE},
    ".heic": {"*": _IMAGE},  # a phone's camera (iPhone)
    ".heif": {"*": _IMAGE},
    ".webp": {"*": _IMAGE},
    ".bmp": {"*": _IMAGE},
}
SUPPORTED_SUFFIXES = frozenset(READERS)
OFFICE_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".docx", ".doc", ".wps"})  # sniffed


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
    by_kind = READERS[suffix]
    kind = sniff(path) if suffix in OFFICE_SUFFIXES else "*"
    if kind == "ole" and suffix in OFFICE_SUFFIXES and ole_is_encrypted(path):
        raise UnreadableFile(password_message(path))
    module_name, function_name = by_kind.get(kind, by_kind["*"]).split(":")
    reader = getattr(import_module(module_name), function_name)
    document: Document = reader(path, password=password)
    document.source_name = path.name
    return document


__all__ = ["READERS", "SUPPORTED_SUFFIXES", "UnreadableFile", "read_document"]
