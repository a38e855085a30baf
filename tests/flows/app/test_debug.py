"""`jixiao debug` on real pages: the text and the drawing show cells, column roles and forms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flows.app.cli import main

FORMS = Path(__file__).resolve().parents[2] / "data" / "real" / "forms"


def debug(capsys, *args: str) -> str:
    assert main(["debug", *args]) == 0
    return capsys.readouterr().out


def colour_share(path: Path, colour: tuple[int, int, int]) -> float:
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    return float(np.all(pixels == colour, axis=1).mean())


def test_a_project_list_page_drawn_and_printed(tmp_path, capsys):
    png = tmp_path / "out.png"
    pdf = FORMS / "renwu_005_广州_2026年广州市生态环境局部门预算.pdf"
    out = debug(capsys, str(pdf), "--page", "140", "--png", str(png))
    assert "page 140 (pdf reader)" in out
    assert "table 1: 3 rows x 7 columns" in out
    assert "column roles: 0 name, 1 年度资金总额, 2 当年财政拨款" in out
    assert "5 goal, 6 indicators" in out
    assert "r2 c0: 机构运行辅助经费" in out
    assert "'机构运行辅助经费': pages 140–140, starts here, ends here; 5 indicators" in out
    image = Image.open(png)
    assert (
        abs(image.size[0] - 841.85 * 100 / 72) <= 1 and abs(image.size[1] - 595.25 * 100 / 72) <= 1
    )
    assert colour_share(png, (220, 0, 0)) > 0.001  # the forms' outlines
    assert colour_share(png, (0, 160, 0)) > 0.001  # the cells


def test_a_form_page_shows_the_roles_read_from_its_columns(capsys):
    pdf = FORMS / "renwu_025_烟台_2026年烟台市信访局部门预算.pdf"
    out = debug(capsys, str(pdf), "--page", "31")
    assert "rulings: 21 horizontal, 9 vertical" in out
    assert "column roles: 1 level1, 2 level2, 3 level3, 4 target" in out
    assert "'接访大厅运行经费': pages 31–31, starts here, ends here" in out


def test_a_page_the_file_does_not_have_is_a_usage_error(capsys):
    pdf = FORMS / "renwu_025_烟台_2026年烟台市信访局部门预算.pdf"
    assert main(["debug", str(pdf), "--page", "99"]) == 2
    assert (
        "--page 99: renwu_025_烟台_2026年烟台市信访局部门预算.pdf has 36 pages"
        in capsys.readouterr().err
    )


def test_a_spreadsheet_is_printed_not_drawn(tmp_path, capsys):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["项目名称", "金额", "绩效目标"])
    book.active.append(["日常运行", "10.00", "保障运行"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    assert main(["debug", str(path), "--png", str(tmp_path / "x.png")]) == 2
    captured = capsys.readouterr()
    assert "r1 c0: 日常运行" in captured.out
    assert "has no pages to draw" in captured.err


def test_a_file_without_forms_says_what_it_held_and_how_to_see_it():
    from flows.extraction.extract import extract_path
    from warehouse import no_forms_message

    pdf = FORMS / "renwu_008_杭州_2026年杭州市交通运输局部门预算.pdf"
    extraction = extract_path(str(pdf))
    assert extraction.forms == []
    assert no_forms_message(extraction) == "41 pages, 11 tables, no performance form"
    assert extraction.notes == [  # the file's source_files note goes on with these
        "a project list with goals but no indicators (pages 39–41)",
        f"to see what was read, run: jixiao debug {pdf} --page 39 --png out.png",
    ]


def test_a_scanned_page_drawn_over_the_image(tmp_path, capsys):
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the sample's CJK text")
    rasterize = Path(__file__).resolve().parents[2] / "data" / "scans" / "rasterize.py"
    sample = Path(__file__).resolve().parents[3] / "samples" / "pdf" / "self_eval_three_forms.pdf"
    subprocess.run(
        [sys.executable, str(rasterize), str(sample), str(tmp_path), "150", "1"], check=True
    )
    scan, png = tmp_path / "self_eval_three_forms_p1.png", tmp_path / "debug.png"
    out = debug(capsys, str(scan), "--png", str(png))
    assert "page 1 (scan reader)" in out
    roles = "column roles: 0 level1, 1 level2, 2 level3, 3 target, 4 actual, 5 weight, 6 score"
    assert roles in out
    assert "form 1 project_self_evaluation '职业培训基础能力建设资助': pages 1–1" in out
    width, height = Image.open(scan).size  # 150 dpi, drawn at 100 dpi
    assert Image.open(png).size == (round(width * 100 / 150), round(height * 100 / 150))
    assert colour_share(png, (220, 0, 0)) > 0.001
