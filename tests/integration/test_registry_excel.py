"""The registry in spreadsheets (issue 15): contracts imported from .xlsx and CSV (UTF-8, BOM, GBK) with the form's
words, exported and imported into a fresh database unchanged, Chinese and all, on SQLite and PostgreSQL; a malformed
workbook writes nothing, and its report names each row and column."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from matchmaker.brokerage import registry, registry_io
from matchmaker.catalog.io.excel import problem_report, write_workbook
from matchmaker.catalog.io.validate import ImportRejected
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.models import Contract, Organisation

HEADER = ["登记号（registration_number）", "登记日期", "项目名称", "合同类别", "合同细类", "签订日期", "合同成交额（元）",
          "核定技术交易额（元）", "支付方式", "许可方式", "卖方名称", "卖方类型", "卖方国别", "卖方所在地区代码", "买方名称",
          "买方类型", "买方国别", "买方所在地区代码", "技术领域", "知识产权类型", "计划类别", "申请减免税"]
GOOD = [
    ["2025210200000007", "2025-03-02", "高效储能电池材料技术开发", "技术开发", "委托开发", "2025-02-20", 1200000.5,
     1000000, "分期支付", "", "辽东登记测试大学", "高等院校", "中国", "210200", "大连登记测试装备有限公司", "民营企业", "CN",
     "210200", "洁净能源", "发明专利", "省级科技计划", "是"],
    ["", "", "=HYPERLINK(\"x\") 燃料电池膜电极许可", "技术许可", "专利实施许可", "2025-05-01", 800000, "", "提成支付",
     "普通许可", "辽东登记测试大学", "高等院校", "CN", "210200", "Hanse Energie GmbH", "外商投资企业", "德国", "", "洁净能源",
     "发明专利", "非计划项目", "否"],
    ["2025210100000002", "2025-06-30", "工业视觉检测技术服务", "技术服务", "一般技术服务", "2025-06-01", "350000.00", "350000",
     "一次性支付", "", "沈阳登记测试研究所", "科研机构", "CN", "210100", "大连登记测试装备有限公司", "民营企业", "CN", "210200",
     "电子信息/数字经济", "计算机软件著作权", "市县级科技计划", "否"],
]


def _xlsx(rows, header=HEADER) -> bytes:
    """As Excel saves it: numbers as numbers, text as text (a cell starting with "=" typed as text, not a formula)."""
    return write_workbook(header, rows)


def _sheet(data: bytes) -> list[list]:
    return [[cell.value for cell in row] for row in load_workbook(io.BytesIO(data)).active.iter_rows()]


def _export(factory) -> bytes:
    with transaction(factory) as session:
        return registry_io.to_xlsx(registry_io.export_rows(session, select(Contract).order_by(Contract.signed_on)))


@pytest.fixture
def fresh_url(database_url, templates, tmp_path):
    """A second empty database of the same kind, for the round trip."""
    url = make_url(database_url)
    other = (f"sqlite:///{tmp_path / 'fresh.db'}" if url.get_backend_name() == "sqlite"
             else url.set(database=f"{url.database}_fresh").render_as_string(hide_password=False))
    yield templates.copy_into("migrated", other)
    if url.get_backend_name() != "sqlite":
        from sqlalchemy import text

        from tests.conftest import _admin_engine
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(other).database}" WITH (FORCE)'))
        admin.dispose()


def test_an_xlsx_round_trip_into_a_fresh_database_keeps_every_contract(migrated_url, fresh_url):
    first, second = make_engine(migrated_url), make_engine(fresh_url)
    factory, fresh = make_session_factory(first), make_session_factory(second)
    with transaction(factory) as session:
        result = registry_io.import_contracts(session, actor=None, data=_xlsx(GOOD), fmt="xlsx")
    assert (result.contracts, result.new_organisations) == (3, 4)
    with transaction(factory) as session:
        licence = session.scalar(select(Contract).where(Contract.contract_type == "licence"))
        assert (licence.buyer_country, licence.buyer_region_code, licence.foreign_related) == ("DE", None, True)
        assert licence.title.startswith("=HYPERLINK") and licence.registration_number is None
        development = session.scalar(select(Contract).where(Contract.contract_type == "development"))
        assert (development.amount, development.certified_amount) == (Decimal("1200000.50"), Decimal("1000000.00"))
        assert (development.sub_type, development.seller_party_type, development.tax_relief) == \
            ("commissioned", "university", True)
        # The imported 2025 number of office 210200 moved its sequence: the next one follows it.
        assert registry.next_number(session, "210200", 2025) == "2025210200000008"
        session.rollback()

    exported = _export(factory)
    sheet = _sheet(exported)
    assert sheet[0][0] == "登记号（registration_number）" and sheet[1][2] == "高效储能电池材料技术开发"
    with transaction(fresh) as session:
        assert registry_io.import_contracts(session, actor=None, data=exported, fmt="xlsx").contracts == 3
    assert _sheet(_export(fresh)) == sheet                     # what went out came back, cell for cell
    csv_bytes = _csv(fresh)
    assert csv_bytes.startswith("\ufeff".encode()) and "'=HYPERLINK" in csv_bytes.decode("utf-8-sig")
    first.dispose()
    second.dispose()


def _csv(factory) -> bytes:
    with transaction(factory) as session:
        return registry_io.to_csv(registry_io.export_rows(session, select(Contract).order_by(Contract.signed_on)))


def test_csv_in_gbk_and_with_a_bom_imports_like_the_workbook(migrated_url):
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    lines = [",".join(HEADER)] + [",".join(str(c) for c in GOOD[2])]
    text = "\n".join(lines) + "\n"
    with transaction(factory) as session:
        assert registry_io.import_contracts(session, actor=None, data=text.encode("gbk"), fmt="csv").contracts == 1
    renumbered = text.replace("2025210100000002", "2025210100000003")
    with transaction(factory) as session:
        assert registry_io.import_contracts(session, actor=None, data=("\ufeff" + renumbered).encode(),
                                            fmt="csv").contracts == 1
    with transaction(factory) as session, pytest.raises(ImportRejected) as again:
        registry_io.import_contracts(session, actor=None, data=text.encode("utf-8"), fmt="csv")
    assert "已在平台上登记过" in again.value.problems[0].reason
    engine.dispose()


def test_a_malformed_workbook_writes_nothing_and_its_report_names_each_row_and_column(migrated_url):
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    bad = [list(row) for row in GOOD]
    bad[0][5] = "2025-02-30"                      # no such day
    bad[1][7] = 900000                            # certified above the 800,000 amount
    bad[2][11] = "合伙企业"                        # no such party type on the form
    with transaction(factory) as session:
        before = (session.scalar(select(func.count(Contract.id))), session.scalar(select(func.count(Organisation.id))))
    with transaction(factory) as session, pytest.raises(ImportRejected) as rejected:
        registry_io.import_contracts(session, actor=None, data=_xlsx(bad), fmt="xlsx")
    with transaction(factory) as session:
        after = (session.scalar(select(func.count(Contract.id))), session.scalar(select(func.count(Organisation.id))))
    assert after == before
    report = _sheet(problem_report(rejected.value.problems, columns={n: registry_io.header(n) for n in registry_io.COLUMNS}))
    assert report[0] == ["行号", "列", "问题"]
    found = {(row[0], row[1]) for row in report[1:]}
    assert {(2, "签订日期（signed_on）"), (3, "核定技术交易额（元）（certified_amount）"), (4, "卖方类型（seller_party_type）")} <= found
    assert all("不是" in row[2] or "超过" in row[2] or "请" in row[2] for row in report[1:])
    engine.dispose()


def test_a_sheet_with_an_unknown_column_is_refused_as_a_whole(migrated_url):
    engine = make_engine(migrated_url)
    with transaction(make_session_factory(engine)) as session, pytest.raises(ImportRejected) as rejected:
        registry_io.import_contracts(session, actor=None, data=_xlsx(GOOD, header=HEADER[:-1] + ["备注"]), fmt="xlsx")
    assert rejected.value.problems[0].line == 1 and "备注" in rejected.value.problems[0].reason
    engine.dispose()


def test_the_command_line_imports_and_exports_contracts(migrated_url, tmp_path):
    from typer.testing import CliRunner

    from matchmaker.cli import app

    env = {"MATCHMAKER_DATABASE_URL": migrated_url}
    bad = [list(row) for row in GOOD]
    bad[1][16] = "火星"                                          # no such country
    (tmp_path / "bad.xlsx").write_bytes(_xlsx(bad))
    refused = CliRunner().invoke(app, ["import", "contracts", str(tmp_path / "bad.xlsx"), "--report",
                                       str(tmp_path / "report.xlsx")], env=env)
    assert refused.exit_code == 1 and "没有导入任何数据" in refused.output
    assert _sheet((tmp_path / "report.xlsx").read_bytes())[1][:2] == [3, "买方国别（buyer_country）"]
    (tmp_path / "good.xlsx").write_bytes(_xlsx(GOOD))
    assert CliRunner().invoke(app, ["import", "contracts", str(tmp_path / "good.xlsx")], env=env).exit_code == 0
    out = tmp_path / "registry.xlsx"
    done = CliRunner().invoke(app, ["export", "contracts", "--format", "xlsx", "--out", str(out)], env=env)
    assert done.exit_code == 0 and "exported 3 contracts" in done.output
    assert _sheet(out.read_bytes())[1][2] == "高效储能电池材料技术开发"
