"""HTML reader: hand-written pages (UTF-8 and GBK, with and without a charset, broken markup, an
Excel "Save as Web Page" sheet) holding the shared form, read back with exact spans."""

from html import escape

import pytest
from form_fixture import (
    NAME,
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
from extractors.html import decode_html


def table_rows(lay: Layout, skip: int = 0, attrs: str = "") -> str:
    """The layout's rows from ``skip`` on as <tr>/<td> markup with rowspan/colspan."""
    spans = {(r, c): (rs, cs) for r, c, rs, cs in lay.merges}
    hidden = covered(lay)
    out = []
    for r, row in enumerate(lay.rows[skip:], start=skip):
        tds = []
        for c, text in enumerate(row):
            if (r, c) in hidden:
                continue
            rs, cs = spans.get((r, c), (1, 1))
            span = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
            tds.append(f"<td{span}{attrs}>{escape(text)}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    return "\n".join(out)


def page(lay: Layout, head: str = "", before: str = "", skip: int = 0) -> str:
    return (
        f"<!DOCTYPE html><html><head>{head}<title>页面标题</title></head><body>{before}"
        f"<table border=1>\n{table_rows(lay, skip)}\n</table></body></html>"
    )


def shift(cells, rows: int):
    return {(r - rows, c, t, rs, cs) for r, c, t, rs, cs in cells if r >= rows}


@pytest.mark.parametrize(
    ("encoding", "head"),
    [
        ("utf-8", '<meta charset="utf-8">'),
        ("utf-8", ""),
        ("gbk", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'),
        ("gbk", '<meta charset="GBK">'),
        ("gbk", ""),
        ("gb18030", '<meta charset="utf-8">'),  # mislabelled: still read
    ],
)
def test_grid_and_form_in_each_encoding(tmp_path, encoding, head):
    lay = layout()
    path = tmp_path / "form.html"
    path.write_bytes(page(lay, head).encode(encoding))
    doc = read_document(path)
    assert (doc.extractor, doc.pages, doc.n_tables) == ("html", None, 1)
    (grid,) = doc.grids
    assert (grid.n_rows, grid.n_cols, grid.spans_known) == (21, 8, True)
    assert grid_cells(grid) == expected_cells(lay)
    (form,) = parse_forms(doc)
    assert_form(form)


def test_declared_non_chinese_charset_is_honoured():
    data = '<meta charset="big5"><p>項目名稱</p>'.encode("big5")
    assert "項目名稱" in decode_html(data, "x.html")


def test_title_and_year_outside_the_table_are_text_blocks(tmp_path):
    lay = layout()
    before = f"<h1>{TITLE}</h1>\n<p>（2020年度）</p><div>单位：元</div>"
    path = tmp_path / "form.htm"
    path.write_text(page(lay, '<meta charset="utf-8">', before, skip=2), encoding="utf-8")
    doc = read_document(path)
    text, grid = doc.grids
    assert (text.is_table, [c.text for c in text.cells]) == (
        False,
        [TITLE, "（2020年度）", "单位：元"],
    )
    assert grid_cells(grid) == shift(expected_cells(lay), 2)
    (form,) = parse_forms(doc)
    assert_form(form)


def test_broken_markup_scripts_and_hidden_elements(tmp_path):
    lay = layout()
    rows = table_rows(lay).replace("</td>", "").replace("</tr>", "")  # no end tags at all
    html = (
        "<HTML><HEAD><META HTTP-EQUIV=Content-Type CONTENT='text/html; charset=gbk'>"
        "<STYLE>td { color: red } /* 项目名称 */</STYLE></HEAD><BODY>"
        "<script>document.write('<table><tr><td>项目名称</td><td>脚本注入</td></tr></table>')</script>"
        "<noscript>请启用脚本</noscript><div style='display:none'>隐藏的项目名称</div>"
        f"<TABLE BORDER=1 CELLPADDING=0>{rows}<span>"  # no </table>, </body>, </span>
    )
    path = tmp_path / "broken.html"
    path.write_bytes(html.encode("gbk"))
    doc = read_document(path)
    texts = " ".join(c.text for g in doc.grids for c in g.cells)
    assert "脚本" not in texts and "隐藏" not in texts and "color" not in texts
    assert grid_cells(doc.grids[0]) == expected_cells(lay)
    (form,) = parse_forms(doc)
    assert_form(form)


def test_paragraphs_and_breaks_in_cells_become_newlines(tmp_path):
    path = tmp_path / "cells.html"
    path.write_text(
        "<table><tr><td><p>第一段</p><p>第二段</p></td><td>上<br>下<br/>  末 尾 </td>"
        "<td>  多个   空格\n 换行 </td></tr></table>",
        encoding="utf-8",
    )
    (grid,) = read_document(path).grids
    assert [c.text for c in grid.cells] == ["第一段\n第二段", "上\n下\n末 尾", "多个 空格 换行"]


def test_nested_table_is_its_own_grid_after_the_outer_one(tmp_path):
    lay = layout()
    inner = f"<table>{table_rows(lay)}</table>"
    path = tmp_path / "nested.html"
    path.write_text(
        "<p>正文前</p><table><tr><td>栏目</td><td><p>附件一</p>"
        f"{inner}<p>附件说明</p></td></tr><tr><td colspan=2>页脚</td></tr></table><p>正文后</p>",
        encoding="utf-8",
    )
    doc = read_document(path)
    before, outer, nested, after = doc.grids
    assert [c.text for c in before.cells] == ["正文前"]
    assert [(c.row, c.col, c.text, c.colspan) for c in outer.cells] == [
        (0, 0, "栏目", 1),
        (0, 1, "附件一\n附件说明", 1),
        (1, 0, "页脚", 2),
    ]
    assert grid_cells(nested) == expected_cells(lay)
    assert [c.text for c in after.cells] == ["正文后"]
    assert doc.n_tables == 2
    (form,) = parse_forms(doc)
    assert_form(form)


def test_absurd_spans_are_clamped(tmp_path):
    path = tmp_path / "spans.html"
    path.write_text(
        "<table><tr><td colspan=999999>标题</td></tr>"
        "<tr><td rowspan=999999>a</td><td>b</td></tr><tr><td>c</td></tr>"
        "<tr><td rowspan=0>d</td><td colspan='2px'>e</td></tr><tr><td rowspan=x>f</td></tr>"
        "</table><table><tr><td colspan=1000000000 rowspan=1000000000>巨</td></tr>"
        "<tr><td>g</td></tr></table>",
        encoding="utf-8",
    )
    small, big = read_document(path).grids
    assert (small.n_rows, small.n_cols) == (5, 3)
    assert [(c.row, c.col, c.text, c.rowspan, c.colspan) for c in small.cells] == [
        (0, 0, "标题", 1, 3),  # cut to the columns the table has
        (1, 0, "a", 4, 1),  # cut to the rows the table has
        (1, 1, "b", 1, 1),
        (2, 1, "c", 1, 1),
        (3, 1, "d", 2, 1),  # 0: to the end of the table
        (3, 2, "e", 1, 1),  # '2px' read as 2, cut at the last column
        (4, 2, "f", 1, 1),
    ]
    assert big.n_cols == 1001 and big.cells[0].colspan == 1000


EXCEL_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml"
xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:x="urn:schemas-microsoft-com:office:excel"
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv=Content-Type content="text/html; charset=gb2312">
<meta name=ProgId content=Excel.Sheet>
<meta name=Generator content="Microsoft Excel 15">
<link id=Main-File rel=Main-File href="../sqb.htm">
<link rel=File-List href=filelist.xml>
<link rel=Stylesheet href=stylesheet.css>
<style>
<!--table
	{mso-displayed-decimal-separator:"\\.";
	mso-displayed-thousand-separator:"\\,";}
.xl65 {mso-style-parent:style0; font-size:16.0pt; text-align:center;}
-->
</style>
<![if !supportTabStrip]><script language="JavaScript">
<!--
function fnUpdateTabs()
 {
  if (parent.window.g_iIshCount) { parent.fnSetActiveSheet(0); }
 }
//-->
</script>
<![endif]>
</head>
<body link=blue vlink=purple class=xl66 onload="fnUpdateTabs()">
<table border=0 cellpadding=0 cellspacing=0 width=768 style='border-collapse:
 collapse;table-layout:fixed;width:576pt'>
 <col class=xl66 width=96 span=8 style='mso-width-source:userset;width:72pt'>
"""


def excel_export(lay: Layout) -> str:
    """The layout the way Excel's "Save as Web Page" writes a sheet (sheet001.htm)."""
    spans = {(r, c): (rs, cs) for r, c, rs, cs in lay.merges}
    hidden = covered(lay)
    out = [EXCEL_HEAD]
    for r, row in enumerate(lay.rows):
        out.append(" <tr height=36 style='mso-height-source:userset;height:27.0pt'>")
        for c, text in enumerate(row):
            if (r, c) in hidden:
                continue
            rs, cs = spans.get((r, c), (1, 1))
            span = (f" rowspan={rs}" if rs > 1 else "") + (f" colspan={cs}" if cs > 1 else "")
            kind = f' x:num="{lay.numbers[(r, c)][0]}"' if (r, c) in lay.numbers else " x:str"
            body = escape(text).replace("（", "<span style='display:none'></span>（")
            out.append(f"  <td{span} class=xl65 width=96{kind}>{body}</td>")
        out.append(" </tr>")
    out.append(" <![if supportMisalignedColumns]>\n <tr height=0 style='display:none'>")
    out.append("  <td width=96 style='width:72pt'></td>" * 8)
    out.append(" </tr>\n <![endif]>\n</table>\n</body>\n</html>\n")
    return "\n".join(out)


def test_excel_save_as_web_page_sheet(tmp_path):
    lay = layout()
    folder = tmp_path / "sqb.files"
    folder.mkdir()
    path = folder / "sheet001.htm"
    path.write_bytes(excel_export(lay).encode("gbk"))
    doc = read_document(path)
    assert len(doc.grids) == 1
    (grid,) = doc.grids
    assert (grid.n_rows, grid.n_cols) == (21, 8)
    assert grid_cells(grid) == expected_cells(lay)
    (form,) = parse_forms(doc)
    assert_form(form)
    assert form.name == NAME


def test_a_table_of_absurd_size_is_refused(tmp_path):
    path = tmp_path / "huge.html"
    path.write_text("<table><tr>" + "<td colspan=1000>x</td>" * 3000 + "</tr></table>")
    with pytest.raises(UnreadableFile, match=r"huge\.html spans more than"):
        read_document(path)


def test_a_score_that_is_not_a_number_is_left_empty_and_flagged(tmp_path):
    lay = layout(NAME)
    assert lay.rows[13][2] == "远程培训平台运维工作完成率" and lay.rows[13][6] == "4"
    lay.rows[13][6] = "约四分"
    lay.rows[12][5] = "5分"  # a unit after the number is fine
    path = tmp_path / "form.html"
    path.write_text(page(lay), encoding="utf-8")

    [form] = parse_forms(read_document(path))

    assert [(i.weight, i.score) for i in form.indicators[:2]] == [(5, 5), (5, None)]
    assert [(c.field, c.text, c.row_ordinal) for c in form.flagged_cells if c.unreadable] == [
        ("score", "约四分", 2)
    ]


@pytest.mark.parametrize(("col", "misread"), [(1, "一级指标"), (2, "二级指标")])
def test_a_level_header_misread_as_the_level_before_heads_the_next_level(tmp_path, col, misread):
    lay = layout()
    at = next(
        r for r, row in enumerate(lay.rows) if row[:3] == ["一级指标", "二级指标", "三级指标"]
    )
    lay.rows[at] = [*lay.rows[at][:col], misread, *lay.rows[at][col + 1 :]]  # 二 read as 一 …
    path = tmp_path / "form.html"
    path.write_text(page(lay), encoding="utf-8")
    (form,) = parse_forms(read_document(path))
    assert_form(form)
