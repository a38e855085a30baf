"""Which family a title names: the titles real publications print, and lines that name none."""

import pytest

from schemas.families import family_of_title


@pytest.mark.parametrize(
    ("title", "form_type"),
    [
        ("项目支出绩效自评表", "project_self_evaluation"),
        ("部门预算项目支出绩效自评表", "project_self_evaluation"),  # Sichuan
        ("项目支出绩效评价自评表", "project_self_evaluation"),
        ("部门整体支出绩效评价自评表", "department_self_evaluation"),
        ("部门（单位）整体支出绩效自评表", "department_self_evaluation"),
        ("政策和项目预算绩效目标表", "project_target_declaration"),  # Yantai
        ("专项资金绩效目标表", "policy_target_declaration"),
        ("单位整体支出绩效目标申报表", "department_target_declaration"),
        ("2025年度项目绩效目标表", "project_target_declaration"),
        ("项目支出绩效运行监控表", "project_monitoring"),
        ("部门整体支出绩效监控情况表", "department_monitoring"),
        ("市级部门项目支出绩效表", None),  # Hangzhou's goal-only list
        ("预算绩效目标设置情况说明", None),
    ],
)
def test_the_family_a_title_names(title, form_type):
    family = family_of_title(title)
    assert (family.form_type if family else None) == form_type
