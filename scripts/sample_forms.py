"""The form data printed into the sample PDFs (samples/pdf/), as the records a parser must return.

Names, values and wording follow the seeds (DOMAIN.md §1, §2, §4). Money is in 元 here even where
the PDF prints 万元. Conventions the expected records follow:

- fund lines: every printed line, named as in SCHEMA.md (年度资金总额, 当年财政拨款, 上年结转资金,
  其他资金: no ``其中：``); blank cells and ``—`` are None. On a project target declaration the
  lines are the annual block (年度资金申请总额 as 年度资金总额, amounts as ``budget_full_year``), and
  项目资金总额 goes to ``project_funds_total``; on a policy declaration they are the 子项目 rows (预算金额 as
  ``budget_full_year``).
- indicators: one per printed 三级 row; blank cells are None; goal texts without HTML tags.
- 政策日期 ``2017-01至2023-12`` gives planned_start 2017-01-01 and planned_end 2023-12-31.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from schemas.records import Form, FundLine, Indicator

WAN = Decimal(10000)

# (level1, level2, level3, target, actual, weight, score, deviation reason)
Row = tuple[str, str, str, str, str, float, float, str]


def yuan(text: str, unit: str = "元") -> Decimal:
    """Printed money → Decimal 元 (2 dp)."""
    value = Decimal(text.replace(",", ""))
    if unit == "万元":
        value *= WAN
    return value.quantize(Decimal("0.01"))


def _rate(executed: Decimal, budget: Decimal) -> float:
    return float((executed / budget).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _round(x: float, digits: int) -> float:
    return float(Decimal(str(x)).quantize(Decimal(10) ** -digits, rounding=ROUND_HALF_UP))


def self_evaluation(
    *,
    name: str,
    department: str,
    unit: str,
    year: int,
    initial: str,
    full_year: str,
    executed: str,
    rows: list[Row],
    goal_planned: str,
    goal_actual: str,
    money_unit: str = "元",
    sub_lines: dict[str, tuple[str, str, str]] | None = None,
    budget_score_digits: int = 1,
    printed_rate: float | None = None,
    printed_total_score: float | None = None,
    printed_total_weight: float = 100,
) -> Form:
    """A 项目支出绩效自评表; scores and totals computed unless a printed value is given."""
    b_initial, b_full, b_exec = (yuan(v, money_unit) for v in (initial, full_year, executed))
    rate = printed_rate if printed_rate is not None else _rate(b_exec, b_full)
    budget_score = _round(min(rate, 1.0) * 10, budget_score_digits)
    total = printed_total_score
    if total is None:
        total = _round(budget_score + sum(r[6] for r in rows), 2)
    lines = [FundLine("年度资金总额", b_initial, b_full, b_exec, 10, rate, budget_score)]
    for line in ("当年财政拨款", "上年结转资金", "其他资金"):
        values = (sub_lines or {}).get(line)
        amounts = [yuan(v, money_unit) if v else None for v in values] if values else [None] * 3
        lines.append(FundLine(line, *amounts))
    return Form(
        form_type="project_self_evaluation",
        fiscal_year=year,
        name=name,
        department=department,
        implementing_unit=unit,
        money_unit=money_unit,
        budget_initial=b_initial,
        budget_full_year=b_full,
        budget_executed=b_exec,
        execution_rate=rate,
        budget_weight=10,
        budget_score=budget_score,
        total_weight=printed_total_weight,
        total_score=total,
        goal_planned=goal_planned,
        goal_actual=goal_actual,
        fund_lines=lines,
        indicators=[
            Indicator(
                row_ordinal=i,
                level1=l1,
                level2=l2,
                level3=l3,
                target_text=target or None,
                actual_text=actual or None,
                weight=weight,
                score=score,
                deviation_reason=reason or None,
            )
            for i, (l1, l2, l3, target, actual, weight, score, reason) in enumerate(rows, 1)
        ],
    )


HRSS = "上海市人力资源和社会保障局"
JOBS = "上海市就业促进中心"
COVID = "因疫情影响部分职业无法开展培训工作"


def training_capacity() -> Form:
    """Seed 000 form 1 (top-aligned labels in the seed)."""
    return self_evaluation(
        name="职业培训基础能力建设资助",
        department=HRSS,
        unit=JOBS,
        year=2020,
        initial="119979860.00",
        full_year="18562710.00",
        executed="13,303,150.10",
        goal_planned="通过按照项目计划时间节点，整合各方资源，有序推进师资进修、公共实训基地建设、设立青年（大学生）职业训练营、实施青年就业创业见习补贴等工作，提高资金效益，并加强项目管理。",
        goal_actual="完成年度计划安排的公共实训项目开发工作，满足社会培训机构、协会、院校学生的实训与鉴定的需求，以及创业团队和创业者的需求，保障远程培训项目的稳定运行。",
        rows=[
            ("产出指标", "数量指标", "享受见习补贴人数", ">5000人", "9210", 5, 5, ""),
            (
                "产出指标",
                "质量指标",
                "远程培训平台各项运维管理工作完成率",
                "=100%",
                "90%",
                5,
                4,
                COVID,
            ),
            ("产出指标", "质量指标", "见习补贴应补尽补率", "=100%", "100%", 5, 5, ""),
            ("产出指标", "时效指标", "公共实训项目开发完成及时性", "及时", "及时", 5, 5, ""),
            ("效益指标", "社会效益指标", "远程培训平台的运行", "稳定", "稳定", 5, 5, ""),
            (
                "效益指标",
                "社会效益指标",
                "开发远程课件的作用",
                "示范引领作用",
                "示范引领作用",
                5,
                5,
                "",
            ),
            ("效益指标", "可持续影响指标", "提高劳动者技能水平", "提高", "较有提高", 5, 4, COVID),
            ("效益指标", "可持续影响指标", "服务社会化", "满足实训与鉴定需求", "满足", 5, 5, ""),
            ("效益指标", "可持续影响指标", "长效管理制度建设", "完善", "较完善", 5, 5, ""),
            ("效益指标", "可持续影响指标", "项目的社会影响力", "高", "较高", 5, 4, COVID),
            ("满意度指标", "服务对象满意度指标", "实训机构满意度", ">90%", "90", 7, 7, ""),
            ("满意度指标", "服务对象满意度指标", "实训学员满意度", ">90%", "90", 7, 7, ""),
            ("满意度指标", "服务对象满意度指标", "鉴定机构满意度", ">90%", "90", 7, 7, ""),
            ("满意度指标", "服务对象满意度指标", "学员见习满意率", ">80%", "84", 7, 7, ""),
            ("满意度指标", "服务对象满意度指标", "见习基地满意度", ">80%", "84", 7, 7, ""),
            ("满意度指标", "服务对象满意度指标", "项目的社会满意度", "高", "较高", 5, 4, COVID),
        ],
    )


def employment_fund() -> Form:
    """Seed 000 form 2, read as centred spans; the printed total is rounded (97 for 97.2)."""
    return self_evaluation(
        name="促进就业专项资金",
        department=HRSS,
        unit=JOBS,
        year=2020,
        initial="146407273.00",
        full_year="108513463.00",
        executed="103,543,032.12",
        goal_planned="通过创业指导、职业培训、公共实训基地运维、特殊人员及岗位扶持等工作，采用财政补贴方式，促进中小企业发展，拓宽就业渠道，促进劳动者就业。",
        goal_actual="确保了两个公共实训基地专业、高效、有序运作，完成了2项调查项目和2项宣传项目，提高了档案服务相关政策的知晓度。",
        printed_total_score=97,
        rows=[
            ("产出指标", "数量指标", "享受职业技能补贴人数", "≥5000人", "6120", 5, 5, ""),
            ("产出指标", "质量指标", "职业技能鉴定合格率", ">=85%", "92.13", 5, 5, ""),
            ("产出指标", "质量指标", "公共实训基地运维质量", "良好", "良好", 5, 5, ""),
            ("产出指标", "质量指标", "耗材验收合格率", "=100%", "100", 5, 5, ""),
            (
                "产出指标",
                "质量指标",
                "故障的修复率",
                "=100%",
                "95%以上",
                5,
                4,
                "少部分设备过于陈旧，无维修配件。",
            ),
            ("产出指标", "时效指标", "就业补贴及时性", "及时", "及时", 5, 5, ""),
            ("效益指标", "社会效益指标", "调查有效性", "有效", "有效", 5, 5, ""),
            (
                "效益指标",
                "社会效益指标",
                "政策知晓率",
                ">=85%",
                "80",
                5,
                4.7,
                "由于疫情使得线下进高校宣传活动受限，主要依靠线上媒体进行宣传，今后将结合线下及线上多种形式，进一步提高政策知晓率。",
            ),
            ("效益指标", "可持续影响指标", "长效管理制度建设", "完善", "完善", 5, 5, ""),
            (
                "效益指标",
                "可持续影响指标",
                "提高劳动者技能水平",
                "提高",
                "提高",
                5,
                4,
                "受疫情影响，实训人次较往年下降。",
            ),
            ("满意度指标", "服务对象满意度指标", "学员满意度", ">90%", "90", 10, 10, ""),
            ("满意度指标", "服务对象满意度指标", "项目管理人员满意度", ">80%", "80", 10, 10, ""),
            ("满意度指标", "服务对象满意度指标", "受补贴人员满意度", ">80%", "80", 10, 10, ""),
            ("满意度指标", "服务对象满意度指标", "用人单位满意度", ">85%", "86", 10, 10, ""),
        ],
    )


def skills_bases() -> Form:
    """Seed 000 form 3: empty actuals that are still scored; no 满意度 block."""
    return self_evaluation(
        name="高技能人才培养基地建设资助",
        department=HRSS,
        unit=JOBS,
        year=2020,
        initial="204860000.00",
        full_year="122769150.00",
        executed="122,705,702.86",
        goal_planned="通过实训设施设备添置资助、师资队伍建设的资助，提高高技能人才培养基地的职业培训水平，提升企业职工整体素质。",
        goal_actual="通过对本市高技能人才培养基地实训设施设备添置项目予以资助，使培养项目的行业覆盖面覆盖得更广。",
        rows=[
            ("产出指标", "数量指标", "项目公示率", "=100%", "100", 10, 10, ""),
            ("产出指标", "数量指标", "项目评审率", "=100%", "100", 10, 10, ""),
            (
                "产出指标",
                "质量指标",
                "预审准确率",
                "=100%",
                "95",
                10,
                9.5,
                "预算完成率95%，今后加强预算正确性。",
            ),
            ("产出指标", "质量指标", "发放准确率", "=100%", "100", 10, 10, ""),
            (
                "产出指标",
                "时效指标",
                "评审及时率",
                "=100%",
                "90",
                10,
                9,
                "评审周期较长，今后提高评审及时性。",
            ),
            (
                "效益指标",
                "社会效益指标",
                "社会满意度",
                ">=85%",
                "",
                8,
                7.2,
                "由于政策宣传未到位，部分基地未能及时申报，今后加强宣传，提高满意度。",
            ),
            (
                "效益指标",
                "社会效益指标",
                "政策知晓率",
                ">=85%",
                "",
                8,
                7.2,
                "申请资质基地占全部基地25%，今后加强自主项目的宣传。",
            ),
            (
                "效益指标",
                "可持续影响指标",
                "机构体系建设的完善性",
                "体系完善",
                "较完善",
                8,
                6.5,
                "机构体系建设不够完善，今后加强辅导，协助基地完善体系建设，促进基地发展。",
            ),
            (
                "效益指标",
                "可持续影响指标",
                "资助项目动态化管理",
                "动态化管理",
                "动态化管理",
                8,
                8,
                "",
            ),
            (
                "效益指标",
                "可持续影响指标",
                "高技能人才培养基地培养项目的行业覆盖面",
                "更广",
                "更广",
                8,
                8,
                "",
            ),
        ],
    )


PUTUO_HRSS = "上海市普陀区人力资源和社会保障局"
PUTUO_JOBS = "上海市普陀区就业促进中心"


def public_employment_services() -> Form:
    """A long form (32 indicator rows) that runs over three pages."""
    quantity = [
        ("举办招聘会场次", "≥24场", "26场"),
        ("提供就业岗位数", "≥12000个", "13560个"),
        ("职业指导人次", "≥8000人次", "8430人次"),
        ("创业培训人数", "≥600人", "652人"),
        ("发放就业见习补贴人数", "≥300人", "318人"),
        ("开展长期失业青年帮扶人数", "≥150人", "171人"),
        ("发布就业服务信息推文数", "≥1300篇", "1362篇"),
        ("举办创业活动数", ">15次", "18次"),
        ("青少年技能体验项目数", "≥15次", "15次"),
        ("社区就业服务站覆盖率", "=100%", "100%"),
    ]
    quality = [
        ("就业困难人员安置率", ">=95%", "96.3%"),
        ("补贴发放准确率", "=100%", "100%"),
        ("职业技能鉴定合格率", ">=85%", "88.2%"),
        ("招聘会岗位匹配率", ">=60%", "63%"),
        ("服务台账完整率", "=100%", "100%"),
        ("创业培训合格率", ">=90%", "91.5%"),
    ]
    timeliness = [
        ("补贴发放及时性", "及时", "及时"),
        ("就业数据上报及时率", "=100%", "100%"),
        ("年度总结提交及时性", "在项目计划完成时间内完成", "按时完成"),
    ]
    social = [
        ("城镇登记失业人员就业率", ">=70%", "72.4%"),
        ("新增就业岗位数", "≥5000个", "5326个"),
        ("帮扶引领成功创业人数", "≥500人", "534人"),
        ("政策知晓率", ">=85%", "86%"),
    ]
    sustain = [
        ("长效管理制度健全性", "健全", "健全"),
        ("就业服务信息化水平", "提升", "提升"),
        ("基层就业服务队伍稳定性", "稳定", "稳定"),
    ]
    satisfaction = [
        ("求职人员满意度", ">=90%", "92%"),
        ("用人单位满意度", ">=90%", "91%"),
        ("创业者满意度", ">=85%", "87%"),
        ("见习学员满意度", ">=85%", "90%"),
        ("社区居民满意度", ">=85%", "86%"),
    ]
    rows: list[Row] = []
    for group, l1, l2, weight in (
        (quantity, "产出指标", "数量指标", 2),
        (quality, "产出指标", "质量指标", 2),
        (timeliness, "产出指标", "时效指标", 2),
        (social, "效益指标", "社会效益指标", 5),
        (sustain, "效益指标", "可持续影响指标", 4),
        (satisfaction, "满意度指标", "服务对象满意度指标", 4),
    ):
        rows += [
            (l1, l2, name, target, actual, weight, weight, "") for name, target, actual in group
        ]
    rows[19] = (
        *rows[19][:5],
        5,
        4.5,
        "受经济下行影响，部分企业用工需求收缩，就业率提升幅度低于预期；下一年度将加大岗位归集力度，扩大重点群体帮扶范围。",
    )
    return self_evaluation(
        name="公共就业服务能力提升项目",
        department=PUTUO_HRSS,
        unit=PUTUO_JOBS,
        year=2021,
        initial="8,650,000.00",
        full_year="9,120,000.00",
        executed="8,874,316.45",
        sub_lines={
            "当年财政拨款": ("8,650,000.00", "8,650,000.00", "8,404,316.45"),
            "上年结转资金": ("", "470,000.00", "470,000.00"),
            "其他资金": ("", "", ""),
        },
        budget_score_digits=2,
        goal_planned="围绕稳就业、保就业目标，开展招聘、职业指导、创业培训和就业见习等公共就业服务，全年提供就业岗位不少于12000个，帮扶重点群体实现就业。",
        goal_actual="全年举办招聘会26场，提供就业岗位13560个，职业指导8430人次，帮扶534人成功创业，城镇登记失业人员就业率72.4%，完成年度目标。",
        rows=rows,
    )


def community_elderly_care() -> Form:
    """The page-break form: a split reason row and 一级/二级 spans cut by the break."""
    return self_evaluation(
        name="社区养老服务设施运营补贴",
        department="上海市普陀区民政局",
        unit="上海市普陀区社会福利中心",
        year=2022,
        initial="5,600,000.00",
        full_year="5,600,000.00",
        executed="5,017,385.20",
        budget_score_digits=2,
        goal_planned="保障辖区内长者照护之家、日间照料中心和助餐点正常运营，提升社区养老服务供给能力和服务质量。",
        goal_actual="全年补贴长者照护之家6家、日间照料中心14家、社区助餐点22个，服务老年人累计31.6万人次。",
        rows=[
            ("产出指标", "数量指标", "补贴长者照护之家数量", "≥6家", "6家", 6, 6, ""),
            ("产出指标", "数量指标", "补贴日间照料中心数量", "≥14家", "14家", 6, 6, ""),
            ("产出指标", "数量指标", "社区助餐点数量", "≥20个", "22个", 6, 6, ""),
            ("产出指标", "数量指标", "服务老年人次", "≥30万人次", "31.6万人次", 6, 6, ""),
            ("产出指标", "质量指标", "服务设施安全检查覆盖率", "=100%", "100%", 6, 6, ""),
            ("产出指标", "质量指标", "助餐食品安全抽检合格率", "=100%", "100%", 5, 5, ""),
            ("产出指标", "时效指标", "补贴资金拨付及时性", "及时", "及时", 5, 5, ""),
            (
                "效益指标",
                "社会效益指标",
                "老年人就近养老需求满足率",
                ">=90%",
                "86%",
                8,
                7.2,
                "部分街道助餐点选址受场地限制尚未落地，服务半径覆盖不足，导致就近养老需求满足率低于年初目标。下一步将会同街道盘活闲置公房资源，新增助餐点和日间照料中心，扩大服务覆盖面，并对服务半径进行动态评估，确保需求满足率逐年提升。",
            ),
            ("效益指标", "社会效益指标", "家庭照护负担减轻情况", "有效减轻", "有效减轻", 8, 8, ""),
            ("效益指标", "可持续影响指标", "养老服务设施运营稳定性", "稳定", "稳定", 7, 7, ""),
            (
                "效益指标",
                "可持续影响指标",
                "长效管理制度健全性",
                "健全",
                "较健全",
                7,
                6,
                "运营监管办法尚在修订，明年完成发布。",
            ),
            (
                "满意度指标",
                "服务对象满意度指标",
                "老年人满意度",
                "≥90.00(%)",
                "93.50(%)",
                10,
                10,
                "",
            ),
            (
                "满意度指标",
                "服务对象满意度指标",
                "老年人家属满意度",
                "≥85.00(%)",
                "88.20(%)",
                10,
                10,
                "",
            ),
        ],
    )


def rural_roads_wanyuan() -> Form:
    """A 万元 form (Anhui style labels and values with thousands separators)."""
    return self_evaluation(
        name="农村公路提档升级工程",
        department="219-池州市贵池区交通运输局",
        unit="219001-池州市贵池区公路事业发展中心",
        year=2022,
        money_unit="万元",
        initial="1,234.56",
        full_year="1,180.00",
        executed="1,096.35",
        budget_score_digits=2,
        sub_lines={
            "当年财政拨款": ("1,234.56", "1,180.00", "1,096.35"),
            "上年结转资金": ("0.00", "0.00", "0.00"),
            "其他资金": ("0.00", "0.00", "0.00"),
        },
        goal_planned="完成农村公路提档升级12.5公里，改善沿线群众出行条件。",
        goal_actual="完成农村公路提档升级12.8公里，工程验收合格，沿线群众出行条件明显改善。",
        rows=[
            ("产出指标", "数量指标", "提档升级里程", "≥12.5公里", "12.8公里", 15, 15, ""),
            ("产出指标", "质量指标", "工程验收合格率", "=100%", "100%", 15, 15, ""),
            (
                "产出指标",
                "时效指标",
                "工程按期完工率",
                ">=95%",
                "92%",
                10,
                9.68,
                "受汛期影响，两个标段工期顺延，已督促施工单位倒排工期。",
            ),
            ("产出指标", "成本指标", "每公里建设成本", "≤90万元", "85.65万元", 10, 10, ""),
            (
                "效益指标",
                "社会效益指标",
                "沿线群众出行条件改善情况",
                "明显改善",
                "明显改善",
                15,
                15,
                "",
            ),
            ("效益指标", "可持续影响指标", "道路养护机制健全性", "健全", "健全", 15, 15, ""),
            ("满意度指标", "满意度指标", "沿线群众满意度", ">=90%", "94%", 10, 10, ""),
        ],
    )


def school_meals_wanyuan() -> Form:
    """A second 万元 form with an empty 上年结转资金 line."""
    return self_evaluation(
        name="农村义务教育学生营养改善计划",
        department="219-池州市贵池区教育体育局",
        unit="219003-池州市贵池区学生资助管理中心",
        year=2022,
        money_unit="万元",
        initial="2,016.00",
        full_year="2,016.00",
        executed="2,016.00",
        budget_score_digits=2,
        sub_lines={
            "当年财政拨款": ("2,016.00", "2,016.00", "2,016.00"),
            "上年结转资金": ("", "", ""),
            "其他资金": ("", "", ""),
        },
        goal_planned="为农村义务教育阶段学生提供营养膳食补助，每生每天5元，改善学生营养状况。",
        goal_actual="全年惠及学生1.68万人，补助资金足额发放到校，学生营养状况持续改善。",
        rows=[
            ("产出指标", "数量指标", "受助学生人数", "≥1.6万人", "1.68万人", 20, 20, ""),
            ("产出指标", "质量指标", "补助资金足额发放率", "=100%", "100%", 15, 15, ""),
            ("产出指标", "时效指标", "资金拨付及时率", "=100%", "100%", 15, 15, ""),
            ("效益指标", "社会效益指标", "学生营养状况", "持续改善", "持续改善", 15, 15, ""),
            (
                "效益指标",
                "可持续影响指标",
                "食品安全管理制度执行情况",
                "严格执行相关制度规定",
                "严格执行",
                15,
                15,
                "",
            ),
            ("满意度指标", "服务对象满意度指标", "学生及家长满意度", ">=90%", "96%", 10, 10, ""),
        ],
    )


def value_notations() -> Form:
    """Value notations in the wild, narrow wrapping columns, an HTML-tagged goal (tags dropped)."""
    return self_evaluation(
        name="乐业上海公共就业服务品牌推广",
        department=HRSS,
        unit=JOBS,
        year=2023,
        initial="3,200,000.00",
        full_year="3,050,000.00",
        executed="2,961,402.37",
        goal_planned="完成“乐业上海”微信平台全年运营，实现各类政策活动和就业服务的宣传，进一步扩大公共就业服务品牌影响力。",
        goal_actual="“乐业上海”微信平台粉丝数达到17.2万人次，全年发布推文1362篇，品牌影响力持续提升。",
        rows=[
            (
                "产出指标",
                "数量指标",
                "乐业上海微信平台粉丝数",
                "≥16万人次",
                "17.2万人次",
                10,
                10,
                "",
            ),
            ("产出指标", "数量指标", "发布就业服务信息推文数", "≥1300篇", "1362篇", 10, 10, ""),
            (
                "产出指标",
                "数量指标",
                "调查样本数量",
                "≥25000",
                "",
                10,
                9,
                "受调查方式调整影响，本年度样本回收数据尚未完成汇总，实际完成值以次年一季度汇总结果为准，今后将提前部署调查进度并加强过程跟踪。",
            ),
            ("产出指标", "质量指标", "项目验收达标率", "=100.00(%)", "100.00(%)", 10, 10, ""),
            ("产出指标", "质量指标", "推文内容审核合格率", ">=85%", "95%以上", 10, 10, ""),
            ("产出指标", "时效指标", "活动信息发布及时性", "及时", "及时", 5, 5, ""),
            (
                "效益指标",
                "社会效益指标",
                "政策知晓率",
                ">=85%",
                "80",
                10,
                9.41,
                "线下宣传活动场次减少，政策触达面不足；下一年度将结合线上直播和社区宣讲，扩大政策宣传覆盖面，提高重点群体的政策知晓率。",
            ),
            ("效益指标", "社会效益指标", "实训室设备安全事故发生数", "=0", "0", 5, 5, ""),
            (
                "效益指标",
                "可持续影响指标",
                "公共就业服务品牌影响力",
                "进一步扩大",
                "扩大",
                10,
                10,
                "",
            ),
            (
                "满意度指标",
                "服务对象满意度指标",
                "平台用户满意度",
                ">90%",
                "",
                10,
                9,
                "满意度调查问卷回收率偏低，今后改进调查方式。",
            ),
        ],
    )


FAULT_ROWS: list[Row] = [
    ("产出指标", "数量指标", "培训场次", "≥10场", "10场", 20, 20, ""),
    ("产出指标", "质量指标", "培训合格率", ">=90%", "92%", 20, 20, ""),
    ("产出指标", "时效指标", "培训完成及时性", "及时", "及时", 10, 10, ""),
    ("效益指标", "社会效益指标", "业务能力提升情况", "提升", "提升", 20, 20, ""),
    ("满意度指标", "服务对象满意度指标", "参训人员满意度", ">=90%", "93%", 20, 20, ""),
]


def _fault_form(name: str, **overrides: object) -> Form:
    """A small clean form with one fault put in by ``overrides``."""
    kwargs: dict = dict(
        name=name,
        department="上海市普陀区财政局",
        unit="上海市普陀区财政局",
        year=2022,
        initial="1,000,000.00",
        full_year="1,000,000.00",
        executed="850,000.00",
        goal_planned="按计划完成年度工作任务。",
        goal_actual="完成年度工作任务。",
        rows=FAULT_ROWS,
    )
    kwargs.update(overrides)
    return self_evaluation(**kwargs)


def faulty_forms() -> list[tuple[Form, str]]:
    """One form per arithmetic fault, with the check that must catch it."""
    over = list(FAULT_ROWS)
    over[1] = (*FAULT_ROWS[1][:5], 20, 22, "")
    short = list(FAULT_ROWS)
    short[4] = (*FAULT_ROWS[4][:5], 15, 15, "")
    return [
        (_fault_form("财务人员业务培训（得分超分值）", rows=over), "score_le_weight"),
        (
            _fault_form("预算管理一体化运维（执行数超预算）", executed="1,032,500.00"),
            "executed_le_budget",
        ),
        (
            _fault_form("政府采购监督检查（执行率错误）", printed_rate=0.88),
            "execution_rate_consistent",
        ),
        (
            _fault_form("国库集中支付运行保障（总分不符）", printed_total_score=96),
            "total_score_consistent",
        ),
        (_fault_form("会计人员继续教育（分值合计不为100）", rows=short), "total_weight_100"),
    ]


def policy_declaration() -> Form:
    """Seed 004: a 财政政策绩效目标申报表 with empty 二级 rows."""
    rows = [
        ("产出指标", "数量指标", "调查样本数量", "≥25000"),
        ("产出指标", "数量指标", "举办创业活动数", ">15次"),
        ("产出指标", "数量指标", "市级创业孵化示范基地评估", "125家"),
        ("产出指标", "数量指标", "发布就业服务信息推文数", "≥1300篇"),
        ("产出指标", "质量指标", "调查报告验收合格率", "100%"),
        ("产出指标", "质量指标", "院校创业指导站建站评估合格率", ">=95%"),
        ("产出指标", "质量指标", "实训鉴定设备故障修复率", ">=90%"),
        ("效益指标", "社会效益指标", "调查成果应用情况", "形成专题调研报告报市领导决策参考"),
        ("效益指标", "社会效益指标", "乐业上海微信平台粉丝数", "≥16万人次"),
        ("效益指标", "社会效益指标", "实训室设备安全事故发生数", "=0"),
        ("满意度指标", "服务对象满意度指标", "监狱局、戒毒所满意度", ">=95%"),
        ("满意度指标", "服务对象满意度指标", "实训人员满意度", ">=90%"),
    ]
    return Form(
        form_type="policy_target_declaration",
        fiscal_year=2023,
        name="促进就业专项资金",
        department=HRSS,
        planned_start=date(2017, 1, 1),
        planned_end=date(2023, 12, 31),
        goal_overall="通过创业指导、职业培训、公共实训基地运维、特殊人员的岗位扶持等工作，激发全社会创新、创业意识，促进中小企业发展，拓宽就业渠道，促进劳动者就业。",
        goal_planned="根据当年度制定发布的政府补贴培训目录，组织和指导各区推进相关职业培训；公共实训基地运维质量总体良好；完成“乐业上海”微信平台全年运营。",
        goal_actual="全年计划举办技能体验活动不少于15场，发布就业服务信息推文至少1300篇，对117家市级创业孵化示范基地进行评估，进行至少2次就业统计分析调查。",
        fund_lines=[
            FundLine("公共实训基地服务平台运作", budget_full_year=yuan("38,600,000.00")),
            FundLine("就业状况调查统计", budget_full_year=yuan("2,450,000.00")),
            FundLine("服刑戒毒人员培训", budget_full_year=yuan("1,280,000.00")),
        ],
        indicators=[
            Indicator(row_ordinal=i, level1=a, level2=b, level3=c, target_text=t)
            for i, (a, b, c, t) in enumerate(rows, 1)
        ],
    )


POLICY_EXTRA = {
    "资金用途": "其他事业专业类",
    "政策日期": "2017-01至2023-12",
    "政策概况": "本资金用于本市各项促进就业工作的资金支持，主要用于公共实训基地服务平台运作费用、就业状况调查统计、服刑戒毒人员培训费用、应届毕业生培训补贴。",
    "政策设立的必要性": "就业是最大的民生，也是经济发展最基本的支撑。《中华人民共和国就业促进法》规定县级以上人民政府应当在财政预算中安排就业专项资金用于促进就业工作。",
    "保证政策实施的制度、措施": "按照《上海市促进就业专项资金管理办法（试行）》加强资金管理和监督，提高资金使用的安全性、规范性和资金使用效益。",
    "政策实施计划": "（一）职业培训：指导监狱、戒毒所对服刑戒毒人员组织开展职业技能培训。（二）公共实训基地：做好公共实训基地服务平台运作项目的采购和实施工作。",
}


def project_declaration() -> Form:
    """The real 2026 财政项目支出绩效目标申报表 page (兰溪路-真南路下立交工程)."""
    rows = [
        ("成本指标", "生态环境成本指标", "文明施工情况", "可控"),
        ("产出指标", "数量指标", "道路建设长度", "985米"),
        ("产出指标", "质量指标", "项目验收达标率", "=100.00(%)"),
        ("产出指标", "时效指标", "项目完成及时性", "及时"),
        ("效益指标", "社会效益指标", "道路安全隐患减少情况", "减少"),
        ("效益指标", "社会效益指标", "道路景观提升情况", "提升"),
        ("效益指标", "社会效益指标", "道路通行能力提升情况", "提升"),
        ("效益指标", "可持续影响指标", "长效管理制度健全性", "健全"),
        ("满意度指标", "服务对象满意度指标", "居民群众满意度", "≥90.00(%)"),
    ]
    return Form(
        form_type="project_target_declaration",
        fiscal_year=2026,
        name="兰溪路-真南路下立交工程",
        department="上海市普陀区建设和管理委员会",
        implementing_unit="上海市普陀区市政工程建设中心",
        budget_full_year=yuan("226,145,100.00"),
        project_funds_total=yuan("771,325,800.00"),
        planned_start=date(2026, 1, 1),
        planned_end=date(2027, 12, 31),
        goal_overall="为居民出行提供快速便捷的通道，完善、提高了路网服务功能分流中环路的交通压力、强化铁路两侧的片区的交通联系，支撑区域一体化发展。",
        goal_planned="积极推进项目前期征收工作，年内开展管线搬迁及维护结构施工。",
        fund_lines=[
            FundLine("年度资金总额", budget_full_year=yuan("226,145,100.00")),
            FundLine("当年财政拨款", budget_full_year=yuan("226,145,100.00")),
            FundLine("上年结转资金", budget_full_year=yuan("0")),
            FundLine("其他资金", budget_full_year=yuan("0")),
        ],
        indicators=[
            Indicator(row_ordinal=i, level1=a, level2=b, level3=c, target_text=t)
            for i, (a, b, c, t) in enumerate(rows, 1)
        ],
    )


PROJECT_EXTRA = {
    "项目性质": "阶段性项目",
    "项目类别": "特定目标类",
    "财政资金": "771,325,800.00",
    "累计其他资金": "0",
}


def back_to_back() -> list[Form]:
    """Two short forms printed one after the other without page breaks."""
    first = self_evaluation(
        name="街道社区文化活动中心运维",
        department="上海市普陀区文化和旅游局",
        unit="上海市普陀区长寿路街道社区文化活动中心",
        year=2021,
        initial="1,850,000.00",
        full_year="1,850,000.00",
        executed="1,779,920.00",
        goal_planned="保障社区文化活动中心全年正常开放，开展各类群众文化活动。",
        goal_actual="全年开放362天，开展群众文化活动186场，服务居民5.2万人次。",
        rows=[
            ("产出指标", "数量指标", "全年开放天数", "≥360天", "362天", 15, 15, ""),
            ("产出指标", "数量指标", "开展群众文化活动场次", "≥180场", "186场", 15, 15, ""),
            ("产出指标", "质量指标", "设施设备完好率", ">=95%", "97%", 10, 10, ""),
            ("产出指标", "时效指标", "活动按计划开展及时性", "及时", "及时", 10, 10, ""),
            ("效益指标", "社会效益指标", "服务居民人次", "≥5万人次", "5.2万人次", 15, 15, ""),
            ("效益指标", "可持续影响指标", "场馆运行管理制度", "健全", "健全", 15, 15, ""),
            ("满意度指标", "服务对象满意度指标", "居民满意度", ">=90%", "95%", 10, 10, ""),
        ],
    )
    second = self_evaluation(
        name="社区公共卫生服务能力建设",
        department="上海市普陀区卫生健康委员会",
        unit="上海市普陀区长寿路街道社区卫生服务中心",
        year=2021,
        initial="2,400,000.00",
        full_year="2,200,000.00",
        executed="2,068,000.00",
        goal_planned="完成社区居民健康档案更新和慢性病随访管理，提升社区公共卫生服务能力。",
        goal_actual="更新健康档案3.1万份，完成慢性病随访1.2万人次，服务能力持续提升。",
        rows=[
            ("产出指标", "数量指标", "更新居民健康档案数", "≥3万份", "3.1万份", 15, 15, ""),
            ("产出指标", "数量指标", "慢性病随访人次", "≥1.2万人次", "1.2万人次", 15, 15, ""),
            (
                "产出指标",
                "质量指标",
                "健康档案规范率",
                ">=90%",
                "88%",
                10,
                9.78,
                "部分档案信息填写不完整，已组织专项核查并限期整改。",
            ),
            ("产出指标", "时效指标", "随访完成及时率", ">=95%", "96%", 10, 10, ""),
            ("效益指标", "社会效益指标", "居民健康素养水平", "提升", "提升", 15, 15, ""),
            ("效益指标", "可持续影响指标", "家庭医生签约服务机制", "健全", "健全", 15, 15, ""),
            ("满意度指标", "服务对象满意度指标", "签约居民满意度", ">=90%", "92%", 10, 10, ""),
        ],
    )
    return [first, second]
