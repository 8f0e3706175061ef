"""Explanations in Chinese: what each factor of a match says, for the API's `note` fields and the pages."""
from __future__ import annotations

import math

from matchmaker import vocabulary as v
from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Factor, Match, Relevance
from matchmaker.matching.scoring import POSSIBLE, STRONG

TIER_WORDS = {"strong": "高度匹配", "possible": "可能相关", "weak": "相关性弱"}
MODE_WORDS = {str(mode): label for mode, label in v.LABELS_ZH.items() if isinstance(mode, v.TransferMode)}

MEANING = (f"匹配度是对“专家会判为较强相关或强相关”的估计概率（0–100%），由文本与语义相关度换算，"
           f"再按需求写明的条件（技术成熟度、预算、合作方式、领域）对不符合者下调；未填写的条件不扣分。"
           f"{STRONG:.0%} 及以上为高度匹配，{POSSIBLE:.0%}–{STRONG:.0%} 为可能相关。")


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def wan(amount: float) -> str:
    """Yuan in 万元, as every form and page shows money."""
    return f"{amount / 10_000:,.1f} 万元".replace(".0 万元", " 万元")


def relevance_note(relevance: Relevance) -> str:
    parts = [f"文字相似度 {relevance.text_similarity:.2f}（比库中一般记录高 {relevance.text_z:.1f} 个标准差）"]
    if relevance.semantic_similarity is not None:
        parts.append(f"语义相似度 {relevance.semantic_similarity:.2f}（高 {relevance.semantic_z:.1f} 个标准差）")
    elif relevance.ranker == "tfidf":
        parts.append("未计算语义相似度")
    return "；".join(parts) + f"，据此估计相关的可能性为 {percent(relevance.value)}。"


def factor_note(factor: Factor, achievement: AchievementDoc, demand: DemandDoc, field_names: dict[str, str]) -> str:
    """One sentence per factor: met, broken (and by how much the order was lowered), or not stated."""
    lowered = "" if factor.multiplier >= 1 else f"，排序下调为原来的 {percent(factor.multiplier)}"
    if factor.name == "field":
        if factor.violation is None:
            return "一方未填写技术领域，不影响排序。"
        a, d = (field_names.get(c, c) for c in (achievement.field_code, demand.field_code))
        return f"同属{a}领域。" if factor.violation == 0 else f"成果属于{a}，需求属于{d}{lowered}。"
    if factor.name == "trl":
        if factor.violation is None:
            missing = "成果未标注技术成熟度" if achievement.trl is None else "需求未提最低技术成熟度要求"
            return f"{missing}，不影响排序。"
        if factor.violation == 0:
            return f"成果技术成熟度 {achievement.trl} 级，达到需求要求的 {demand.min_trl} 级。"
        return f"成果技术成熟度 {achievement.trl} 级，比需求要求的 {demand.min_trl} 级低 {int(factor.violation)} 级{lowered}。"
    if factor.name == "price":
        if factor.violation is None:
            missing = "成果报价面议" if achievement.asking_price is None else "需求未写预算上限"
            return f"{missing}，不影响排序。"
        if factor.violation == 0:
            return f"参考价格 {wan(achievement.asking_price)}，在预算上限 {wan(demand.budget_max)} 以内。"
        over = math.exp(factor.violation) - 1
        return f"参考价格 {wan(achievement.asking_price)}，超出预算上限 {wan(demand.budget_max)} 约 {percent(over)}{lowered}。"
    if factor.name == "mode":
        if factor.violation is None:
            return "一方未写转化或合作方式，不影响排序。"
        shared = [MODE_WORDS.get(m, m) for m in sorted(set(achievement.transfer_modes) & set(demand.cooperation_modes))]
        if shared:
            return f"双方都接受{'、'.join(shared)}。"
        offered = "、".join(MODE_WORDS.get(m, m) for m in sorted(achievement.transfer_modes))
        wanted = "、".join(MODE_WORDS.get(m, m) for m in sorted(demand.cooperation_modes))
        return f"成果提供{offered}，需求希望{wanted}，没有共同的合作方式{lowered}。"
    # locality: shown for 本地转化, never scored
    if factor.violation is None:
        return "一方地区不详。"
    if factor.violation >= 1:
        return "双方在同一城市，利于本地转化（不影响排序）。"
    if factor.violation > 0:
        return "双方在同一省份（不影响排序）。"
    return "双方不在同一省份（不影响排序）。"


def summary(match: Match) -> str:
    """The line people read first: 匹配度, its tier, and the strongest shared words."""
    words = "、".join(term for term, _ in match.explanation.shared_terms[:3])
    head = f"匹配度 {percent(match.score)}（{TIER_WORDS[match.tier]}）"
    return f"{head}，共同关键词：{words}" if words else head
