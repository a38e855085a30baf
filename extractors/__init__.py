"""Readers turn each source format into the one grid model; ``forms`` turns grids into forms."""

from __future__ import annotations

from pathlib import Path

from extractors.errors import UnreadableFile
from schemas.grid import Document

SUPPORTED_SUFFIXES = frozenset({".pdf", ".txt", ".tsv"})


def read_document(path: Path, password: str | None = None) -> Document:
    """Read any supported file into grids; raise UnreadableFile with a message a person can act on."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnreadableFile(f"{path.name}: unsupported file type '{suffix}' (supported: {supported})")
    if path.stat().st_size == 0:
        raise UnreadableFile(f"{path.name} is empty (0 bytes); re-download or remove it")
    if suffix == ".pdf":
        from extractors.pdf import read_pdf

        return read_pdf(path, password=password)
    from extractors.text import read_text

    return read_text(path)


__all__ = ["SUPPORTED_SUFFIXES", "UnreadableFile", "read_document"]
