"""Forms linked across files and years: duplicate_of, projects, target_vs_actual, and the
held-back facts, on forms loaded through the warehouse's own loader."""

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from schemas.records import CheckResult, Extraction, Form, FundLine, Indicator, form_id_for
from warehouse import FileLoad, SourceFile, Warehouse
from warehouse.ddl import SCHEMA_VERSION

DEPARTMENT = "上海市人力资源和社会保障局"

# (level1, level2, level3, target, target_op, target_value, target_unit, actual, weight, score)
ROWS = [
    ("产出指标", "数量指标", "享受见习补贴人数", ">5000人", ">", 5000, "人", "9210", 45, 45),
    ("满意度指标", "服务对象满意度指标", "实训机构满意度", "≥90%", ">=", 90, "%", "92", 45, 45),
]


def form(
    sha256: str,
    ordinal: int = 1,
    *,
    name: str = "职业培训基础能力建设资助",
    form_type: str = "project_self_evaluation",
    year: int = 2020,
    department: str = DEPARTMENT,
    executed: str = "13303150.10",
    rows: list[tuple] = ROWS,
) -> Form:
    evaluation = form_type.endswith("self_evaluation")
    return Form(
        form_type=form_type,
        form_ordinal=ordinal,
        form_id=form_id_for(sha256, ordinal),
        fiscal_year=year,
        year_source="form",
        name=name,
        department=department,
        budget_full_year=Decimal("18562710.00"),
        budget_executed=Decimal(executed) if evaluation else None,
        budget_weight=10 if evaluation else None,
        budget_score=10 if evaluation else None,
        total_weight=100 if evaluation else None,
        total_score=100 if evaluation else None,
        fund_lines=[FundLine("年度资金总额", None, Decimal("18562710.00"))],
        indicators=[
            Indicator(
                number,
                level1,
                level2,
                level3,
                target,
                op,
                value,
                unit,
                actual if evaluation else None,
                weight=weight if evaluation else None,
                score=score if evaluation else None,
            )
            for number, (
                level1,
                level2,
                level3,
                target,
                op,
                value,
                unit,
                actual,
                weight,
                score,
            ) in (enumerate(rows, start=1))
        ],
    )


def source(folder: Path, name: str, content: str | None = None) -> SourceFile:
    path = folder / name
    path.write_text(content or name, encoding="utf-8")
    return SourceFile.from_path(path)


def load(warehouse: Warehouse, src: SourceFile, *forms: Form, results=()) -> None:
    warehouse.load_files(
        [FileLoad(src, Extraction(list(forms), extractor="text"), list(results))], "r"
    )


def rows(warehouse: Warehouse, sql: str, params=()) -> list[tuple]:
    return warehouse.connection.execute(sql, list(params)).fetchall()


def duplicates(warehouse: Warehouse) -> dict[str, str | None]:
    return dict(rows(warehouse, "SELECT form_id, duplicate_of FROM forms"))


@pytest.fixture
def warehouse(tmp_path):
    with Warehouse.open(tmp_path / "w.duckdb") as opened:
        yield opened


# --- duplicate_of ---------------------------------------------------------------------------


def test_the_same_form_in_another_file_points_at_the_first_one_seen(warehouse, tmp_path):
    text, pdf = source(tmp_path, "a.txt"), source(tmp_path, "a.pdf")
    load(warehouse, text, form(text.sha256, 1), form(text.sha256, 2, name="促进就业专项资金"))
    printed = form(pdf.sha256, 2)  # the same form, printed with other spacing and widths
    printed.name = "职业培训基础能力 建设资助"
    printed.department = " 上海市人力资源和社会保障局"
    printed.indicators[0].level3 = "享受见习补贴\n人数"
    printed.indicators[1].target_text = "≥ 90%"
    load(warehouse, pdf, form(pdf.sha256, 1, name="另一个项目"), printed)

    assert duplicates(warehouse) == {
        form_id_for(text.sha256, 1): None,
        form_id_for(text.sha256, 2): None,
        form_id_for(pdf.sha256, 1): None,
        form_id_for(pdf.sha256, 2): form_id_for(text.sha256, 1),
    }
    assert rows(warehouse, "SELECT count(*) FROM forms WHERE duplicate_of IS NULL") == [(3,)]


@pytest.mark.parametrize(
    "change",
    [
        {"executed": "13303150.00"},
        {"year": 2021},
        {"department": "上海市财政局"},
        {"form_type": "project_target_declaration"},
        {"rows": [ROWS[0]]},
        {"rows": [ROWS[0], (*ROWS[1][:7], "91", 45, 45)]},
        {"rows": [ROWS[0], (*ROWS[1][:8], 45, 44.5)]},
    ],
    ids=["amount", "year", "department", "family", "indicator dropped", "actual", "score"],
)
def test_a_form_differing_in_any_fact_is_not_a_duplicate(warehouse, tmp_path, change):
    first, second = source(tmp_path, "a.txt"), source(tmp_path, "b.txt")
    load(warehouse, first, form(first.sha256))
    load(warehouse, second, form(second.sha256, **change))
    assert set(duplicates(warehouse).values()) == {None}


def test_the_duplicate_read_first_is_the_first_seen(warehouse, tmp_path):
    pdf, text = source(tmp_path, "a.pdf"), source(tmp_path, "a.txt")
    load(warehouse, pdf, form(pdf.sha256))
    load(warehouse, text, form(text.sha256))
    assert duplicates(warehouse) == {
        form_id_for(pdf.sha256, 1): None,
        form_id_for(text.sha256, 1): form_id_for(pdf.sha256, 1),
    }


def test_reingesting_keeps_the_links_and_replacing_the_first_file_moves_them(warehouse, tmp_path):
    first, second, third = (source(tmp_path, name) for name in ("a.txt", "b.txt", "c.txt"))
    for src in (first, second, third):
        load(warehouse, src, form(src.sha256))
    before = duplicates(warehouse)
    load(warehouse, first, form(first.sha256))  # unchanged: skipped
    assert duplicates(warehouse) == before
    assert before[form_id_for(third.sha256, 1)] == form_id_for(first.sha256, 1)

    replaced = source(tmp_path, "a.txt", "another version of the file")
    load(warehouse, replaced, form(replaced.sha256, name="另一个项目"))

    assert duplicates(warehouse) == {
        form_id_for(replaced.sha256, 1): None,
        form_id_for(second.sha256, 1): None,
        form_id_for(third.sha256, 1): form_id_for(second.sha256, 1),
    }


def test_a_quarantined_first_copy_leaves_the_landed_one_counted(warehouse, tmp_path):
    first, second = source(tmp_path, "a.txt"), source(tmp_path, "b.txt")
    held = form_id_for(first.sha256, 1)
    load(
        warehouse,
        first,
        form(first.sha256),
        results=[CheckResult(held, "total_weight_100", "error")],
    )
    load(warehouse, second, form(second.sha256))
    assert duplicates(warehouse) == {form_id_for(second.sha256, 1): None}

    warehouse.review(held, "released", "publisher confirmed", "me")
    assert duplicates(warehouse) == {held: None, form_id_for(second.sha256, 1): held}


# --- projects -------------------------------------------------------------------------------

NAMES_OF_ONE_PROJECT = [
    (2021, "职业培训基础能力建设资助"),
    (2022, "2022年职业培训基础能力建设资助"),
    (2023, "2023年度职业培训基础能力建设资助专项"),
    (2024, "职业培训基础能力建设资助经费（2024年）"),
    (2025, "（2025年）职业培训基础能力建设资助专项资金"),
    (2026, "职业培训 基础能力建设资助项目"),
]


def test_a_project_keeps_its_id_across_the_naming_differences_of_its_years(warehouse, tmp_path):
    for year, name in NAMES_OF_ONE_PROJECT:
        src = source(tmp_path, f"{year}.txt")
        load(warehouse, src, form(src.sha256, name=name, year=year))
    other = source(tmp_path, "other.txt")
    load(warehouse, other, form(other.sha256, name="职业培训补贴", year=2021))
    elsewhere = source(tmp_path, "elsewhere.txt")
    load(warehouse, elsewhere, form(elsewhere.sha256, department="上海市教育委员会", year=2021))

    projects = rows(
        warehouse,
        "SELECT project_id, list(fiscal_year ORDER BY fiscal_year), any_value(name) "
        "FROM projects GROUP BY ALL ORDER BY project_id",
    )
    assert projects == [
        (
            "上海市人力资源和社会保障局/职业培训基础能力建设资助",
            list(range(2021, 2027)),
            "职业培训 基础能力建设资助项目",
        ),
        ("上海市人力资源和社会保障局/职业培训补贴", [2021], "职业培训补贴"),
        ("上海市教育委员会/职业培训基础能力建设资助", [2021], "职业培训基础能力建设资助"),
    ]


def test_a_project_keeps_its_id_whatever_codes_and_endings_its_department_is_printed_with(
    warehouse, tmp_path
):
    printed = [
        (2025, "266_烟台市交通运输局", "51000021R000000019951-工资性支出"),
        (2026, "烟台市交通运输局", "工资性支出"),
        (2027, "[266]烟台市交通运输局", "工资性支出"),
        (2028, "烟台市交通运输局（本级）", "工资性支出"),  # what budget systems append
        (2029, "烟台市交通运输局部门", "工资性支出"),
    ]
    for year, department, name in printed:
        src = source(tmp_path, f"{year}.txt")
        load(warehouse, src, form(src.sha256, department=department, name=name, year=year))
    hotline = source(tmp_path, "hotline.txt")
    load(warehouse, hotline, form(hotline.sha256, name="12345热线运行经费", year=2026))
    assert rows(
        warehouse,
        "SELECT project_id, list(fiscal_year ORDER BY fiscal_year) FROM projects "
        "GROUP BY ALL ORDER BY project_id",
    ) == [
        ("上海市人力资源和社会保障局/12345热线运行", [2026]),  # a number that is the name stays
        ("烟台市交通运输局/工资性支出", [2025, 2026, 2027, 2028, 2029]),
    ]


def test_a_name_that_is_only_an_ending_is_kept(warehouse, tmp_path):
    src = source(tmp_path, "a.txt")
    load(warehouse, src, form(src.sha256, name="2023年专项资金"))
    assert rows(warehouse, "SELECT project_id FROM projects") == [
        ("上海市人力资源和社会保障局/专项资金",)
    ]


def test_projects_count_a_form_published_twice_once(warehouse, tmp_path):
    first, copy = source(tmp_path, "a.txt"), source(tmp_path, "b.pdf")
    load(warehouse, first, form(first.sha256))
    load(warehouse, copy, form(copy.sha256))
    assert rows(warehouse, "SELECT form_id FROM projects") == [(form_id_for(first.sha256, 1),)]


# --- target_vs_actual -------------------------------------------------------------------------

DECLARED = [
    ("产出指标", "数量指标", "享受见习补贴人数", ">5000人", ">", 5000, "人", None, None, None),
    ("产出指标", "质量指标", "见习补贴应补尽补率", "=100%", "=", 100, "%", None, None, None),
    ("满意度指标", "服务对象满意度指标", "实训机构满意度", "≥90%", ">=", 90, "%", None, None, None),
    ("效益指标", "社会效益指标", "远程培训平台的运行", "稳定", None, None, None, None, None, None),
]
EVALUATED = [
    ("产出指标", "数量指标", "享受见习补贴人数", ">4000人", ">", 4000, "人", "4210", 30, 30),
    ("产出指标", "质量指标", "见习补贴应补尽补率（%）", "100%", None, 100, "%", "100", 30, 30),
    ("满意度指标", "服务对象满意度指标", "实训机构满意度", ">=90%", ">=", 90, "%", "92", 20, 20),
    ("效益指标", "可持续影响指标", "长效管理制度建设", "完善", None, None, None, "完善", 10, 10),
]


def test_a_declaration_beside_its_self_evaluation_indicator_by_indicator(warehouse, tmp_path):
    declared, evaluated = source(tmp_path, "declared.txt"), source(tmp_path, "evaluated.txt")
    load(
        warehouse,
        declared,
        form(
            declared.sha256,
            name="2023年职业培训资助",
            form_type="project_target_declaration",
            year=2023,
            rows=DECLARED,
        ),
    )
    load(
        warehouse,
        evaluated,
        form(evaluated.sha256, name="职业培训资助专项", year=2023, rows=EVALUATED),
    )
    earlier = source(tmp_path, "2022.txt")  # another year: not paired
    load(warehouse, earlier, form(earlier.sha256, name="职业培训资助", year=2022, rows=EVALUATED))

    assert rows(
        warehouse,
        "SELECT project_id, fiscal_year, level3, declared_target_text, evaluated_target_text, "
        "actual_text, score, status, declaration_form_id, self_evaluation_form_id "
        "FROM target_vs_actual ORDER BY coalesce(declared_row_ordinal, 99), evaluated_row_ordinal",
    ) == [
        (
            "上海市人力资源和社会保障局/职业培训资助",
            2023,
            "享受见习补贴人数",
            ">5000人",
            ">4000人",
            "4210",
            30,
            "changed",
            form_id_for(declared.sha256, 1),
            form_id_for(evaluated.sha256, 1),
        ),
        (
            "上海市人力资源和社会保障局/职业培训资助",
            2023,
            "见习补贴应补尽补率",
            "=100%",
            "100%",
            "100",
            30,
            "kept",
            form_id_for(declared.sha256, 1),
            form_id_for(evaluated.sha256, 1),
        ),
        (
            "上海市人力资源和社会保障局/职业培训资助",
            2023,
            "实训机构满意度",
            "≥90%",
            ">=90%",
            "92",
            20,
            "kept",
            form_id_for(declared.sha256, 1),
            form_id_for(evaluated.sha256, 1),
        ),
        (
            "上海市人力资源和社会保障局/职业培训资助",
            2023,
            "远程培训平台的运行",
            "稳定",
            None,
            None,
            None,
            "dropped",
            form_id_for(declared.sha256, 1),
            form_id_for(evaluated.sha256, 1),
        ),
        (
            "上海市人力资源和社会保障局/职业培训资助",
            2023,
            "长效管理制度建设",
            None,
            "完善",
            "完善",
            10,
            "added",
            form_id_for(declared.sha256, 1),
            form_id_for(evaluated.sha256, 1),
        ),
    ]


# --- the held-back facts, and the new columns -----------------------------------------------


def test_a_quarantined_forms_facts_are_in_the_quarantine_views_until_released(warehouse, tmp_path):
    src = source(tmp_path, "a.txt")
    landed, held = form(src.sha256, 1), form(src.sha256, 2, name="另一个项目")
    held.indicators[0].extra = {"评（扣）分标准": "完成得满分", "备注": "—"}
    held.extra_fields = {"评价结论": "全面完成年度目标", "项目负责人": "张三"}
    load(
        warehouse,
        src,
        landed,
        held,
        results=[CheckResult(held.form_id, "score_le_weight", "error", 1)],
    )

    assert rows(warehouse, "SELECT DISTINCT form_id FROM quarantine_indicators") == [
        (held.form_id,)
    ]
    assert rows(warehouse, "SELECT form_id, line FROM quarantine_fund_lines") == [
        (held.form_id, "年度资金总额")
    ]
    assert rows(
        warehouse,
        "SELECT extra->>'评（扣）分标准', extra->>'备注' FROM quarantine_indicators WHERE row_ordinal = 1",
    ) == [("完成得满分", "—")]
    assert rows(warehouse, "SELECT year_source FROM quarantine") == [("form",)]
    assert rows(warehouse, "SELECT DISTINCT form_id FROM indicators") == [(landed.form_id,)]

    warehouse.review(held.form_id, "released", "checked against the PDF", "me")
    assert rows(warehouse, "SELECT count(*) FROM quarantine_indicators") == [(0,)]
    assert rows(warehouse, "SELECT count(*) FROM quarantine_fund_lines") == [(0,)]
    ((year_source, extra),) = rows(
        warehouse,
        "SELECT year_source, extra FROM forms JOIN indicators USING (form_id) "
        "WHERE form_id = ? AND row_ordinal = 1",
        [held.form_id],
    )
    assert (year_source, json.loads(extra)) == (
        "form",
        {"评（扣）分标准": "完成得满分", "备注": "—"},
    )
    assert rows(warehouse, "SELECT count(*) FROM indicators WHERE extra IS NOT NULL") == [(1,)]
    assert rows(
        warehouse,
        "SELECT form_id, extra_fields->>'评价结论' FROM forms WHERE extra_fields IS NOT NULL",
    ) == [(held.form_id, "全面完成年度目标")]


def test_a_version_3_file_gets_the_new_columns_and_its_duplicates_found(tmp_path):
    path = tmp_path / "w.duckdb"
    first_src, copy_src = source(tmp_path, "a.txt"), source(tmp_path, "b.txt")
    with Warehouse.open(path) as opened:  # loaded, then taken back to what version 3 stored
        load(opened, first_src, form(first_src.sha256))
        load(opened, copy_src, form(copy_src.sha256))
    with duckdb.connect(str(path)) as con:
        for view in (
            "forms",
            "indicators",
            "quarantine",
            "projects",
            "target_vs_actual",
            "quarantine_fund_lines",
            "quarantine_indicators",
        ):
            con.execute(f"DROP VIEW {view}")
        for table, column in (
            ("form", "year_source"),
            ("form", "fingerprint"),
            ("form", "extra_fields"),
            ("indicator", "extra"),
        ):
            con.execute(f"ALTER TABLE store.{table} DROP COLUMN {column}")
        con.execute("DELETE FROM store.schema_version")
        con.execute("INSERT INTO store.schema_version (version) VALUES (3)")

    with Warehouse.open(path) as opened:
        assert opened.schema_version() == SCHEMA_VERSION == 5
        assert rows(opened, "SELECT year_source, extra_fields FROM forms") == [(None, None)] * 2
        assert duplicates(opened) == {
            form_id_for(first_src.sha256, 1): None,
            form_id_for(copy_src.sha256, 1): form_id_for(first_src.sha256, 1),
        }
        assert rows(opened, "SELECT count(*) FROM indicators WHERE extra IS NULL") == [(4,)]


def test_a_department_wide_declaration_is_not_set_beside_a_projects_self_evaluation(
    warehouse, tmp_path
):
    declared, evaluated = source(tmp_path, "declared.txt"), source(tmp_path, "evaluated.txt")
    name = "上海市人力资源和社会保障局"
    load(
        warehouse,
        declared,
        form(declared.sha256, name=name, form_type="department_target_declaration", rows=DECLARED),
    )
    load(warehouse, evaluated, form(evaluated.sha256, name=name, rows=EVALUATED))
    assert rows(warehouse, "SELECT count(DISTINCT project_id) FROM projects") == [(1,)]
    assert rows(warehouse, "SELECT count(*) FROM target_vs_actual") == [(0,)]
    department = source(tmp_path, "department.txt")
    whole = form(
        department.sha256, name=name, form_type="department_self_evaluation", rows=EVALUATED
    )
    load(warehouse, department, whole)
    assert rows(warehouse, "SELECT DISTINCT self_evaluation_form_id FROM target_vs_actual") == [
        (form_id_for(department.sha256, 1),)
    ]


def test_a_form_a_real_budget_package_prints_twice_is_counted_once(warehouse, tmp_path):
    """福州市民政局's 2026 package prints its first target form again at the end; the forms here are
    its hand transcription (tests/data/real/expected), loaded as a reader would hand them over."""
    real = Path(__file__).parents[1] / "data" / "real"
    name = "renwu_017_福州_2026年福州市民政局部门预算"
    transcribed = json.loads((real / "expected" / f"{name}.json").read_text(encoding="utf-8"))
    src = SourceFile.from_path(real / "forms" / f"{name}.pdf")
    money = ("budget_initial", "budget_full_year", "budget_executed")
    forms = [
        Form(
            form_type=record["form_type"],
            form_ordinal=ordinal,
            form_id=form_id_for(src.sha256, ordinal),
            fiscal_year=record["fiscal_year"],
            name=record["name"],
            department=record["department"],
            **{field: record[field] and Decimal(record[field]) for field in money},
            fund_lines=[
                FundLine(line["line"], *(line[field] and Decimal(line[field]) for field in money))
                for line in record["fund_lines"]
            ],
            indicators=[
                Indicator(
                    number,
                    row["level1"],
                    row["level2"],
                    row["level3"],
                    row["target_text"],
                    row["target_op"],
                    row["target_value"],
                    row["target_unit"],
                    extra=row["extra"] or None,
                )
                for number, row in enumerate(record["indicators"], start=1)
            ],
        )
        for ordinal, record in enumerate(transcribed["forms"], start=1)
    ]
    load(warehouse, src, *forms)

    assert rows(warehouse, "SELECT form_ordinal, duplicate_of FROM forms ORDER BY 1") == [
        (1, None),
        (2, None),
        (3, None),
        (4, form_id_for(src.sha256, 1)),
    ]
    assert rows(warehouse, "SELECT count(*) FROM projects") == [(3,)]
