"""The registry's statistics against a hand-computed fixture (issue 15): registered contracts only, by the quarter and
year of registration, by field, and the flows in and out of each region (本地, 外省, 境外); the .xlsx carries the
same figures to the cent, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook

from matchmaker.analytics.registry_report import registry_report, workbook
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.models import Contract, Organisation

D = Decimal
# (seller region, buyer region or None abroad, type, amount, certified, registered on, field)
FIXTURE = [
    ("210200", "210200", "development", "1000000.00", "800000.00", dt.date(2025, 2, 10), "clean_energy"),
    ("210200", "210100", "transfer", "500000.50", "500000.50", dt.date(2025, 5, 1), "clean_energy"),
    ("210200", None, "licence", "2000000.00", None, dt.date(2025, 5, 20), "biomedicine"),
    ("440300", "210200", "service", "300000.25", "100000.00", dt.date(2025, 11, 30), None),
    ("210200", "210200", "development", "9999999.00", None, None, "clean_energy"),    # not registered: left out
    ("110100", "440300", "consulting", "50000.00", "50000.00", dt.date(2024, 12, 31), "digital_economy"),
]


def _world(url: str):
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    with transaction(factory) as session:
        seller = Organisation(name="统计测试大学", kind="university", region_code="210200")
        buyer = Organisation(name="统计测试企业", kind="enterprise", region_code="210200")
        session.add_all([seller, buyer])
        session.flush()
        for i, (sold, bought, kind, amount, certified, registered, field) in enumerate(FIXTURE):
            session.add(Contract(
                contract_type=kind, amount=D(amount), certified_amount=D(certified) if certified else None,
                payment_mode="lump_sum", signed_on=(registered or dt.date(2025, 6, 1)) - dt.timedelta(days=5),
                seller_id=seller.id, seller_region_code=sold, buyer_id=buyer.id, buyer_region_code=bought,
                buyer_country="CN" if bought else "DE", foreign_related=bought is None, field_code=field,
                registration_number=f"T{i}" if registered else None, registered_on=registered,
                created_at=now, updated_at=now))
    return engine, factory


def test_the_report_matches_the_hand_computed_figures(migrated_url):
    engine, factory = _world(migrated_url)
    with transaction(factory) as session:
        report = registry_report(session)
        annual = {r.period: (r.contracts, r.amount, r.certified_amount) for r in report.annual}
        assert annual == {"2024": (1, D("50000.00"), D("50000.00")),
                          "2025": (4, D("3800000.75"), D("1400000.50"))}
        quarterly = {r.period: (r.contracts, r.amount) for r in report.quarterly}
        assert quarterly == {"2024-Q4": (1, D("50000.00")), "2025-Q1": (1, D("1000000.00")),
                             "2025-Q2": (2, D("2500000.50")), "2025-Q4": (1, D("300000.25"))}
        q2 = next(r for r in report.quarterly if r.period == "2025-Q2")
        assert (q2.amount_by_type["transfer"], q2.amount_by_type["licence"]) == (D("500000.50"), D("2000000.00"))
        assert report.total.amount == D("3850000.75")
        fields = {r.field_code: (r.contracts, r.amount) for r in report.by_field}
        assert fields == {"clean_energy": (2, D("1500000.50")), "biomedicine": (1, D("2000000.00")),
                          "unclassified": (1, D("300000.25")), "digital_economy": (1, D("50000.00"))}

        flows = {f.region_code: f for f in report.flows}
        liaoning = flows["210000"]
        assert (liaoning.outflow["local"].contracts, liaoning.outflow["local"].amount) == (2, D("1500000.50"))
        assert (liaoning.outflow["abroad"].contracts, liaoning.outflow["abroad"].amount) == (1, D("2000000.00"))
        assert liaoning.outflow["other_province"].contracts == 0
        assert (liaoning.inflow["local"].contracts, liaoning.inflow["other_province"].amount) == (2, D("300000.25"))
        assert (flows["440000"].outflow["other_province"].amount, flows["440000"].inflow["other_province"].amount) \
            == (D("300000.25"), D("50000.00"))
        assert flows["110000"].outflow["other_province"].contracts == 1

        province = registry_report(session, region="210000", date_from=dt.date(2025, 1, 1))
        assert {r.period: r.contracts for r in province.annual} == {"2025": 4}      # #4 was bought into 辽宁
        cities = {f.region_code: f for f in province.flows}
        assert set(cities) == {"210200", "210100"}
        dalian = cities["210200"]
        assert (dalian.outflow["local"].amount, dalian.outflow["abroad"].amount) == (D("1500000.50"), D("2000000.00"))
        assert (dalian.inflow["local"].amount, dalian.inflow["other_province"].amount) == (D("1000000.00"), D("300000.25"))
        assert cities["210100"].inflow["local"].amount == D("500000.50")
        assert {r.region_code: r.amount for r in province.by_region} == {"210200": D("3500000.50")}

        book = load_workbook(io.BytesIO(workbook(report, title="全国登记合同统计")))
        assert book.sheetnames == ["季度统计", "年度统计", "按地区（技术输出）", "按技术领域", "技术流向"]
        annual_sheet = [[c.value for c in row] for row in book["年度统计"].iter_rows()]
        assert annual_sheet[2][:4] == ["2024", 1, 50000.0, 50000.0]
        assert annual_sheet[3][:4] == ["2025", 4, 3800000.75, 1400000.5]
        assert annual_sheet[-1][:3] == ["合计", 5, 3850000.75]
    engine.dispose()


def test_an_empty_window_gives_empty_tables_not_an_error(migrated_url):
    engine, factory = _world(migrated_url)
    with transaction(factory) as session:
        report = registry_report(session, date_from=dt.date(2030, 1, 1))
        assert (report.annual, report.quarterly, report.flows, report.total.contracts) == ([], [], [], 0)
        assert load_workbook(io.BytesIO(workbook(report, title="空"))).sheetnames[0] == "季度统计"
    engine.dispose()


def test_the_api_serves_the_report_as_json_and_as_a_workbook(api):
    analyst = api.users.headers("analyst", api.orgs.platform)
    body = api.get("/analytics/registry", params={"date_from": "2020-01-01"}, headers=analyst)
    assert body.status_code == 200 and {"quarterly", "annual", "flows", "by_field", "total"} <= set(body.json())
    xlsx = api.get("/analytics/registry", params={"format": "xlsx"}, headers=analyst)
    assert xlsx.status_code == 200 and load_workbook(io.BytesIO(xlsx.content)).sheetnames[-1] == "技术流向"
    assert api.get("/analytics/registry", params={"region": "210211"}, headers=analyst).status_code in (400, 422)
    firm = api.users.headers("firm", api.orgs.firm)
    assert api.get("/analytics/registry", headers=firm).status_code == 403
