"""A party submits any technology contract for registration with the registration form's fields (issue 15): the
form is checked field by field in Chinese, the signed PDF is stored with its checksum, the registrar of the
parties' region registers or returns it, and a returned contract is corrected and waits again."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import select

from matchmaker.db import transaction
from matchmaker.models import Organisation

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _form(api, **overrides) -> dict:
    signed = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    body = {"seller_id": api.orgs.office, "buyer_id": api.orgs.firm, "title": "高效储能电池材料技术开发",
            "contract_type": "development", "sub_type": "commissioned", "amount": "1200000.00",
            "certified_amount": "1000000.00", "payment_mode": "instalments", "signed_on": signed,
            "valid_from": signed, "valid_until": (dt.date.today() + dt.timedelta(days=365)).isoformat(),
            "field_code": "clean_energy", "ip_type": "invention_patent", "programme": "provincial", "tax_relief": True}
    body.update(overrides)
    return body


def _problems(answer) -> dict[str, str]:
    return {p["field"]: p["reason"] for p in answer.json().get("errors", [])}


def test_a_firm_submits_the_registrar_registers_and_both_parties_see_the_number(api):
    firm = api.users.headers("firm", api.orgs.firm)
    office = api.users.headers("office", api.orgs.office)
    answer = api.post("/contracts", json=_form(api), headers={**firm, "Idempotency-Key": "submit-1"})
    assert answer.status_code == 201, answer.text
    contract = answer.json()
    assert contract["registration_number"] is None and contract["pipeline_id"] is None
    assert (contract["sub_type"], contract["programme"], contract["tax_relief"]) == ("commissioned", "provincial", True)
    assert contract["seller_party_type"] and contract["buyer_party_type"]   # from the organisations' kinds
    assert contract["foreign_related"] is False and contract["seller_region_code"]
    again = api.post("/contracts", json=_form(api), headers={**firm, "Idempotency-Key": "submit-1"})
    assert again.json()["id"] == contract["id"]                            # a retry is the same contract

    put = api.put(f"/contracts/{contract['id']}/document", content=PDF,
                  headers={**firm, "Content-Type": "application/pdf"}, params={"filename": "合同.pdf"})
    assert put.status_code == 200, put.text
    assert put.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    fetched = api.get(f"/contracts/{contract['id']}/document", headers=office)   # the other party reads it
    assert fetched.content == PDF and fetched.headers["x-checksum-sha256"] == hashlib.sha256(PDF).hexdigest()
    not_pdf = api.put(f"/contracts/{contract['id']}/document", content=b"hello",
                      headers={**firm, "Content-Type": "application/pdf"})
    assert not_pdf.status_code == 422, not_pdf.text
    assert "PDF" in _problems(not_pdf)["document"], not_pdf.text

    admin = api.users.headers("admin", api.orgs.platform)
    returned = api.post(f"/contracts/{contract['id']}/return", json={"reason": "请补充技术领域说明"}, headers=admin)
    assert returned.status_code == 200
    amended = api.put(f"/contracts/{contract['id']}", headers=office,
                      json={k: v for k, v in _form(api, title="高效储能电池正极材料技术开发").items()
                            if k not in ("seller_id", "buyer_id")})
    assert amended.status_code == 200, amended.text
    assert amended.json()["return_reason"] is None and amended.json()["title"].startswith("高效储能电池正极")
    registered = api.post(f"/contracts/{contract['id']}/register", headers=admin)
    assert registered.status_code == 200
    number = registered.json()["registration_number"]
    assert number.startswith(str(dt.date.today().year))
    for headers in (firm, office):
        seen = api.get(f"/contracts/{contract['id']}", headers=headers).json()
        assert seen["registration_number"] == number and seen["document_sha256"] == hashlib.sha256(PDF).hexdigest()
    late = api.put(f"/contracts/{contract['id']}/document", content=PDF, headers={**firm, "Content-Type": "application/pdf"})
    assert late.status_code == 409                                          # registered: the text is what it was


def test_the_form_names_every_field_at_fault_in_chinese(api):
    firm = api.users.headers("firm", api.orgs.firm)
    answer = api.post("/contracts", headers=firm, json=_form(
        api, sub_type="patent", certified_amount="1300000.00", field_code="alchemy", seller_region_code="999999",
        payment_mode="use_first_pay_later", valid_until="2000-01-01"))
    assert answer.status_code == 422
    problems = _problems(answer)
    assert set(problems) >= {"sub_type", "certified_amount", "field_code", "seller_region_code", "trial_ends_on",
                             "valid_until"}
    assert "委托开发" in problems["sub_type"] and "超过了合同成交额" in problems["certified_amount"]
    # Chinese that says what to do: no English word outside the quoted value the person typed.
    assert not [r for r in problems.values() if re.search(r"[a-z]{2,}", re.sub(r"“[^”]*”", "", r))], problems
    # certified == amount is allowed: the whole price may be technology.
    equal = api.post("/contracts", headers=firm, json=_form(api, certified_amount="1200000.00"))
    assert equal.status_code == 201


def test_a_party_abroad_has_a_country_not_a_region_and_makes_the_contract_foreign_related(api):
    firm = api.users.headers("firm", api.orgs.firm)
    answer = api.post("/contracts", headers=firm, json=_form(api, seller_country="DE", contract_type="licence",
                                                             sub_type="patent", licence_scope="ordinary"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["seller_country"], body["seller_region_code"], body["foreign_related"]) == ("DE", None, True)
    both_home = api.post("/contracts", headers=firm, json=_form(api, foreign_related=True))
    assert both_home.status_code == 422 and "涉外" in _problems(both_home)["foreign_related"]


def test_only_a_party_submits_and_only_for_its_own_organisation(api):
    other_firm = api.users.headers("firm", api.orgs.other_firm)
    assert api.post("/contracts", headers=other_firm, json=_form(api)).status_code == 422   # not a party
    broker = api.users.headers("broker", api.orgs.agency)
    assert api.post("/contracts", headers=broker, json=_form(api)).status_code == 403
    with transaction(api.users.factory) as session:
        pending = session.scalar(select(Organisation.id).where(Organisation.status == "pending"))
    if pending is not None:
        firm = api.users.headers("firm", api.orgs.firm)
        assert api.post("/contracts", headers=firm, json=_form(api, seller_id=pending)).status_code == 422


def test_registrars_import_and_export_the_registry_through_the_api(api):
    from test_registry_excel import GOOD, HEADER

    from matchmaker.catalog.io.excel import write_workbook

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    admin = api.users.headers("admin", api.orgs.platform)
    firm = api.users.headers("firm", api.orgs.firm)
    bad = [list(row) for row in GOOD]
    bad[2][7] = "400000"                                         # certified above the 350,000 amount
    refused = api.post("/contracts/import", content=write_workbook(HEADER, bad), headers={**admin, "Content-Type": xlsx})
    assert refused.status_code == 422
    assert any(p["field"] == "certified_amount" and p["reason"].startswith("第 4 行") for p in refused.json()["errors"])
    done = api.post("/contracts/import", content=write_workbook(HEADER, GOOD), headers={**admin, "Content-Type": xlsx})
    assert done.status_code == 201 and done.json() == {"imported": 3, "new_organisations": 4}
    assert api.post("/contracts/import", content=write_workbook(HEADER, GOOD),
                    headers={**firm, "Content-Type": xlsx}).status_code == 403
    exported = api.get("/contracts/export", params={"format": "csv"}, headers=admin)
    assert exported.status_code == 200 and exported.content.startswith("\ufeff".encode())
    assert "工业视觉检测技术服务" in exported.content.decode("utf-8-sig")


def test_the_registrar_certifies_the_technology_amount_at_registration(api):
    firm = api.users.headers("firm", api.orgs.firm)
    admin = api.users.headers("admin", api.orgs.platform)
    contract = api.post("/contracts", json=_form(api), headers=firm).json()
    too_much = api.post(f"/contracts/{contract['id']}/register", json={"certified_amount": "1300000.00"}, headers=admin)
    assert too_much.status_code == 422 and "核定技术交易额" in too_much.text
    done = api.post(f"/contracts/{contract['id']}/register", json={"certified_amount": "900000.00"}, headers=admin)
    assert done.status_code == 200, done.text
    assert (done.json()["certified_amount"], done.json()["registration_number"] is not None) == ("900000.00", True)
