"""Word documents: .docx read from its XML; .doc/.wps converted to .docx with LibreOffice first.

Every table becomes a grid with exact spans (``w:gridSpan`` → colspan, ``w:vMerge``
restart/continue → rowspan, legacy ``w:hMerge`` too, over the real grid columns including
``w:gridBefore``); a table nested in a cell becomes its own grid right after its outer table,
the cell keeping its own paragraphs as its text. Paragraphs outside tables become text blocks in
body order. Headers, footers, text boxes and drawings are not read.

XML safety: python-docx (1.x) parses every part with ``lxml.etree.XMLParser(
resolve_entities=False)``, and lxml's defaults keep ``load_dtd=False`` and ``no_network=True``:
an entity declared in a DOCTYPE, internal or external, is never expanded or fetched; it stays
an entity node, which this reader skips. The zip is checked for bombs before python-docx opens it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from extractors.containers import OLE_MAGIC, check_area, guard_zip
from extractors.errors import UnreadableFile
from schemas.grid import Cell, Document, Grid, text_block

if TYPE_CHECKING:
    from lxml.etree import _Element

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
CONVERT_TIMEOUT = 120  # seconds
MAX_SPAN = 1000  # Word itself allows 63 columns
_WORD_STREAM = "WordDocument".encode("utf-16-le")  # the main stream of a binary Word file
_WRAPPERS = {f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}smartTag"}
_NOT_TEXT = {
    f"{W}{tag}"
    for tag in "rPr pPr sdtPr del moveFrom drawing pict object instrText fldData".split()
} | {f"{MC}AlternateContent"}


def read_docx(path: Path, password: str | None = None) -> Document:
    """Read a .docx (or .docm) body into table grids and text blocks, in body order.

    ``password`` is accepted for the uniform reader signature: encrypted documents are refused
    by ``read_document`` with a message.
    """
    guard_zip(path, ".docx")
    from docx.opc.part import XmlPart
    from docx.oxml.parser import parse_xml
    from docx.package import Package

    try:
        part = Package.open(str(path)).main_document_part
        root = part.element if isinstance(part, XmlPart) else parse_xml(part.blob)
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors, …
        raise UnreadableFile(
            f"{path.name} is not a valid .docx ({type(exc).__name__}: {exc}); "
            "re-save it from Word/WPS"
        ) from exc
    body = root.find(f"{W}body")
    if body is None:
        raise UnreadableFile(f"{path.name} is not a Word document (no body); re-save it as .docx")
    grids: list[Grid] = []
    lines: list[str] = []
    for el in _flatten(body):
        if el.tag == f"{W}p":
            lines += [line.strip() for line in _paragraph_text(el).split("\n") if line.strip()]
        elif el.tag == f"{W}tbl":
            if lines:
                grids.append(text_block(lines, source="docx"))
                lines = []
            grids.extend(_table_grids(el, path.name))
    if lines:
        grids.append(text_block(lines, source="docx"))
    n_tables = sum(g.is_table for g in grids)
    return Document(grids=grids, pages=None, extractor="docx", n_tables=n_tables)


def read_legacy_word(path: Path, password: str | None = None) -> Document:
    """Read a .doc/.wps file by converting it to .docx with LibreOffice (``soffice``).

    (``read_document`` hands HTML or .docx content under a .doc name to its own reader.)
    ``password`` is accepted for the uniform reader signature: encrypted documents are refused
    by ``read_document`` with a message.
    """
    word_filter = None
    data = path.read_bytes()
    if data.startswith(OLE_MAGIC):
        if _WORD_STREAM in data:
            word_filter = "MS Word 97"  # so a damaged file fails instead of loading as plain text
        elif path.suffix.lower() == ".doc":
            raise UnreadableFile(
                f"{path.name} is an Office file but not a Word document (no WordDocument "
                "stream); check what it is, or open it in Word/WPS and save it as .docx"
            )
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise UnreadableFile(
            f"{path.name} is a legacy Word/WPS document; to read it install LibreOffice "
            "(apt-get install libreoffice-writer) or save the file as .docx"
        )
    suffix = path.suffix.lower() if path.suffix.lower() in (".doc", ".wps") else ".doc"
    with tempfile.TemporaryDirectory(prefix="jixiao-word-") as tmp:
        source = (
            Path(tmp) / f"source{suffix}"
        )  # a plain name: LibreOffice names its output after it
        shutil.copyfile(path, source)
        out = Path(tmp) / "out"
        error = _convert(soffice, source, out, word_filter)
        converted = out / "source.docx"
        if not converted.exists():
            raise UnreadableFile(
                f"LibreOffice could not convert {path.name} to .docx ({error or 'no output'}); "
                "it may be damaged or password-protected: open it in Word/WPS and save it as .docx"
            )
        doc = read_docx(converted)
    doc.extractor = "docx:libreoffice"
    doc.notes.append(f"{path.name} was converted to .docx with LibreOffice before reading")
    return doc


def _convert(soffice: str, source: Path, folder: Path, word_filter: str | None) -> str:
    """Run LibreOffice headless on ``source`` into ``folder``; return its error output."""
    profile = (source.parent / "profile").as_uri()  # a private profile: no lock on the user's one
    command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore"]
    if word_filter:
        command.append(f"--infilter={word_filter}")
    command += ["--convert-to", "docx", "--outdir", str(folder), str(source)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so a timeout ends soffice.bin too
    )
    try:
        _, stderr = process.communicate(timeout=CONVERT_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise UnreadableFile(
            f"LibreOffice took more than {CONVERT_TIMEOUT} s to convert {source.name}; "
            "open it in Word/WPS and save it as .docx"
        ) from exc
    return stderr.decode("utf-8", errors="replace").strip()[-300:]


def _flatten(parent: _Element) -> list[_Element]:
    """Block-level children, looking through content controls and custom XML wrappers."""
    out = []
    for child in parent:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions, unexpanded entities
        if child.tag in _WRAPPERS:
            out += _flatten(child)
        elif child.tag not in _NOT_TEXT:
            out.append(child)
    return out


def _paragraph_text(p: _Element) -> str:
    """A paragraph's visible text: runs, hyperlinks, fields' results; tracked deletions left out."""
    parts: list[str] = []

    def walk(el: _Element) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _NOT_TEXT:
                continue
            if tag == f"{W}t":  # text, and any text after an unexpanded entity inside it
                parts.append(child.text or "")
                parts.extend(node.tail or "" for node in child)
            elif tag == f"{W}tab":
                parts.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                parts.append("\n")
            elif tag == f"{W}noBreakHyphen":
                parts.append("-")
            else:
                walk(child)

    walk(p)
    return "".join(parts)


def _val(parent: _Element | None, tag: str) -> str | None:
    """The w:val of a property element: None when the element is absent, '' when it has none."""
    if parent is None:
        return None
    el = parent.find(f"{W}{tag}")
    return None if el is None else el.get(f"{W}val", "")


def _int(value: str | None, default: int) -> int:
    try:
        return max(int(value), 0) if value else default
    except ValueError:
        return default


def _table_grids(tbl: _Element, what: str) -> list[Grid]:
    """The table's grid, then the grids of tables nested in its cells."""
    nested: list[_Element] = []
    cells: list[Cell] = []
    above: dict[int, Cell] = {}  # column → the cell covering it on the previous row
    width = len(tbl.findall(f"{W}tblGrid/{W}gridCol"))
    rows = [el for el in _flatten(tbl) if el.tag == f"{W}tr"]
    for r, tr in enumerate(rows):
        tr_pr = tr.find(f"{W}trPr")
        col = min(_int(_val(tr_pr, "gridBefore"), 0), MAX_SPAN)
        here: dict[int, Cell] = {}
        previous: Cell | None = None
        for tc in (el for el in _flatten(tr) if el.tag == f"{W}tc"):
            tc_pr = tc.find(f"{W}tcPr")
            span = min(max(_int(_val(tc_pr, "gridSpan"), 1), 1), MAX_SPAN)
            v_merge, h_merge = _val(tc_pr, "vMerge"), _val(tc_pr, "hMerge")
            text = _cell_text(tc, nested)
            top = above.get(col)
            if h_merge not in (None, "restart") and previous is not None:
                previous.colspan += span  # legacy horizontal merge: widen the cell on the left
                target = previous
            elif v_merge not in (None, "restart") and top is not None and top.colspan == span:
                top.rowspan += 1
                target = top
                here[col] = top
            else:
                target = Cell(row=r, col=col, text=text, colspan=span)
                cells.append(target)
                here[col] = target
                text = ""
            if text:  # a merged-away cell that still holds text: keep it
                target.text = f"{target.text}\n{text}" if target.text else text
            previous = target
            col += span
        width = max(width, col)
        above = here
        check_area(r + 1, width, f"a table in {what}")
    grids: list[Grid] = []
    if any(cell.text for cell in cells):
        for cell in cells:
            cell.colspan = min(cell.colspan, width - cell.col)
        grids.append(Grid(cells=cells, n_rows=len(rows), n_cols=width, source="docx"))
    for inner in nested:
        grids.extend(_table_grids(inner, what))
    return grids


def _cell_text(tc: _Element, nested: list[_Element]) -> str:
    """A cell's own paragraphs joined with newlines; nested tables are set aside in order."""
    lines: list[str] = []
    for el in _flatten(tc):
        if el.tag == f"{W}p" and (line := _paragraph_text(el).strip()):
            lines.append(line)
        elif el.tag == f"{W}tbl":
            nested.append(el)
    return "\n".join(lines)


__all__ = ["read_docx", "read_legacy_word"]
