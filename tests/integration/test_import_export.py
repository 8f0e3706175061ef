"""Import validates every row and writes all or nothing; export writes what import reads back."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from matchmaker.catalog.io import validate, write
from matchmaker.catalog.io.export import export_file
from matchmaker.catalog.io.validate import ImportRejected, Problem, validate_record
from matchmaker.catalog.io.write import import_file
from matchmaker.catalog.schemas import AchievementIn, DemandIn, OrganisationIn
from matchmaker.catalog.specs import KINDS
from matchmaker.models import Achievement, Demand, IPRecord, Organisation

# The graded evaluation set beside the checkout (../shared/eval); MATCHMAKER_CCF2019_DEV names it for a clone elsewhere.
CCF = Path(os.environ.get("MATCHMAKER_CCF2019_DEV",
                          Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "ccf2019-dev"))

ORGANISATIONS = [
    {"id": "o-dlut", "name": "大连理工大学", "kind": "university", "region": "210200"},
    {
        "id": "o-firm",
        "name": "武汉某储能科技有限公司",
        "kind": "enterprise",
        "credit_code": "914201007070000000",
        "region": "420100",
        "size": "small",
        "high_tech": True,
        "industry": "电池制造",
    },
    {"name": "无编号研究所", "kind": "institute"},  # no id: export gives it "o{pk}"
]
ACHIEVEMENTS = [
    {
        "id": "a-1",
        "title": "高熵合金的制备方法",
        "summary": "一种高熵合金\n及其制备方法",
        "keywords": "高熵合金 制备",
        "field": "test_new_energy",
        "trl": 5,
        "organisation": "o-dlut",
        "region": "210200",
        "transfer_modes": ["licence", "transfer"],
        "pricing_mode": "negotiated",
        "asking_price": "1200000.50",
        "use_first_pay_later": True,
        "posted_on": "2024-03-01",
        "expires_on": "2025-03-01",
        "ip_records": [
            {"ip_type": "invention_patent", "number": "ZL202010123456.7", "status": "granted"},
            {"ip_type": "software_copyright", "number": "2021SR0001:A", "status": "pending"},
        ],
    },
    {"id": "a-2", "title": "储能电站热管理系统", "description": "液冷热管理", "status": "draft"},
    {"title": "无编号成果"},
]
DEMANDS = [
    {
        "id": "d-1",
        "title": "储能变流器效率提升",
        "problem": "效率低",
        "targets": "效率 ≥ 98%",
        "field": "test_new_energy",
        "min_trl": 6,
        "budget_min": 100000,
        "budget_max": "500000",
        "cooperation_modes": ["co_development"],
        "is_challenge": True,
        "bounty": "2000000",
        "deadline": "2025-12-31",
        "organisation": "o-firm",
        "region": "420100",
    },
    {"id": "d-2", "title": "疫苗冷链监测", "description": "冷链断链无法追溯"},
]
GOOD = {"organisations": ORGANISATIONS, "achievements": ACHIEVEMENTS, "demands": DEMANDS}


def jsonl(path: Path, records: list) -> Path:
    lines = [
        record if isinstance(record, str) else json.dumps(record, ensure_ascii=False) for record in records
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.scalar(select(func.count()).select_from(model))
            for model in (Organisation, Achievement, IPRecord, Demand)
        }


def load_good(engine, tmp_path: Path, *kinds: str) -> None:
    for kind in kinds:
        import_file(engine, kind, jsonl(tmp_path / f"good-{kind}.jsonl", GOOD[kind]), None)


def rejected(engine, kind: str, path: Path) -> list[Problem]:
    before = counts(engine)
    with pytest.raises(ImportRejected) as info:
        import_file(engine, kind, path, None)
    assert counts(engine) == before, "a rejected file must write nothing"
    return info.value.problems


# ---------------------------------------------------------------- good files


def test_good_jsonl_files_import_every_field(catalog_engine, tmp_path):
    load_good(catalog_engine, tmp_path, "organisations", "achievements", "demands")
    assert counts(catalog_engine) == {"organisations": 3, "achievements": 3, "ip_records": 2, "demands": 2}
    with catalog_engine.connect() as conn:
        first = conn.execute(select(Achievement).where(Achievement.external_id == "a-1")).one()
        second = conn.execute(select(Achievement).where(Achievement.external_id == "a-2")).one()
        challenge = conn.execute(select(Demand).where(Demand.external_id == "d-1")).one()
        plain = conn.execute(select(Demand).where(Demand.external_id == "d-2")).one()
    assert first.asking_price == Decimal("1200000.50") and first.trl == 5 and first.use_first_pay_later
    assert first.transfer_modes == {"licence", "transfer"}
    assert first.organisation_id is not None and first.field_code == "test_new_energy"
    assert (
        second.summary == "液冷热管理" and second.status == "draft" and second.transfer_modes == frozenset()
    )
    assert challenge.budget_min == Decimal(100000) and challenge.bounty == Decimal(2000000)
    assert plain.problem == "冷链断链无法追溯" and plain.status == "published" and plain.region_code is None


def test_good_csv_file_imports(catalog_engine, tmp_path):
    load_good(catalog_engine, tmp_path, "organisations")
    path = tmp_path / "achievements.csv"
    path.write_text(
        "id,title,trl,organisation,region,transfer_modes,asking_price,use_first_pay_later,ip_records\n"
        'c-1,"多行\n标题不行但摘要可以",3,o-dlut,210200,licence|equity,99.90,true,invention_patent:ZL1:granted\n'
        "c-2,第二项,,,,,,,\n",
        encoding="utf-8-sig",  # what Excel writes
    )
    assert import_file(catalog_engine, "achievements", path, None) == 2
    with catalog_engine.connect() as conn:
        row = conn.execute(select(Achievement).where(Achievement.external_id == "c-1")).one()
        empty = conn.execute(select(Achievement).where(Achievement.external_id == "c-2")).one()
    assert (
        row.trl == 3 and row.transfer_modes == {"licence", "equity"} and row.asking_price == Decimal("99.90")
    )
    assert empty.trl is None and empty.status == "published" and not empty.use_first_pay_later


# ---------------------------------------------------------------- bad rows

A_GOOD = {"id": "a-ok", "title": "好的成果"}
D_GOOD = {"id": "d-ok", "title": "好的需求"}


@pytest.mark.parametrize(
    ("kind", "bad", "field", "reason"),
    [
        ("achievements", {"title": "x", "trl": "five"}, "trl", "应填写整数（例如 5），现为 “five”"),
        ("achievements", {"title": 12}, "title", "应为用双引号括起的文字，现为 12"),
        (
            "achievements",
            {"title": "x", "use_first_pay_later": "maybe"},
            "use_first_pay_later",
            "应为 true（是）或 false（否），不加引号，现为 “maybe”",
        ),
        (
            "achievements",
            {"title": "x", "status": "foo"},
            "status",
            "无法识别的取值 “foo”；这一项填代码，可填（括号内为含义）：draft（草稿）、pending_review（待审核）、"
            "published（已发布）、expired（已过期）、withdrawn（已撤回）、transferred（已转让）",
        ),
        (
            "achievements",
            {"title": "x", "transfer_modes": ["licence", "gift"]},
            "transfer_modes",
            "无法识别的取值 “gift”；这一项填代码，可填（括号内为含义）：transfer（转让）、licence（许可）、"
            "equity（作价入股）、co_development（合作开发）、service（技术服务）",
        ),
        ("achievements", {"title": "x", "trl": 0}, "trl", "应为 1 到 9 之间的整数，现为 0"),
        ("achievements", {"title": "x", "trl": 10}, "trl", "应为 1 到 9 之间的整数，现为 10"),
        ("achievements", {"title": "x", "asking_price": -5}, "asking_price", "金额不能为负数，现为 -5"),
        (
            "achievements",
            {"title": "x", "asking_price": "1.234"},
            "asking_price",
            "金额最多保留两位小数（精确到分），现为 1.234",
        ),
        (
            "achievements",
            {"title": "x", "posted_on": "2024/1/1"},
            "posted_on",
            "日期应写成 年-月-日（例如 2026-12-31），现为 “2024/1/1”",
        ),
        (
            "achievements",
            {"title": "x", "posted_on": "2024-05-01", "expires_on": "2024-01-01"},
            "expires_on",
            "有效期 2024-01-01 早于发布日期 2024-05-01",
        ),
        ("achievements", {"summary": "no title"}, "title", "必填"),
        ("achievements", {"title": ""}, "title", "必填"),
        ("achievements", {"title": "长" * 301}, "title", "不能超过 300 个字，现有 301 个字"),
        ("achievements", {"title": "x", "tlr": 5}, "tlr", "没有名为“tlr”的项，是否应为“trl”？"),
        (
            "achievements",
            {"title": "x", "region": "12345"},
            "region",
            "应为由 6 位数字组成的行政区划代码（GB/T 2260，例如大连市 210200），现为 “12345”",
        ),
        (
            "achievements",
            {"title": "x", "region": "999999"},
            "region",
            "地区代码“999999”不存在",
        ),
        (
            "achievements",
            {"title": "x", "field": "alchemy"},
            "field",
            "技术领域代码“alchemy”不存在",
        ),
        ("achievements", {"title": "x", "organisation": "o-7"}, "organisation", "找不到编号为“o-7”的单位"),
        (
            "achievements",
            {"title": "x", "ip_records": [{"ip_type": "trade_mark", "number": "1"}]},
            "ip_records[0].ip_type",
            "无法识别的取值 “trade_mark”；这一项填代码，可填（括号内为含义）：invention_patent（发明专利）",
        ),
        (
            "achievements",
            {"title": "x", "ip_records": [{"ip_type": "know_how"}]},
            "ip_records[0].number",
            "必填",
        ),
        (
            "achievements",
            {"title": "x", "summary": "s", "description": "d"},
            "description",
            "“description”与“summary”是同一项（旧名和新名），只能填写其中一个",
        ),
        ("achievements", '{"title": "broken"', "$", "这一行的 JSON 不完整"),
        ("achievements", '{"title": "x",}', "$", "这一行不是有效的 JSON（第 15 个字节附近）"),
        ("achievements", "[1, 2]", "$", "每一行应是一个用 { } 括起的 JSON 对象，现为 一个列表"),
        (
            "demands",
            {"title": "x", "budget_min": 500000, "budget_max": 100000},
            "budget_min",
            "预算下限 500000 元高于预算上限 100000 元",
        ),
        (
            "demands",
            {"title": "x", "bounty": 5000},
            "bounty",
            "只有揭榜挂帅项目才能设置悬赏金额（现为 5000 元）",
        ),
        ("demands", {"title": "x", "min_trl": 10}, "min_trl", "应为 1 到 9 之间的整数，现为 10"),
        (
            "demands",
            {"title": "x", "cooperation_modes": "licence"},
            "cooperation_modes",
            "应为用 [ ] 括起的列表，现为 “licence”",
        ),
    ],
)
def test_a_bad_row_names_line_field_and_reason_and_nothing_is_written(
    catalog_engine, tmp_path, kind, bad, field, reason
):
    good = A_GOOD if kind == "achievements" else D_GOOD
    path = jsonl(tmp_path / "bad.jsonl", [good, bad, {**good, "id": good["id"] + "-2"}])
    problems = rejected(catalog_engine, kind, path)
    assert [(p.line, p.field) for p in problems] == [(2, field)], problems
    assert reason in problems[0].reason


def test_duplicate_id_within_the_file(catalog_engine, tmp_path):
    path = jsonl(
        tmp_path / "dup.jsonl",
        [{"id": "x", "title": "一"}, {"id": "y", "title": "二"}, {"id": "x", "title": "三"}],
    )
    assert rejected(catalog_engine, "achievements", path) == [
        Problem(3, "id", "编号“x”在本文件中出现了两次（第一次在第 1 行），请删去重复的一行或改用新的编号")
    ]


def test_id_already_in_the_database(catalog_engine, tmp_path):
    load_good(catalog_engine, tmp_path, "organisations", "achievements")
    path = jsonl(tmp_path / "again.jsonl", [{"id": "new", "title": "新"}, {"id": "a-1", "title": "旧"}])
    [problem] = rejected(catalog_engine, "achievements", path)
    assert (problem.line, problem.field) == (2, "id") and problem.reason.startswith("编号“a-1”在平台上已存在")


def test_organisation_credit_codes_are_unique(catalog_engine, tmp_path):
    load_good(catalog_engine, tmp_path, "organisations")
    code = ORGANISATIONS[1]["credit_code"]
    path = jsonl(
        tmp_path / "orgs.jsonl",
        [
            {"name": "甲", "kind": "enterprise", "credit_code": code},
            {"name": "乙", "kind": "club"},
            {"name": "丙", "kind": "enterprise", "credit_code": "91110000MA0000000X"},
            {"name": "丁", "kind": "enterprise", "credit_code": "91110000MA0000000X"},
        ],
    )
    problems = rejected(catalog_engine, "organisations", path)
    assert [(p.line, p.field) for p in problems] == [(1, "credit_code"), (2, "kind"), (4, "credit_code")]
    assert f"统一社会信用代码“{code}”已属于平台上的另一家单位" in problems[0].reason
    assert "在本文件中出现了两次（第一次在第 3 行）" in problems[2].reason


def test_one_bad_row_among_many_good_ones_imports_nothing_and_all_problems_are_listed(
    catalog_engine, tmp_path
):
    records = [{"id": f"a{i}", "title": f"成果{i}", "trl": 1 + i % 9} for i in range(500)]
    records[123] = {"id": "a123", "title": "坏", "trl": 10}
    records[400] = {"id": "a400", "trl": 3}
    problems = rejected(catalog_engine, "achievements", jsonl(tmp_path / "many.jsonl", records))
    assert [(p.line, p.field) for p in problems] == [(124, "trl"), (401, "title")]
    assert counts(catalog_engine)["achievements"] == 0


def test_every_problem_of_a_row_is_listed(catalog_engine, tmp_path):
    path = jsonl(tmp_path / "bad.jsonl", [{"trl": 10, "status": "lost", "region": "1"}])
    assert {p.field for p in rejected(catalog_engine, "achievements", path)} == {
        "title",
        "trl",
        "status",
        "region",
    }


def test_problem_list_is_capped(catalog_engine, tmp_path):
    path = jsonl(tmp_path / "awful.jsonl", ["not json"] * (validate.MAX_PROBLEMS + 50))
    problems = rejected(catalog_engine, "achievements", path)
    assert len(problems) == validate.MAX_PROBLEMS + 1
    assert problems[-1].field == "$" and problems[-1].reason.startswith(f"问题超过 {validate.MAX_PROBLEMS} 条，已停止检查")


def test_csv_lines_count_the_header_and_wrong_column_counts_are_problems(catalog_engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,title,trl\n"
        "c-1,好,3\n"
        'c-2,"两行\n的标题",10\n'  # starts on line 3, runs to line 4
        "c-3,少一列\n"
        "c-4,多,1,一列\n"
        "c-5,好,abc\n",
        encoding="utf-8",
    )
    problems = rejected(catalog_engine, "achievements", path)
    assert [(p.line, p.field) for p in problems] == [(3, "trl"), (5, "row"), (6, "row"), (7, "trl")]
    assert problems[0].reason == "应为 1 到 9 之间的整数，现为 10"
    assert problems[1].reason.startswith("这一行有 2 列，表头有 3 列")
    assert problems[2].reason.startswith("这一行有 4 列，表头有 3 列")
    assert problems[3].reason == "应填写整数（例如 5），现为 “abc”"


def test_csv_header_problems_are_reported_once(catalog_engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,tilte,trl\nc-1,好,3\n", encoding="utf-8")
    problems = rejected(catalog_engine, "achievements", path)
    assert [(p.line, p.field) for p in problems] == [(1, "tilte"), (1, "title")]
    assert problems[0].reason.startswith("表头中的“tilte”不是能识别的列名，是否应为“名称（title）”？")
    assert problems[1].reason.startswith("表头缺少必填的“名称（title）”一列")


def test_csv_ip_records_must_have_a_type_and_number(catalog_engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("title,ip_records\n好,invention_patent\n", encoding="utf-8")
    [problem] = rejected(catalog_engine, "achievements", path)
    assert (problem.line, problem.field) == (2, "ip_records")
    assert problem.reason.startswith("第 1 项“invention_patent”应写成 类型:编号 或 类型:编号:状态")


def test_csv_from_chinese_excel_imports_in_utf8_with_bom_and_gbk(catalog_engine, tmp_path):
    for encoding, title in (("utf-8-sig", "带签名的成果"), ("gbk", "国标编码的成果")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(f"id,title,summary\n{encoding},{title},中文简介\n".encode(encoding))
        assert import_file(catalog_engine, "achievements", path, None) == 1
    with catalog_engine.connect() as conn:
        assert {"带签名的成果", "国标编码的成果"} <= set(conn.scalars(select(Achievement.title)))


def test_file_that_is_neither_utf8_nor_gbk_is_a_problem(catalog_engine, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"id,title\n" + b"a,\xff\xfe\x81\n")
    [problem] = rejected(catalog_engine, "achievements", path)
    assert (problem.line, problem.field) == (2, "$")
    assert problem.reason.startswith("文件编码无法识别（既不是 UTF-8 也不是 GBK）")


def test_database_error_during_insert_rolls_back_and_is_a_problem(catalog_engine, tmp_path, monkeypatch):
    real = write.table_row

    def corrupt(spec, record, organisations):
        row = real(spec, record, organisations)
        return (
            row | {"trl": 12} if row["external_id"] == "a-last" else row
        )  # slips past validation on purpose

    monkeypatch.setattr(write, "table_row", corrupt)
    monkeypatch.setattr(write, "INSERT_BATCH", 2)  # the failure comes after a batch went in
    records = [{"id": f"a-{i}", "title": "成果"} for i in range(5)] + [{"id": "a-last", "title": "坏"}]
    [problem] = rejected(catalog_engine, "achievements", jsonl(tmp_path / "x.jsonl", records))
    assert problem.line == validate.WHOLE_FILE and problem.reason.startswith("数据库拒绝写入这批数据，没有导入任何数据")


def test_unknown_format_is_a_problem_not_a_crash(catalog_engine, tmp_path):
    path = tmp_path / "records.txt"
    path.write_text("{}\n", encoding="utf-8")
    [problem] = rejected(catalog_engine, "achievements", path)
    assert problem.reason.startswith("无法从文件名“records.txt”判断文件格式") and "--format" in problem.reason


# ---------------------------------------------------------------- the ccf2019 evaluation set


@pytest.mark.skipif(not CCF.is_dir(), reason=f"{CCF} is absent")
def test_ccf2019_dev_files_import(catalog_engine):
    started = time.perf_counter()
    assert import_file(catalog_engine, "achievements", CCF / "achievements.jsonl", None) == 6663
    seconds = time.perf_counter() - started
    assert import_file(catalog_engine, "demands", CCF / "demands.jsonl", None) == 123
    assert seconds < 30, f"6,663 achievements took {seconds:.1f}s"
    with catalog_engine.connect() as conn:
        described = conn.scalar(select(func.count()).where(Demand.problem != ""))
        assert set(conn.scalars(select(Achievement.status).distinct())) == {"published"}
    lines = (CCF / "demands.jsonl").read_text(encoding="utf-8").splitlines()
    assert described == sum(1 for line in lines if json.loads(line)["description"])  # description → problem


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_import_into_an_empty_database_gives_the_same_records(catalog_engine, tmp_path, fmt):
    load_good(catalog_engine, tmp_path, "organisations", "achievements", "demands")
    kinds = ["organisations", "achievements", "demands"]
    first = {kind: tmp_path / f"first-{kind}.{fmt}" for kind in kinds}
    assert [export_file(catalog_engine, kind, first[kind], fmt) for kind in kinds] == [3, 3, 2]

    with catalog_engine.begin() as conn:  # empty the libraries, keep the reference data
        for model in (IPRecord, Achievement, Demand, Organisation):
            conn.execute(delete(model))
    assert [import_file(catalog_engine, kind, first[kind], None) for kind in kinds] == [3, 3, 2]

    second = {kind: tmp_path / f"second-{kind}.{fmt}" for kind in kinds}
    for kind in kinds:
        export_file(catalog_engine, kind, second[kind], fmt)
        assert second[kind].read_text(encoding="utf-8") == first[kind].read_text(encoding="utf-8"), kind
    exported = first["achievements"].read_text(encoding="utf-8")
    assert "2021SR0001:A" in exported and "1200000.50" in exported and ("a" in exported)


def test_an_xlsx_round_trip_keeps_every_record_and_its_chinese_text(catalog_engine, tmp_path):
    load_good(catalog_engine, tmp_path, "organisations", "achievements", "demands")
    kinds = ["organisations", "achievements", "demands"]
    before = {kind: tmp_path / f"before-{kind}.jsonl" for kind in kinds}
    for kind in kinds:
        export_file(catalog_engine, kind, before[kind], "jsonl")
        export_file(catalog_engine, kind, tmp_path / f"{kind}.xlsx", None)
    with catalog_engine.begin() as conn:
        for model in (IPRecord, Achievement, Demand, Organisation):
            conn.execute(delete(model))
    assert [import_file(catalog_engine, kind, tmp_path / f"{kind}.xlsx", None) for kind in kinds] == [3, 3, 2]
    for kind in kinds:
        after = tmp_path / f"after-{kind}.jsonl"
        export_file(catalog_engine, kind, after, "jsonl")
        assert after.read_text(encoding="utf-8") == before[kind].read_text(encoding="utf-8"), kind
    assert "高熵合金的制备方法" in before["achievements"].read_text(encoding="utf-8")


def test_exports_for_excel_keep_formulas_as_text_and_csv_has_a_bom(catalog_engine, tmp_path):
    from openpyxl import load_workbook

    records = [{"id": "a-formula", "title": '=HYPERLINK("http://evil.test","点我")', "summary": "@SUM(1+1)"}]
    import_file(catalog_engine, "achievements", jsonl(tmp_path / "f.jsonl", records), None)
    export_file(catalog_engine, "achievements", tmp_path / "a.xlsx", None)
    sheet = load_workbook(tmp_path / "a.xlsx").active
    header = [cell.value for cell in sheet[1]]
    assert header[1] == "名称（title）"
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "a-formula")
    assert row[1].data_type == "s" and row[1].value.startswith("=HYPERLINK")     # text, not a formula
    export_file(catalog_engine, "achievements", tmp_path / "a.csv", None)
    data = (tmp_path / "a.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "'=HYPERLINK" in data.decode("utf-8-sig")


def test_a_malformed_xlsx_writes_nothing_and_the_report_names_each_row_and_column(catalog_engine, tmp_path):
    from openpyxl import Workbook, load_workbook

    from matchmaker.catalog.io.excel import problem_report

    book = Workbook()
    sheet = book.active
    sheet.append(["编号（id）", "名称（title）", "预算上限（元）", "预算下限（元）", "截止日期（deadline）", "所在地区代码（region）"])
    sheet.append(["d-ok", "好的需求", 500000, 100000, "2099-01-01", "210200"])
    sheet.append(["d-date", "日期错", 500000, 100000, "2026-13-45", "210200"])
    sheet.append(["d-money", "金额错", "五十万", 100000, None, "210200"])
    sheet.append(["d-range", "预算倒挂", 100, 500, None, "210200"])
    sheet.append(["d-region", "地区错", 500000, 100000, None, "999999"])
    book.save(tmp_path / "bad.xlsx")
    problems = rejected(catalog_engine, "demands", tmp_path / "bad.xlsx")
    found = {(p.line, p.field) for p in problems}
    assert {(3, "deadline"), (4, "budget_max"), (5, "budget_min"), (6, "region")} <= found, found
    assert not any(p.line == 2 for p in problems)                 # the good row is not blamed
    (tmp_path / "report.xlsx").write_bytes(problem_report(problems))
    rows = [[c.value for c in r] for r in load_workbook(tmp_path / "report.xlsx").active.iter_rows()]
    assert rows[0] == ["行号", "列", "问题"] and len(rows) == len(problems) + 1
    assert [3, "截止日期（deadline）"] in [r[:2] for r in rows]


def test_export_gives_rows_without_an_external_id_a_stable_one(catalog_engine, tmp_path):
    load_good(catalog_engine, tmp_path, "organisations", "achievements")
    out = tmp_path / "achievements.jsonl"
    export_file(catalog_engine, "achievements", out, None)
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    with catalog_engine.connect() as conn:
        key = conn.scalar(select(Achievement.id).where(Achievement.external_id.is_(None)))
    assert ids == ["a-1", "a-2", f"a{key}"]


# ---------------------------------------------------------------- command line


def test_cli_import_exits_1_and_prints_line_and_field(catalog_engine, tmp_path):
    from matchmaker.cli import app

    path = jsonl(tmp_path / "bad.jsonl", [A_GOOD, {"title": "x", "trl": 10}])
    url = catalog_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["import", "achievements", str(path)], env={"MATCHMAKER_DATABASE_URL": url}
    )
    assert result.exit_code == 1, result.output
    flat = "".join(result.output.split())  # Rich wraps long lines; compare without whitespace
    assert f"{path}:2".replace(" ", "") in flat and "trl:应为1到9之间的整数，现为10" in flat
    assert counts(catalog_engine)["achievements"] == 0

    good = jsonl(tmp_path / "good.jsonl", [A_GOOD])
    result = CliRunner().invoke(
        app, ["import", "achievements", str(good)], env={"MATCHMAKER_DATABASE_URL": url}
    )
    assert result.exit_code == 0 and "已导入 1 条科技成果" in result.output, result.output


# ---------------------------------------------------------------- property


def _field_values():
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-20, 2_000_000),
        st.floats(allow_nan=True),
        st.text(max_size=8),
        st.sampled_from(["published", "licence", "420100", "2024-01-01", "1.5", "-1", "invention_patent"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    )


SCHEMA_FIELDS = sorted(
    {
        *OrganisationIn.__struct_fields__,
        *AchievementIn.__struct_fields__,
        *DemandIn.__struct_fields__,
        "description",
        "bogus",
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(list(KINDS)),
    values=st.dictionaries(st.sampled_from(SCHEMA_FIELDS), _field_values(), max_size=8),
    strict=st.booleans(),
)
def test_any_record_either_validates_or_yields_problems(kind, values, strict):
    record, problems = validate_record(values, KINDS[kind], strict=strict)
    assert (record is None) == bool(problems)
    assert all(isinstance(name, str) and isinstance(reason, str) and reason for name, reason in problems)
