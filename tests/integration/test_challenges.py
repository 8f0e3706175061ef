"""揭榜挂帅 (issue 16) through the API on SQLite and PostgreSQL: a firm publishes a challenge, two teams propose
with PDF attachments, a panel of experts declares conflicts and scores — a conflicted expert cannot score, whether
the platform knows the conflict (same organisation) or the expert declared it — the firm appoints the winner with
the score table in front of it, and the bounty is paid milestone by milestone until the challenge is completed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from matchmaker.models import Organisation, ProposalScore

pytestmark = pytest.mark.trading

TODAY = dt.date.today()
PDF = b"%PDF-1.4\n% proposal\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _org(api, kind: str) -> int:
    with api.users.engine.connect() as conn:
        return conn.scalar(select(Organisation.id).where(Organisation.kind == kind, Organisation.status == "active")
                           .order_by(Organisation.id))


def _challenge(api, firm, **overrides) -> dict:
    body = {"title": "高镍正极材料循环寿命提升", "bounty": "500000.00",
            "requirements": "现有高镍三元正极材料在 45℃ 下 1000 次循环后容量保持率不足 80%，征集包覆或掺杂改性方案，"
                            "要求中试验证并提供第三方检测报告。",
            "deadline": (TODAY + dt.timedelta(days=20)).isoformat(),
            "criteria": [{"name": "技术先进性", "weight": 60}, {"name": "实施可行性", "weight": 40}]}
    made = api.post("/challenges", headers=firm, json={**body, **overrides})
    assert made.status_code == 201, made.text
    return made.json()


def _propose(api, team, challenge_id: int, name: str) -> dict:
    made = api.post(f"/challenges/{challenge_id}/proposals", headers=team, json={
        "team": name, "summary": "采用原子层沉积氧化铝包覆结合钨掺杂，小试样品 1000 次循环保持率 86%，六个月完成中试。",
        "budget": "450000.00"})
    assert made.status_code == 201, made.text
    return made.json()


def test_a_challenge_from_publication_to_the_last_milestone(api):
    orgs = api.orgs
    firm = api.users.headers("firm", orgs.firm, name="发榜人")
    office = api.users.headers("office", orgs.office, name="揭榜团队甲")
    other = api.users.headers("office", orgs.other_office, name="揭榜团队乙")
    neutral = api.users.headers("expert", _org(api, "government"), name="评审专家甲")
    colleague = api.users.headers("expert", orgs.office, name="评审专家乙")   # of the first team's university
    declarer = api.users.headers("expert", orgs.agency, name="评审专家丙")
    experts = {e["name"]: e["user_id"] for e in api.get("/challenges/experts", headers=firm).json()}

    challenge = _challenge(api, firm)
    assert challenge["phase"] == "open"
    assert api.post(f"/challenges/{challenge['id']}/proposals", headers=firm, json={
        "team": "自己", "summary": "发榜企业不能揭自己的榜，这条方案应当被拒绝。"}).status_code == 403
    first = _propose(api, office, challenge["id"], "正极材料课题组（张教授）")
    second = _propose(api, other, challenge["id"], "电化学储能团队（李研究员）")
    again = api.post(f"/challenges/{challenge['id']}/proposals", headers=office, json={
        "team": "第二次", "summary": "同一单位第二次提交方案，应当提示已提交过。"})
    assert again.status_code == 409

    upload = {**office, "Content-Type": "application/pdf", "Idempotency-Key": "proposal-pdf-1"}
    attached = api.post(f"/challenges/proposals/{first['id']}/attachments?filename=方案.pdf", headers=upload, content=PDF)
    assert attached.status_code == 201, attached.text
    retried = api.post(f"/challenges/proposals/{first['id']}/attachments?filename=方案.pdf", headers=upload, content=PDF)
    assert retried.headers.get("Idempotent-Replayed") == "true" and retried.json()["id"] == attached.json()["id"]
    assert api.post(f"/challenges/proposals/{first['id']}/attachments", headers={
        **office, "Content-Type": "application/pdf"}, content=b"not a pdf").status_code == 422
    # Teams see their own proposal only; the challenger sees both, with the attachment.
    assert [p["id"] for p in api.get(f"/challenges/{challenge['id']}/proposals", headers=other).json()] == [second["id"]]
    seen = api.get(f"/challenges/{challenge['id']}/proposals", headers=firm).json()
    assert [p["id"] for p in seen] == [first["id"], second["id"]] and seen[0]["attachments"][0]["size"] == len(PDF)
    assert api.get(f"/challenges/attachments/{seen[0]['attachments'][0]['id']}", headers=other).status_code == 404

    for name in ("评审专家甲", "评审专家乙", "评审专家丙"):
        added = api.post(f"/challenges/{challenge['id']}/panel", headers=firm, json={"user_id": experts[name]})
        assert added.status_code == 201, added.text
    not_an_expert = api.post(f"/challenges/{challenge['id']}/panel", headers=firm,
                             json={"user_id": min(experts.values()) - 1})
    assert not_an_expert.status_code == 422

    # Scores wait for the end of the call for proposals.
    assert api.post(f"/challenges/proposals/{first['id']}/declaration", headers=neutral,
                    json={"conflicted": False}).status_code == 201
    early = api.put(f"/challenges/proposals/{first['id']}/score", headers=neutral, json={"scores": [90, 80]})
    assert early.status_code == 409 and "截止" in early.text
    assert api.post(f"/challenges/{challenge['id']}/close", headers=office).status_code == 403
    assert api.post(f"/challenges/{challenge['id']}/close", headers=firm).json()["phase"] == "reviewing"
    late = api.post(f"/challenges/{challenge['id']}/proposals", headers=api.users.headers("firm", orgs.other_firm),
                    json={"team": "迟到的团队", "summary": "截止以后才提交的方案，应当被拒绝并说明原因。"})
    assert late.status_code == 409

    # A conflicted expert cannot score: the platform knows one conflict (same university) …
    undeclared = api.put(f"/challenges/proposals/{first['id']}/score", headers=colleague, json={"scores": [100, 100]})
    assert undeclared.status_code == 403
    denied = api.post(f"/challenges/proposals/{first['id']}/declaration", headers=colleague, json={"conflicted": False})
    assert denied.status_code == 409 and "回避" in denied.text
    assert api.post(f"/challenges/proposals/{first['id']}/declaration", headers=colleague,
                    json={"conflicted": True, "reason": "与申报团队同属一所大学"}).status_code == 201
    assert api.put(f"/challenges/proposals/{first['id']}/score", headers=colleague,
                   json={"scores": [100, 100]}).status_code == 403
    # … and an expert declares another; the declaration is final.
    assert api.post(f"/challenges/proposals/{second['id']}/declaration", headers=declarer,
                    json={"conflicted": True}).status_code == 422   # a conflict needs its circumstances
    assert api.post(f"/challenges/proposals/{second['id']}/declaration", headers=declarer,
                    json={"conflicted": True, "reason": "近三年与申报团队负责人合作过项目"}).status_code == 201
    assert api.post(f"/challenges/proposals/{second['id']}/declaration", headers=declarer,
                    json={"conflicted": False}).status_code == 409
    assert api.put(f"/challenges/proposals/{second['id']}/score", headers=declarer,
                   json={"scores": [0, 0]}).status_code == 403
    # An expert who has not declared is asked to.
    assert api.put(f"/challenges/proposals/{first['id']}/score", headers=declarer,
                   json={"scores": [70, 70]}).status_code == 409

    def scored(expert, proposal, scores):
        if api.post(f"/challenges/proposals/{proposal['id']}/declaration", headers=expert,
                    json={"conflicted": False}).status_code not in (201, 409):
            raise AssertionError("declaration failed")
        answer = api.put(f"/challenges/proposals/{proposal['id']}/score", headers=expert, json={"scores": scores})
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert scored(neutral, first, [90, 80])["total"] == "86.00"   # 90×60% + 80×40%
    assert scored(neutral, second, [70, 60])["total"] == "66.00"
    assert scored(colleague, second, [75, 75])["total"] == "75.00"
    assert scored(declarer, first, [80, 70])["total"] == "76.00"
    wrong = api.put(f"/challenges/proposals/{first['id']}/score", headers=neutral, json={"scores": [90]})
    assert wrong.status_code == 422
    with api.users.engine.connect() as conn:   # the refused scores left nothing behind
        assert conn.scalar(select(func.count()).select_from(ProposalScore)) == 4

    table = api.get(f"/challenges/{challenge['id']}/scores", headers=firm).json()
    assert [(line["proposal_id"], line["mean"]) for line in table] == [(first["id"], "81.00"), (second["id"], "70.50")]
    assert [e["name"] for e in table[0]["recused"]] == ["评审专家乙"]
    assert [e["name"] for e in table[1]["recused"]] == ["评审专家丙"]
    own = api.get(f"/challenges/{challenge['id']}/scores", headers=neutral).json()
    assert all(s["expert"] == "评审专家甲" for line in own for s in line["scores"])
    assert api.get(f"/challenges/{challenge['id']}/scores", headers=other).status_code == 403

    plan = [{"title": "中试样品交付", "due_on": (TODAY + dt.timedelta(days=90)).isoformat(), "amount": "200000.00"},
            {"title": "第三方检测与验收", "due_on": (TODAY + dt.timedelta(days=180)).isoformat(), "amount": "300000.00"}]
    short = api.post(f"/challenges/{challenge['id']}/award", headers=firm,
                     json={"proposal_id": first["id"], "milestones": plan[:1]})
    assert short.status_code == 422 and "500,000.00" in short.text
    assert api.post(f"/challenges/{challenge['id']}/award", headers=office,
                    json={"proposal_id": first["id"], "milestones": plan}).status_code == 403
    awarded = api.post(f"/challenges/{challenge['id']}/award", headers=firm,
                       json={"proposal_id": first["id"], "milestones": plan})
    assert awarded.status_code == 200, awarded.text
    assert awarded.json()["phase"] == "awarded" and awarded.json()["winner_id"] == first["id"]
    assert api.post(f"/challenges/{challenge['id']}/award", headers=firm,
                    json={"proposal_id": second["id"], "milestones": plan}).status_code == 409
    assert api.put(f"/challenges/proposals/{second['id']}/score", headers=neutral,
                   json={"scores": [100, 100]}).status_code == 409   # the review is over

    stones = api.get(f"/challenges/{challenge['id']}/milestones", headers=office).json()
    assert [(m["seq"], m["amount"], m["status"]) for m in stones] == [(1, "200000.00", "planned"),
                                                                      (2, "300000.00", "planned")]
    assert api.post(f"/challenges/milestones/{stones[0]['id']}/deliver", headers=other,
                    json={"note": "不是揭榜方"}).status_code == 403
    assert api.post(f"/challenges/milestones/{stones[0]['id']}/pay", headers=firm,
                    json={"reference": "BANK-0001"}).status_code == 409   # not delivered yet
    for stone in stones:
        delivered = api.post(f"/challenges/milestones/{stone['id']}/deliver", headers=office,
                             json={"note": "已交付中试样品 20 kg 及检测报告"})
        assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"
        paid = api.post(f"/challenges/milestones/{stone['id']}/pay", headers=firm, json={"reference": f"BANK-{stone['seq']}"})
        assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert api.get(f"/challenges/{challenge['id']}", headers=other).json()["phase"] == "completed"
    assert api.get("/challenges?phase=completed", headers=other).json()["total"] >= 1


def test_a_department_publishes_on_behalf_of_a_firm_and_the_storefront_lists_open_challenges(api):
    orgs = api.orgs
    department = api.users.headers("analyst", _org(api, "government"), name="科技局")
    made = _challenge(api, department, title="盐碱地耐逆作物品种选育", on_behalf_of_id=orgs.firm, bounty="3000000.00",
                      deadline=(TODAY + dt.timedelta(days=1)).isoformat())   # the nearest deadline: first page
    assert made["on_behalf_of_id"] == orgs.firm
    # The firm it was published for is bound to it: its teams cannot propose.
    assert api.post(f"/challenges/{made['id']}/proposals", headers=api.users.headers("firm", orgs.firm), json={
        "team": "受益企业", "summary": "代发榜所服务的企业不能自己揭榜，应当被拒绝。"}).status_code == 403
    assert api.post("/challenges", headers=api.users.headers("office", orgs.office), json={
        "title": "高校发榜", "requirements": "高校不能发榜：发榜的是有需求的企业或主管部门。" * 2, "bounty": "1.00",
        "deadline": (TODAY + dt.timedelta(days=5)).isoformat()}).status_code == 403
    bad = api.post("/challenges", headers=department, json={
        "title": "权重不对", "requirements": "各项评分标准的权重合计必须为一百，这里只有九十。" * 2, "bounty": "1000.00",
        "deadline": (TODAY + dt.timedelta(days=5)).isoformat(),
        "criteria": [{"name": "甲", "weight": 50}, {"name": "乙", "weight": 40}]})
    assert bad.status_code == 422 and "合计 100" in bad.text
    page = api.get("/web/market/challenges")
    assert page.status_code == 200 and "盐碱地耐逆作物品种选育" in page.text and "300.00 万元" in page.text
    detail = api.get(f"/web/market/challenges/{made['id']}")
    assert detail.status_code == 200 and "评分标准" in detail.text and "技术先进性" in detail.text
