"""DOCX reader: real documents written with python-docx (cell merges with a.merge(b)) and
hand-written table XML (gridBefore/gridAfter, hMerge, tracked deletions, external entities)."""

import shutil
import subprocess
import zipfile

import docx
import pytest
from docx.oxml.parser import parse_xml
from form_fixture import (
    TITLE,
    Layout,
    assert_form,
    covered,
    expected_cells,
    grid_cells,
    layout,
)

from extractors import UnreadableFile, read_document
from extractors.forms import parse_forms

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def add_form_table(container, lay: Layout, skip: int = 0):
    """The layout's rows from ``skip`` on as a table whose merged cells are merged in Word."""
    rows = lay.rows[skip:]
    table = container.add_table(rows=len(rows), cols=len(rows[0]))
    hidden = covered(lay)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text and (r + skip, c) not in hidden:
                table.cell(r, c).text = text
    for r, c, rs, cs in lay.merges:
        if r >= skip and (rs > 1 or cs > 1):
            table.cell(r - skip, c).merge(table.cell(r - skip + rs - 1, c + cs - 1))
    return table


def write_docx(path, lay: Layout, before=(), after=(), skip: int = 0):
    document = docx.Document()
    for line in before:
        document.add_paragraph(line)
    add_form_table(document, lay, skip)
    for line in after:
        document.add_paragraph(line)
    document.save(path)
    return path


def shift(cells, rows: int):
    return {(r - rows, c, t, rs, cs) for r, c, t, rs, cs in cells if r >= rows}


def test_grid_has_every_row_and_exact_spans(tmp_path):
    lay = layout()
    doc = read_document(write_docx(tmp_path / "form.docx", lay))
    assert (doc.extractor, doc.pages, doc.n_tables) == ("docx", None, 1)
    (grid,) = doc.grids
    assert (grid.n_rows, grid.n_cols, grid.spans_known) == (21, 8, True)
    assert grid_cells(grid) == expected_cells(lay)


def test_form_end_to_end(tmp_path):
    (form,) = parse_forms(read_document(write_docx(tmp_path / "form.docx", layout())))
    assert_form(form)


def test_paragraphs_around_the_table_are_text_blocks_in_body_order(tmp_path):
    lay = layout()
    path = write_docx(
        tmp_path / "form.docx",
        lay,
        before=[TITLE, "", "（2020年度）"],
        after=["填报人：张三\n联系电话：123"],
        skip=2,
    )
    doc = read_document(path)
    head, grid, tail = doc.grids
    assert (head.is_table, [c.text for c in head.cells]) == (False, [TITLE, "（2020年度）"])
    assert grid_cells(grid) == shift(expected_cells(lay), 2)
    assert [c.text for c in tail.cells] == ["填报人：张三", "联系电话：123"]
    (form,) = parse_forms(doc)
    assert_form(form)


def test_nested_table_is_its_own_grid_after_the_outer_one(tmp_path):
    lay = layout()
    document = docx.Document()
    outer = document.add_table(rows=2, cols=2)
    outer.cell(0, 0).text = "附件"
    host = outer.cell(0, 1)
    host.text = "附件一"
    add_form_table(host, lay)
    host.add_paragraph("附件说明")
    outer.cell(1, 0).merge(outer.cell(1, 1)).text = "页脚"
    path = tmp_path / "nested.docx"
    document.save(path)
    doc = read_document(path)
    first, nested = doc.grids
    assert [(c.row, c.col, c.text, c.colspan) for c in first.cells] == [
        (0, 0, "附件", 1),
        (0, 1, "附件一\n附件说明", 1),
        (1, 0, "页脚", 2),
    ]
    assert grid_cells(nested) == expected_cells(lay)
    assert doc.n_tables == 2
    (form,) = parse_forms(doc)
    assert_form(form)


def tc(text="", props=""):
    return f"<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


def write_raw_table(path, rows_xml: str, grid_cols: int = 3):
    """A document whose body holds one table written as raw WordprocessingML."""
    document = docx.Document()
    grid = "".join("<w:gridCol/>" for _ in range(grid_cols))
    table = parse_xml(f"<w:tbl {W_NS}><w:tblGrid>{grid}</w:tblGrid>{rows_xml}</w:tbl>")
    document.element.body.insert(0, table)
    document.save(path)
    return path


def test_grid_before_after_vmerge_and_hmerge(tmp_path):
    before = '<w:trPr><w:gridBefore w:val="1"/></w:trPr>'
    after = '<w:trPr><w:gridAfter w:val="1"/></w:trPr>'
    restart, cont = "<w:vMerge w:val='restart'/>", "<w:vMerge/>"
    h_restart, h_cont = "<w:hMerge w:val='restart'/>", "<w:hMerge/>"
    span2, huge = "<w:gridSpan w:val='2'/>", "<w:gridSpan w:val='999999999'/>"
    rows = (
        f"<w:tr>{tc('A')}{tc('B')}{tc('C')}</w:tr>"
        f"<w:tr>{before}{tc('D', restart)}{tc('E')}</w:tr>"
        f"<w:tr>{before}{tc('', cont)}{tc('F')}</w:tr>"
        f"<w:tr>{after}{tc('G', span2)}</w:tr>"
        f"<w:tr>{tc('H', h_restart)}{tc('', h_cont)}{tc('I')}</w:tr>"
        f"<w:tr>{tc('J', huge)}</w:tr>"
    )
    (grid,) = read_document(write_raw_table(tmp_path / "raw.docx", rows)).grids
    assert (grid.n_rows, grid.n_cols) == (6, 1000)  # an absurd gridSpan is clamped
    assert [(c.row, c.col, c.text, c.rowspan, c.colspan) for c in grid.cells] == [
        (0, 0, "A", 1, 1),
        (0, 1, "B", 1, 1),
        (0, 2, "C", 1, 1),
        (1, 1, "D", 2, 1),
        (1, 2, "E", 1, 1),
        (2, 2, "F", 1, 1),
        (3, 0, "G", 1, 2),
        (4, 0, "H", 1, 2),
        (4, 2, "I", 1, 1),
        (5, 0, "J", 1, 1000),
    ]


def test_tracked_deletions_fields_and_content_controls(tmp_path):
    cell = (
        "<w:tc><w:sdt><w:sdtPr><w:alias w:val='名称'/></w:sdtPr><w:sdtContent>"
        "<w:p><w:r><w:t>保留</w:t></w:r><w:del><w:r><w:delText>删除</w:delText></w:r></w:del>"
        "<w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:t xml:space='preserve'> 文字</w:t>"
        "</w:r><w:r><w:br/><w:t>次行</w:t></w:r></w:p></w:sdtContent></w:sdt></w:tc>"
    )
    (grid,) = read_document(write_raw_table(tmp_path / "raw.docx", f"<w:tr>{cell}</w:tr>", 1)).grids
    assert [c.text for c in grid.cells] == ["保留 文字\n次行"]


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-机密内容")
    plain = write_docx(tmp_path / "plain.docx", layout())
    path = tmp_path / "xxe.docx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                decl, rest = text.split("?>", 1)
                doctype = (
                    f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">'
                    '<!ENTITY a "AAAAAAAAAA"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                )
                rest = rest.replace("<w:t>项目名称</w:t>", "<w:t>项目&xxe;名称&b;</w:t>", 1)
                assert "&xxe;" in rest
                data = f"{decl}?>{doctype}{rest}".encode()
            dst.writestr(item, data)
    doc = read_document(path)
    texts = "".join(c.text for g in doc.grids for c in g.cells)
    assert "TOPSECRET" not in texts and "机密" not in texts and "AAAA" not in texts
    assert "项目名称" in texts


def test_not_a_zip_is_unreadable(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"plain text pretending to be a document")
    with pytest.raises(UnreadableFile, match=r"broken\.docx is not a valid \.docx"):
        read_document(path)


def test_zip_without_a_document_is_unreadable(tmp_path):
    path = tmp_path / "empty.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(UnreadableFile, match=r"not a valid \.docx"):
        read_document(path)


def test_encrypted_document_needs_a_password(tmp_path):
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    plain = write_docx(tmp_path / "plain.docx", layout())
    path = tmp_path / "locked.docx"
    with plain.open("rb") as src, path.open("wb") as dst:
        ooxml.OOXMLFile(src).encrypt("secret", dst)
    with pytest.raises(UnreadableFile, match="password"):
        read_document(path)


def test_legacy_word_without_libreoffice_names_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "old.doc"
    stream = "WordDocument".encode("utf-16-le")
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + stream + b"\0" * 1024)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(UnreadableFile, match=r"apt-get install libreoffice-writer.*\.docx"):
        read_document(path)


def test_html_saved_under_a_doc_name_is_read_as_html(tmp_path):
    path = tmp_path / "page.doc"
    path.write_bytes("<html><body><p>（2020年度）</p></body></html>".encode("gbk"))
    doc = read_document(path)
    assert doc.extractor == "html" and doc.grids[0].cells[0].text == "（2020年度）"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_legacy_doc_is_converted_with_libreoffice(tmp_path):
    def convert(path, to):
        profile = (tmp_path / "profile").as_uri()
        command = ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to"]
        command += [to, "--outdir", str(tmp_path), str(path)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        return path.with_suffix(f".{to}")

    # via .odt: LibreOffice 7.4 drops python-docx tables when it writes a .docx straight to .doc
    doc_file = convert(convert(write_docx(tmp_path / "form.docx", layout()), "odt"), "doc")
    assert doc_file.read_bytes().startswith(b"\xd0\xcf\x11\xe0")
    doc = read_document(doc_file)
    assert doc.extractor == "docx:libreoffice" and doc.notes
    (form,) = parse_forms(doc)
    assert_form(form)


def test_ole_file_that_is_not_word_is_unreadable(tmp_path):
    path = tmp_path / "junk.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x07" * 4096)
    with pytest.raises(UnreadableFile, match=r"junk\.doc is an Office file but not a Word"):
        read_document(path)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_damaged_legacy_doc_is_unreadable(tmp_path):
    stream = "WordDocument".encode("utf-16-le")
    path = tmp_path / "damaged.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + stream + b"\x07" * 4096)
    with pytest.raises(UnreadableFile, match=r"LibreOffice could not convert damaged\.doc"):
        read_document(path)
