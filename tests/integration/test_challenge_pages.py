"""揭榜挂帅 in the pages (issue 16), each person on their own page: the firm publishes and seats the panel, the
office proposes and attaches its PDF, an expert of the office's own university is made to recuse and is refused a
score, the demo expert declares and scores, the firm awards with milestones, the office delivers, the firm pays."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from page_client import log_in, token
from sqlalchemy import select

from matchmaker.db import transaction
from matchmaker.identity.services import create_user, set_password
from matchmaker.models import Challenge, Proposal, ProposalScore, User

pytestmark = pytest.mark.trading
TODAY = dt.date.today()


def _errors(page) -> list[str]:
    return re.findall(r"未完成[^<]*", page.text)


def test_publish_propose_recuse_score_award_deliver_pay(pages):
    log_in(pages, "demo_firm")
    published = pages.post("/web/challenges", data={
        "title": "冷链物流箱体保温材料国产化", "bounty": "60万", "deadline": (TODAY + dt.timedelta(days=30)).isoformat(),
        "requirements": "现用进口真空绝热板价格高、交期长，征集导热系数不高于 0.004 W/(m·K) 的国产替代方案，需提供样板。",
        "criterion_0": "技术指标", "weight_0": "70", "criterion_1": "成本与量产", "weight_1": "30",
        "_csrf_token": token(pages, "/web/challenges")}, follow_redirects=True)
    assert "榜单已发布" in published.text, _errors(published)
    with transaction(pages.factory) as session:
        challenge = session.scalar(select(Challenge).order_by(Challenge.id.desc()))
        assert challenge.criteria == [{"name": "技术指标", "weight": 70}, {"name": "成本与量产", "weight": 30}]
        office_org = session.scalar(select(User).where(User.login == "demo_office")).organisation_id
        colleague, _ = create_user(session, role="expert", organisation_id=office_org, name="同校专家")
        colleague.login = "colleague_expert"
        set_password(session, colleague.id, "Colleague-expert-2026!")
        expert_id = session.scalar(select(User.id).where(User.login == "demo_expert"))
        challenge_id, colleague_id = challenge.id, colleague.id
    pages.passwords["colleague_expert"] = "Colleague-expert-2026!"
    path = f"/web/challenges/{challenge_id}"

    for user_id in (expert_id, colleague_id):
        seated = pages.post(f"{path}/panel", data={"user_id": str(user_id), "_csrf_token": token(pages, path)},
                            follow_redirects=True)
        assert "已加入评审专家组" in seated.text, _errors(seated)

    log_in(pages, "demo_office")
    assert "提交揭榜方案" in pages.get(path).text
    proposed = pages.post(f"{path}/proposals", data={
        "team": "先进保温材料课题组（王教授）", "budget": "55万",
        "summary": "气凝胶复合真空绝热板，实验室样板导热系数 0.0035，已与两家板材厂完成小批量试制。",
        "_csrf_token": token(pages, path)}, follow_redirects=True)
    assert "方案已提交" in proposed.text, _errors(proposed)
    with transaction(pages.factory) as session:
        proposal_id = session.scalar(select(Proposal.id).where(Proposal.challenge_id == challenge_id))
    uploaded = pages.post(f"/web/upload/proposals/{proposal_id}", data={"_csrf_token": token(pages, path)},
                          files={"attachment": ("方案全文.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
                          follow_redirects=True)
    assert "已上传附件《方案全文.pdf》" in uploaded.text, _errors(uploaded)

    log_in(pages, "demo_firm")
    closed = pages.post(f"{path}/close", data={"_csrf_token": token(pages, path)}, follow_redirects=True)
    assert "已截止征集" in closed.text and "评审中" in closed.text

    # The expert of the office's own university: the page offers only recusal, and a score is refused.
    log_in(pages, "colleague_expert")
    page = pages.get(path).text
    assert "须回避" in page and 'value="no"' not in page
    declared = pages.post(f"/web/challenges/proposals/{proposal_id}/declaration", data={
        "conflicted": "yes", "reason": "与申报团队同属一所大学", "_csrf_token": token(pages, path)}, follow_redirects=True)
    assert "回避该方案的评审" in declared.text and 'data-testid="score-form"' not in declared.text
    sneaked = pages.post(f"/web/challenges/proposals/{proposal_id}/score", data={
        "score_0": "100", "score_1": "100", "_csrf_token": token(pages, path)}, follow_redirects=True)
    assert "不能为它评分" in sneaked.text

    log_in(pages, "demo_expert")
    assert "冷链物流箱体保温材料国产化" in pages.get("/web/challenges").text   # 我的评审任务
    pages.post(f"/web/challenges/proposals/{proposal_id}/declaration", data={
        "conflicted": "no", "_csrf_token": token(pages, path)}, follow_redirects=True)
    scored = pages.post(f"/web/challenges/proposals/{proposal_id}/score", data={
        "score_0": "90", "score_1": "80", "comment": "指标领先，量产成本需进一步论证", "_csrf_token": token(pages, path)},
        follow_redirects=True)
    assert "加权总分 87.00" in scored.text, _errors(scored)
    with transaction(pages.factory) as session:
        assert [s.user_id for s in session.scalars(select(ProposalScore))] == [expert_id]

    log_in(pages, "demo_firm")
    page = pages.get(path).text
    assert "同校专家" in page and "87.00" in page   # the score table, with who recused
    wrong = pages.post(f"{path}/award", data={
        "proposal_id": str(proposal_id), "milestone_0": "样板交付", "due_0": (TODAY + dt.timedelta(days=60)).isoformat(),
        "amount_0": "20万", "_csrf_token": token(pages, path)}, follow_redirects=True)
    assert "须等于悬赏金额 600,000.00 元" in wrong.text
    awarded = pages.post(f"{path}/award", data={
        "proposal_id": str(proposal_id), "milestone_0": "样板交付", "due_0": (TODAY + dt.timedelta(days=60)).isoformat(),
        "amount_0": "20万", "milestone_1": "量产验收", "due_1": (TODAY + dt.timedelta(days=180)).isoformat(),
        "amount_1": "40万", "_csrf_token": token(pages, path)}, follow_redirects=True)
    assert "已确定揭榜方" in awarded.text and "已揭榜" in awarded.text, _errors(awarded)

    log_in(pages, "demo_office")
    page = pages.get(path).text
    milestone_ids = re.findall(r'/web/challenges/milestones/(\d+)/deliver', page)
    assert len(milestone_ids) == 2
    for mid in milestone_ids:
        delivered = pages.post(f"/web/challenges/milestones/{mid}/deliver", data={
            "note": "样板 10 块及检测报告已寄出", "_csrf_token": token(pages, path)}, follow_redirects=True)
        assert "已提交交付说明" in delivered.text, _errors(delivered)
    log_in(pages, "demo_firm")
    for mid in milestone_ids:
        paid = pages.post(f"/web/challenges/milestones/{mid}/pay", data={
            "reference": f"工行流水{mid}", "_csrf_token": token(pages, path)}, follow_redirects=True)
        assert "已记录付款" in paid.text, _errors(paid)
    assert "已完成" in pages.get(path).text
