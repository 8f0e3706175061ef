"""Matcher: order, filters, published-only, explanations that add up, symmetric ranking."""
import pytest

from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher
from matchmaker.matching.scoring import ScoreWeights, locality_factor, price_factor, trl_factor

ACHIEVEMENTS = [
    AchievementDoc("a1", "锂离子电池正极材料制备技术", "高镍三元正极材料", field_code="energy", trl=7,
                   region_code="410302", asking_price=80, transfer_modes=frozenset({"licence"})),
    AchievementDoc("a2", "锂电池回收利用技术", "废旧动力电池梯次利用", field_code="energy", trl=4,
                   region_code="320100", asking_price=300, transfer_modes=frozenset({"transfer"})),
    AchievementDoc("a3", "污水处理生物膜技术", "", field_code="environment", trl=8, region_code="410100"),
    AchievementDoc("a4", "光伏组件清洗机器人", "", field_code="energy", trl=6),
    AchievementDoc("a5", "锂电池正极材料", "草稿，未发布", field_code="energy", status="draft"),
]
DEMANDS = [
    DemandDoc("d1", "锂电池正极材料", "需求内容：寻求高镍正极材料制备技术", field_code="energy", min_trl=6,
              region_code="410300", budget_max=100, cooperation_modes=frozenset({"licence"})),
    DemandDoc("d2", "污水处理", "工业废水生物处理", field_code="environment"),
    DemandDoc("d3", "锂电池回收", "", status="withdrawn"),
]


@pytest.fixture
def matcher():
    return Matcher().fit(ACHIEVEMENTS, DEMANDS)


def test_text_order(matcher):
    ids = [m.id for m in matcher.rank_achievements(DemandDoc("q", "锂电池正极材料", "正极材料制备"), k=3)]
    assert ids[0] == "a1" and ids.index("a2") < len(ids)


def test_non_published_never_appear(matcher):
    for k in (1, 10):
        assert "a5" not in [m.id for m in matcher.rank_achievements(DEMANDS[0], k=k)]
    assert "d3" not in [m.id for m in matcher.rank_demands(ACHIEVEMENTS[1], k=10)]
    matcher.upsert_achievement(AchievementDoc("a1", "锂离子电池正极材料制备技术", "", status="withdrawn"))
    assert "a1" not in [m.id for m in matcher.rank_achievements(DEMANDS[0], k=10)]


def test_explanation_reproduces_score(matcher):
    results = matcher.rank_achievements(DEMANDS[0], k=10)
    assert results
    for m in results:
        e = m.explanation
        text = sum(c for _, c in e.shared_terms) + e.other_terms
        assert text == pytest.approx(e.text_score, abs=1e-6)
        assert e.text_weight * text + sum(f.contribution for f in e.factors) == pytest.approx(m.score, abs=1e-6)
        assert e.total() == pytest.approx(m.score, abs=1e-9)
    top = results[0]
    assert top.id == "a1"
    factors = {f.name: f.value for f in top.explanation.factors}
    assert factors == {"field": 1.0, "trl": 1.0, "price": 1.0, "mode": 1.0, "locality": 1.0}
    assert any("正极" in term or "锂" in term for term, _ in top.explanation.shared_terms)


def test_structured_factors_reorder_textual_ties():
    docs = [AchievementDoc("x", "锂电池回收", "", region_code="110100"),
            AchievementDoc("y", "锂电池回收", "", region_code="410300")]
    demand = DemandDoc("q", "锂电池回收", "", region_code="410300")
    m = Matcher().fit(docs, [])
    assert [r.id for r in m.rank_achievements(demand)] == ["y", "x"]
    flat = Matcher(weights=ScoreWeights(locality=0.0)).fit(docs, [])
    assert [r.id for r in flat.rank_achievements(demand)] == ["x", "y"]  # tie → by id


def test_unknown_fields_are_neutral():
    assert trl_factor(None, 5) == 0.0 and price_factor(None, 0, 100) == 0.0 and locality_factor("410300", None) == 0.0
    assert trl_factor(3, 6) == -1.0 and price_factor(150, None, 100) == 0.0 and price_factor(400, None, 100) == -1.0


def test_filters(matcher):
    demand = DemandDoc("q", "锂电池技术", "")
    assert {m.id for m in matcher.rank_achievements(demand, field_codes=["environment"])} <= {"a3"}
    by_province = {m.id for m in matcher.rank_achievements(DemandDoc("q", "技术", ""), region_code="410000")}
    assert by_province == {"a1", "a3"}
    assert {m.id for m in matcher.rank_achievements(DemandDoc("q", "技术", ""), region_code="410300")} == {"a1"}
    assert {m.id for m in matcher.rank_achievements(demand, trl_range=(6, 9))} == {"a1", "a3"}  # a2 is TRL 4
    assert {m.id for m in matcher.rank_demands(ACHIEVEMENTS[2], field_codes="environment")} == {"d2"}


def test_unknown_filter_values_raise(matcher):
    demand = DEMANDS[0]
    with pytest.raises(ValueError, match="unknown field code"):
        matcher.rank_achievements(demand, field_codes=["no-such-field"])
    with pytest.raises(ValueError, match="six-digit"):
        matcher.rank_achievements(demand, region_code="41")
    with pytest.raises(ValueError, match="TRL range"):
        matcher.rank_achievements(demand, trl_range=(7, 3))
    with pytest.raises(ValueError, match="k must be"):
        matcher.rank_achievements(demand, k=0)
    with pytest.raises(ValueError, match="non-negative"):
        ScoreWeights(field=-1)


@pytest.mark.parametrize("title,body", [("", ""), ("，。！", "？？"), ("锂电池", "锂电池回收" * 200_000)])
def test_odd_queries(matcher, title, body):
    results = matcher.rank_achievements(DemandDoc("q", title, body), k=5)
    assert len(results) <= 5
    if not title.strip("，。！"):
        assert results == []


def test_symmetric_and_live_add(matcher):
    assert matcher.rank_demands(ACHIEVEMENTS[2])[0].id == "d2"
    matcher.upsert_demand(DemandDoc("d4", "污水处理生物膜", ""))
    assert matcher.rank_demands(ACHIEVEMENTS[2])[0].id == "d4"
    # terms unseen at fit time count only after a refit (the index keeps its vocabulary between refits)
    matcher.upsert_demand(DemandDoc("d5", "光伏组件清洗", "机器人清洗光伏板"))
    matcher.refit()
    assert matcher.rank_demands(ACHIEVEMENTS[3])[0].id == "d5"


def test_empty_matcher_returns_nothing():
    assert Matcher().fit([], []).rank_achievements(DemandDoc("q", "锂电池", "")) == []
