"""Excel from the pages (issue 15): a firm exports its own demands as .xlsx and CSV (with a BOM), uploads a
malformed workbook (nothing imported, the problems in Chinese by row and column, a downloadable report), then a
good one; an analyst exports the library."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook, load_workbook
from page_client import log_in as _login
from page_client import token as _token
from sqlalchemy import func, select

from matchmaker.db import transaction
from matchmaker.models import Demand

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, name: str, data: bytes):
    return client.post("/web/upload/demands", files={"file": (name, data, XLSX)},
                       data={"_csrf_token": _token(client, "/web/import/demands")}, follow_redirects=False)


def test_a_firm_exports_and_imports_its_demands_from_the_pages(pages):
    _login(pages, "demo_firm")
    exported = pages.get("/web/export/demands", params={"format": "xlsx"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(XLSX)
    sheet = load_workbook(io.BytesIO(exported.content)).active
    with pages.factory() as session:
        own = session.scalar(select(func.count()).select_from(Demand).where(Demand.organisation_id == pages.firm))
    assert sheet.max_row - 1 == own                             # its own demands, not the library's
    assert sheet.cell(1, 2).value == "名称（title）"
    csv = pages.get("/web/export/demands", params={"format": "csv"})
    assert csv.content.startswith(b"\xef\xbb\xbf") and csv.headers["content-type"].startswith("text/csv")

    header = ["名称（title）", "拟解决的技术难题（problem）", "预算上限（元）（budget_max）", "截止日期（deadline）"]
    bad = _upload(pages, "bad.xlsx", _workbook([header, ["好需求", "一个足够长的技术难题描述", 500000, "2099-01-01"],
                                                ["坏日期", "描述", 1000, "2026-13-45"], ["坏金额", "描述", "很多钱", None]]))
    assert bad.status_code == 422 and "没有导入任何数据" in bad.text
    # The reasons as the importer words them, each with the value the person wrote.
    assert "日期应写成 年-月-日（例如 2026-12-31），现为 “2026-13-45”" in bad.text
    assert "金额应为数字（单位：元，例如 500000 或 125000.50），现为 “很多钱”" in bad.text
    with pages.factory() as session:
        assert session.scalar(select(func.count()).select_from(Demand).where(Demand.title == "好需求")) == 0
    report = load_workbook(io.BytesIO(pages.get("/web/import/report.xlsx").content)).active
    rows = [[cell.value for cell in row] for row in report.iter_rows()]
    assert rows[0] == ["行号", "列", "问题"]
    assert rows[1] == [3, "截止日期（deadline）", "日期应写成 年-月-日（例如 2026-12-31），现为 “2026-13-45”"]
    assert rows[2] == [4, "预算上限（元）（budget_max）", "金额应为数字（单位：元，例如 500000 或 125000.50），现为 “很多钱”"]

    good = _upload(pages, "good.xlsx", _workbook([header, ["批量导入的需求", "一个足够长的技术难题描述", 500000, "2099-01-01"]]))
    assert good.status_code == 303
    with pages.factory() as session:
        row = session.scalar(select(Demand).where(Demand.title == "批量导入的需求"))
        assert row.organisation_id == pages.firm and row.status == "pending_review"


def test_an_upload_without_the_form_token_is_refused(pages):
    _login(pages, "demo_firm")
    _token(pages, "/web/import/demands")
    refused = pages.post("/web/upload/demands", files={"file": ("d.xlsx", _workbook([["名称（title）"], ["x"]]), XLSX)},
                         data={"_csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and "安全校验码" in refused.text


def test_an_analyst_exports_the_library_and_a_firm_cannot_import_achievements(pages):
    _login(pages, "demo_analyst")
    exported = pages.get("/web/export/achievements", params={"format": "xlsx"})
    assert load_workbook(io.BytesIO(exported.content)).active.max_row > 100
    _login(pages, "demo_firm")
    assert pages.get("/web/import/achievements").status_code == 403


def test_the_api_imports_an_xlsx_body(api):
    firm = api.users.headers("firm", api.orgs.firm)
    header = ["名称（title）", "拟解决的技术难题（problem）", "技术领域（field）"]
    body = _workbook([header, ["接口导入的需求", "一个足够长的技术难题描述", "new_materials"]])
    made = api.post("/demands/import", content=body, headers={**firm, "Content-Type": XLSX})
    assert made.status_code == 201 and made.json()["imported"] == 1
    zipped_json = api.post("/demands", content=body, headers={**firm, "Content-Type": "application/json"})
    assert zipped_json.status_code == 400            # a workbook anywhere else is still refused at the edge


def test_a_registrar_imports_a_workbook_of_contracts_and_exports_the_registry_from_the_pages(pages):
    from test_registry_excel import GOOD, HEADER

    from matchmaker.catalog.io.excel import write_workbook
    from matchmaker.models import Contract

    _login(pages, "demo_admin")
    bad = [list(row) for row in GOOD]
    bad[0][6] = "一百万"
    token = _token(pages, "/web/import/registry")
    refused = pages.post("/web/upload/registry", files={"file": ("登记台账.xlsx", write_workbook(HEADER, bad), XLSX)},
                         data={"_csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 422 and "合同成交额（元）（amount）" in refused.text and "不是金额" in refused.text
    report = pages.get("/web/import/report.xlsx")
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(report.content)).active.iter_rows()]
    assert rows[1][:2] == [2, "合同成交额（元）（amount）"]
    with transaction(pages.factory) as session:
        before = session.scalar(select(func.count(Contract.id)))
    good = pages.post("/web/upload/registry", files={"file": ("登记台账.xlsx", write_workbook(HEADER, GOOD), XLSX)},
                      data={"_csrf_token": _token(pages, "/web/import/registry")}, follow_redirects=False)
    assert good.status_code in (302, 303), good.text
    with transaction(pages.factory) as session:
        assert session.scalar(select(func.count(Contract.id))) == before + 3
    exported = pages.get("/web/export/registry?format=xlsx")
    sheet = [[c.value for c in r] for r in load_workbook(io.BytesIO(exported.content)).active.iter_rows()]
    assert "高效储能电池材料技术开发" in [row[2] for row in sheet[1:]]
    as_csv = pages.get("/web/export/registry?format=csv")
    assert as_csv.content.startswith("\ufeff".encode()) and "'=HYPERLINK" in as_csv.content.decode("utf-8-sig")
    stats = pages.get("/web/registry-stats?date_from=2025-01-01&date_to=2025-12-31")
    assert stats.status_code == 200
    assert re.search(r'data-testid="registry-contracts">(\d+)<', stats.text).group(1) == "2"   # 2 of the 3 are registered
    assert "技术流向" in stats.text and "境外" in stats.text
    book = load_workbook(io.BytesIO(pages.get("/web/registry-stats.xlsx?date_from=2025-01-01").content))
    assert book.sheetnames[:2] == ["季度统计", "年度统计"]
    assert pages.get("/web/registry-stats?date_from=2030-01-01").text.count('data-testid="registry-empty"') == 1
    bad = pages.get("/web/registry-stats?date_from=2025-13-01")
    assert bad.status_code == 422 and "请按 2026-01-01 的格式填写日期" in bad.text
    _login(pages, "demo_firm")
    assert pages.get("/web/export/registry").status_code == 403
    assert pages.get("/web/registry-stats").status_code == 403
