"""HTML pages and Excel "Save as Web Page" sheets: every <table> a grid, text between as text.

Bytes are decoded by BOM, else by the declared charset (<meta charset>, http-equiv Content-Type,
<?xml encoding?>), else UTF-8, else GB18030; a page declaring a UTF-8/GB charset is decoded
UTF-8-first, since Chinese sites often mislabel one as the other. lxml's HTML parser is tolerant
of broken markup; scripts, styles and elements hidden with ``display:none`` are dropped unread,
and nothing is fetched or executed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from extractors.containers import MAX_SLOTS, decode_text
from extractors.errors import UnreadableFile
from schemas.grid import Cell, Document, Grid, text_block

MAX_BYTES = 100 * 1024 * 1024
MAX_SPAN = 1000
_SNIFF_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never shown; lxml refuses them
_UNICODE_OR_GB = {"utf-8", "utf-8-sig", "ascii", "gb2312", "gbk", "gb18030", "hz"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DROP = ("script", "style", "noscript", "template", "head", "iframe", "object", "embed", "svg")
_BLOCKS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd tr section article header footer center "
    "blockquote pre form fieldset address figure figcaption hr main nav aside caption "
    "body".split()
)
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\xa0]+")


def decode_html(data: bytes, what: str) -> str:
    """HTML bytes → text: BOM, declared charset, UTF-8, GB18030 (see the module docstring)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    head = data[:_SNIFF_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    declared = None
    if match:
        try:
            declared = codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            declared = None
    if declared and declared not in _UNICODE_OR_GB:
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass
    return decode_text(data, what)


def read_html(path: Path, password: str | None = None) -> Document:
    """Read an HTML page: each table (nested ones after their parent) and the text around them.

    ``password`` is accepted for the uniform reader signature and ignored.
    """
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise UnreadableFile(
            f"{path.name} is {len(data) / 2**20:.0f} MB of HTML, beyond the "
            f"{MAX_BYTES // 2**20} MB limit; save the table part on its own"
        )
    text = _CONTROL.sub("", _XML_DECL.sub("", decode_html(data, path.name), count=1))
    if not text.strip():
        raise UnreadableFile(f"{path.name} has no HTML content; re-download it")
    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise UnreadableFile(f"{path.name} is not readable HTML ({exc}); re-save it") from exc
    _drop_unseen(root)
    grids: list[Grid] = []
    page = _Lines()

    def on_table(table: lxml_html.HtmlElement) -> None:
        if page.flush():
            grids.append(text_block(page.take(), source="html"))
        grids.extend(_table_grids(table, path.name))

    body = root.find("body")
    page.visit(body if body is not None else root, on_table)
    if page.flush():
        grids.append(text_block(page.take(), source="html"))
    n_tables = sum(g.is_table for g in grids)
    return Document(grids=grids, pages=None, extractor="html", n_tables=n_tables)


def _drop_unseen(root: lxml_html.HtmlElement) -> None:
    """Remove what a browser never shows as text: scripts, styles, ``display:none`` elements."""
    doomed = [el for el in root.iter(*_DROP)]
    doomed += [el for el in root.iter() if _HIDDEN.search(el.get("style") or "")]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the element's tail text


class _Lines:
    """Visible text of an element as lines: blocks and <br> break lines, tables are handed off."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.fragments: list[str] = []

    def visit(
        self, el: lxml_html.HtmlElement, on_table: Callable[[lxml_html.HtmlElement], None]
    ) -> None:
        for child in el:
            if not isinstance(child.tag, str):  # comments, processing instructions, entities
                self.add(child.tail)
                continue
            tag = child.tag.lower()
            if tag == "table":
                self.flush()
                on_table(child)
            elif tag == "br":
                self.flush()
            elif tag in _BLOCKS:
                self.flush()
                self.add(child.text)
                self.visit(child, on_table)
                self.flush()
            else:
                self.add(child.text)
                self.visit(child, on_table)
            self.add(child.tail)

    def add(self, text: str | None) -> None:
        if text:
            self.fragments.append(text)

    def flush(self) -> bool:
        """End the current line; return whether any lines are waiting."""
        line = _SPACES.sub(" ", "".join(self.fragments)).strip()
        self.fragments = []
        if line:
            self.lines.append(line)
        return bool(self.lines)

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


def _span(value: str | None) -> int:
    """A rowspan/colspan attribute, leniently: '2', ' 3 ', '2px' → the number; junk → 1."""
    match = re.match(r"\s*(\d+)", value or "")
    return int(match.group(1)) if match else 1


def _rows(table: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The table's own rows in document order (not those of nested tables)."""
    rows = []
    for child in table:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag.lower()
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child if isinstance(tr.tag, str) and tr.tag.lower() == "tr")
    return rows


def _table_grids(table: lxml_html.HtmlElement, what: str) -> list[Grid]:
    """The table's grid (after its caption as text) and then the grids of tables nested in it."""
    nested: list[lxml_html.HtmlElement] = []
    caption: list[str] = []
    rows = _rows(table)
    occupied: set[tuple[int, int]] = set()
    cells: list[Cell] = []
    for child in table:
        if isinstance(child.tag, str) and child.tag.lower() == "caption":
            lines = _Lines()
            lines.add(child.text)
            lines.visit(child, nested.append)
            lines.flush()
            caption += lines.take()
    for r, tr in enumerate(rows):
        c = 0
        for td in tr:
            if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                continue
            while (r, c) in occupied:
                c += 1
            rowspan = _span(td.get("rowspan"))
            rowspan = min(rowspan or len(rows) - r, len(rows) - r, MAX_SPAN)  # 0: to the end
            colspan = min(max(_span(td.get("colspan")), 1), MAX_SPAN)
            cs = 1
            while cs < colspan and (r, c + cs) not in occupied:
                cs += 1
            rs = 1
            while rs < rowspan and not any((r + rs, c + j) in occupied for j in range(cs)):
                rs += 1
            if len(occupied) + rs * cs > MAX_SLOTS:
                raise UnreadableFile(
                    f"a table in {what} spans more than {MAX_SLOTS} cells, too large to be a "
                    "form; check its rowspan/colspan attributes"
                )
            occupied.update((r + i, c + j) for i in range(rs) for j in range(cs))
            lines = _Lines()
            lines.add(td.text)
            lines.visit(td, nested.append)
            lines.flush()
            cells.append(Cell(row=r, col=c, text="\n".join(lines.take()), rowspan=rs, colspan=cs))
            c += cs
    grids: list[Grid] = []
    if caption:
        grids.append(text_block(caption, source="html"))
    if any(cell.text for cell in cells):
        n_cols = max(cell.col for cell in cells) + 1  # a colspan past the last column is cut
        for cell in cells:
            cell.colspan = min(cell.colspan, n_cols - cell.col)
        grids.append(Grid(cells=cells, n_rows=len(rows), n_cols=n_cols, source="html"))
    for inner in nested:
        grids.extend(_table_grids(inner, what))
    return grids


__all__ = ["decode_html", "read_html"]
