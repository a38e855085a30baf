"""A file whose tables hold a performance form's words but give no form fails loudly; a budget
package or a goal-only project list, which only speak of 绩效目标, stays no_forms."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from extractors.evidence import form_word_pages
from extractors.pdf import read_pdf
from flows.extraction.extract import extract_path

TESTS = Path(__file__).parents[1]
sys.path.insert(0, str(TESTS / "extractors"))

import form_fixture as ff  # noqa: E402
from drawn_forms import RULINGS, DrawnForm, draw  # noqa: E402

FORMS = TESTS / "data" / "real" / "forms"
GOAL_ONLY = [
    FORMS / "renwu_008_杭州_2026年杭州市交通运输局部门预算.pdf",  # 项目名称 | 金额 | 绩效目标 list
    FORMS / "renwu_005_广州_2026年广州市交通运输局部门预算.pdf",  # a 绩效目标 paragraph a project
    FORMS / "renwu_006_苏州_2026年苏州市交通运输局部门预算.pdf",  # 绩效目标 in prose only
]
WIDTHS = [70, 88, 125, 70, 70, 36, 40, 170]


def continuation_page() -> DrawnForm:
    """The indicator table of the fixture form alone, as on the second page of a form whose first
    page the publisher left out: no title, no 项目名称, nothing the parser can start a form on."""
    first, last = ff.FORM_HEIGHT - 10, ff.FORM_HEIGHT - 2
    rows = ff.form_rows()[first : last + 1]
    merges = [(r - first, c, rs, cs) for r, c, rs, cs in ff.MERGES if first < r <= last]
    return DrawnForm(title=[], rows=rows, merges=merges, widths=WIDTHS)


@pytest.mark.parametrize("rulings", RULINGS)
def test_a_table_of_indicators_that_gives_no_form_fails_and_says_what_to_do(tmp_path, rulings):
    pdf = tmp_path / "second_page_only.pdf"
    draw(pdf, [continuation_page()], rulings)
    extraction = extract_path(str(pdf))
    assert extraction.forms == []
    assert extraction.error == (
        "second_page_only.pdf holds performance-form words on page 1 but no form could be read; "
        f"run jixiao debug {pdf} --page 1 --png out.png and report it"
    )


def test_the_pages_named_are_those_of_the_indicator_tables(tmp_path):
    pdf = tmp_path / "three.pdf"
    cover = DrawnForm(title=["附表"], rows=[["说明", "见下页"]], merges=[], widths=[80, 80])
    draw(pdf, [cover, continuation_page(), continuation_page(), cover, continuation_page()], "grid")
    assert form_word_pages(read_pdf(pdf)) == [2, 3, 5]
    assert "on pages 2–3, 5 but" in extract_path(str(pdf)).error


@pytest.mark.parametrize("path", GOAL_ONLY, ids=lambda path: path.name[:12])
def test_a_goal_only_list_stays_no_forms(path):
    extraction = extract_path(str(path))
    assert (extraction.forms, extraction.error) == ([], None)
    assert extraction.pages and extraction.pages > 10


def test_a_page_of_text_dumped_line_by_line_lands_its_form(tmp_path):
    """A form's page as a plain text dump (cells joined by spaces) is rebuilt and read."""
    dump = tmp_path / "page_text.txt"
    dump.write_text(
        "项目支出绩效目标表\n（2025年度）\n项目名称 道路养护 主管部门 区交通委\n"
        "一级指标 二级指标 三级指标 指标值\n产出指标 数量指标 养护里程 ≥12公里\n",
        encoding="utf-8",
    )
    extraction = extract_path(str(dump))
    assert extraction.error is None
    [form] = extraction.forms
    assert (form.name, form.department, form.fiscal_year) == ("道路养护", "区交通委", 2025)
    assert [(i.level1, i.level2, i.level3, i.target_text) for i in form.indicators] == [
        ("产出指标", "数量指标", "养护里程", "≥12公里")
    ]


def test_a_page_of_text_dumped_one_cell_a_line_that_gives_no_form_fails(tmp_path):
    """Dumped one cell a line, no line holds a row: the header words still say a form is there."""
    dump = tmp_path / "page_text.txt"
    dump.write_text(
        "项目支出绩效目标表\n（2025年度）\n项目名称\n道路养护\n主管部门\n区交通委\n"
        "一级指标\n二级指标\n三级指标\n指标值\n产出指标\n数量指标\n养护里程\n≥12公里\n",
        encoding="utf-8",
    )
    extraction = extract_path(str(dump))
    assert extraction.forms == []
    assert extraction.error == (
        "page_text.txt holds performance-form words but no form could be read; "
        f"run jixiao debug {dump} and report it"
    )
