"""Matcher: text first, constraints only demote, unknown is neutral, explanations in words that add up."""
import gc
import math
import os

import numpy as np
import pytest

from matchmaker.matching.documents import IndexedDocs
from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher
from matchmaker.matching.scoring import (
    ScoreWeights, multiplier, price_violation, trl_violation, locality, mode_violation,
)

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
    assert ids[0] == "a1" and "a2" in ids


def test_non_published_never_appear(matcher):
    for k in (1, 10):
        assert "a5" not in [m.id for m in matcher.rank_achievements(DEMANDS[0], k=k)]
    assert "d3" not in [m.id for m in matcher.rank_demands(ACHIEVEMENTS[1], k=10)]
    matcher.upsert_achievement(AchievementDoc("a1", "锂离子电池正极材料制备技术", "", status="withdrawn"))
    assert "a1" not in [m.id for m in matcher.rank_achievements(DEMANDS[0], k=10)]


def test_explanation_reproduces_a_score_that_never_exceeds_one(matcher):
    results = matcher.rank_achievements(DEMANDS[0], k=10)
    assert results
    for m in results:
        e = m.explanation
        assert 0 < e.relevance.value < 1 and 0 < m.score <= e.relevance.value
        assert m.score == pytest.approx(e.relevance.value * math.prod(f.multiplier for f in e.factors), abs=1e-12)
        assert e.total() == pytest.approx(m.score, abs=1e-12)
    top = results[0]
    assert top.id == "a1"
    assert {f.name: f.violation for f in top.explanation.factors} == {
        "field": 0.0, "trl": 0.0, "price": 0.0, "mode": 0.0, "locality": 1.0}
    assert all(f.multiplier == 1.0 for f in top.explanation.factors)


def test_shared_terms_are_words_never_single_characters_or_digits():
    docs = [AchievementDoc("a", "锂电池极片激光清洗工艺", "清洗速度 92 米每分钟，适用于动力电池极片"),
            AchievementDoc("b", "唐卡数字化保护", "壁画激光清洗与三维扫描")]
    matcher = Matcher().fit(docs, [])
    top = matcher.rank_achievements(DemandDoc("q", "锂电池极片高精度激光清洗工艺", "极片表面残留 92 项指标"), k=2)
    assert top[0].id == "a"
    words = [term for term, _ in top[0].explanation.shared_terms]
    assert "激光清洗" in words or "激光" in words
    assert all(len(w) >= 2 and not w.isdigit() for w in words), words
    assert "电池" in words or "锂电池" in words or "极片" in words


def test_meeting_constraints_never_lifts_an_unrelated_candidate():
    related = AchievementDoc("r", "锂电池极片激光清洗工艺", "极片表面激光清洗")   # price, TRL, modes unknown
    unrelated = AchievementDoc("u", "风电叶片树脂材料", "环氧树脂", field_code="energy", trl=9, asking_price=10,
                               transfer_modes=frozenset({"licence"}), region_code="210200")
    demand = DemandDoc("q", "锂电池极片激光清洗", "需要激光清洗极片", field_code="energy", min_trl=6,
                       budget_max=800_000, cooperation_modes=frozenset({"licence"}), region_code="210200")
    ranked = Matcher().fit([related, unrelated], []).rank_achievements(demand, k=2)
    assert [m.id for m in ranked] == ["r", "u"]
    assert all(f.multiplier == 1.0 for f in ranked[0].explanation.factors)   # unknown is not a violation


def test_a_broken_constraint_demotes_and_unknown_does_not():
    same = "高镍三元正极材料制备", "正极材料"
    docs = [AchievementDoc("early", *same, trl=3), AchievementDoc("unknown", *same), AchievementDoc("ready", *same, trl=7)]
    demand = DemandDoc("q", "高镍三元正极材料", "", min_trl=6)
    ranked = Matcher().fit(docs, []).rank_achievements(demand, k=3)
    assert [m.id for m in ranked] == ["ready", "unknown", "early"]   # the tie of the first two broken by id
    scores = {m.id: m.score for m in ranked}
    assert scores["ready"] == pytest.approx(scores["unknown"])
    assert scores["early"] == pytest.approx(scores["ready"] * math.exp(-ScoreWeights().trl * 3))


def test_locality_is_shown_but_does_not_reorder():
    docs = [AchievementDoc("x", "锂电池回收", "", region_code="110100"),
            AchievementDoc("y", "锂电池回收", "", region_code="410300")]
    ranked = Matcher().fit(docs, []).rank_achievements(DemandDoc("q", "锂电池回收", "", region_code="410300"))
    assert [r.id for r in ranked] == ["x", "y"]  # a tie, broken by id
    assert {f.name: f.violation for f in ranked[1].explanation.factors}["locality"] == 1.0


def test_violation_rules():
    assert trl_violation(None, 5) is None and price_violation(None, 100) is None and locality("410300", None) is None
    assert trl_violation(3, 6) == 3 and trl_violation(7, 6) == 0
    assert price_violation(150, 100) == pytest.approx(math.log(1.5)) and price_violation(90, 100) == 0
    assert mode_violation({"transfer"}, {"licence"}) == 1 and mode_violation(set(), {"licence"}) is None
    w = ScoreWeights()
    assert multiplier("trl", None, w) == 1.0 and multiplier("trl", 1, w) == pytest.approx(0.75, abs=0.001)
    assert multiplier("price", math.log(2), w) == pytest.approx(2 ** -0.5)
    assert multiplier("locality", 1.0, w) == 1.0


def test_filters(matcher):
    demand = DemandDoc("q", "锂电池技术", "")
    assert {m.id for m in matcher.rank_achievements(demand, field_codes=["environment"])} <= {"a3"}
    by_province = {m.id for m in matcher.rank_achievements(DemandDoc("q", "技术", ""), region_code="410000")}
    assert by_province == {"a1", "a3"}
    assert {m.id for m in matcher.rank_achievements(DemandDoc("q", "技术", ""), region_code="410300")} == {"a1"}
    assert {m.id for m in matcher.rank_achievements(demand, trl_range=(6, 9))} <= {"a1", "a3", "a4"}
    assert "a2" not in {m.id for m in matcher.rank_achievements(demand, trl_range=(6, 9))}  # a2 is TRL 4
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


def test_sentence_vectors_fuse_with_text_and_missing_ones_are_neutral():
    docs = [AchievementDoc("a", "金属表面腐蚀防护涂层", ""), AchievementDoc("b", "污水处理生物膜", ""),
            AchievementDoc("c", "风电叶片树脂", "")]
    demand = DemandDoc("d", "设备生锈严重", "")
    matcher = Matcher(weights=ScoreWeights(semantic=0.7)).fit(docs, [demand])
    assert matcher.rank_achievements(demand, k=3)[0].explanation.relevance.ranker == "tfidf"  # no vectors yet
    rng = np.random.default_rng(0)
    base = rng.normal(size=384)
    for doc_id, noise in (("a", 0.1), ("b", 3.0), ("c", 3.0)):
        v = base + noise * rng.normal(size=384)
        matcher.set_vector("achievements", doc_id, v / np.linalg.norm(v))
    matcher.set_vector("demands", "d", base / np.linalg.norm(base))
    ranked = matcher.rank_achievements(demand, k=3)
    assert ranked[0].id == "a"    # no shared characters at all: meaning alone finds it
    assert ranked[0].explanation.relevance.ranker == "tfidf+semantic"
    assert ranked[0].explanation.relevance.semantic_similarity > 0.9


def test_empty_matcher_returns_nothing():
    assert Matcher().fit([], []).rank_achievements(DemandDoc("q", "锂电池", "")) == []


def test_the_index_gives_back_every_field_a_document_was_indexed_with(tmp_path):
    # The index is the matcher's only copy of its records (a restart maps it and reads no rows back), so each
    # document must come back exactly: unknowns as None, amounts, modes, region and TRL.
    achievements = [
        AchievementDoc("a1", "锂电池隔膜", "湿法工艺", field_code="new_energy", trl=6, region_code="210200",
                       asking_price=1_250_000.5, transfer_modes=frozenset({"transfer", "license"})),
        AchievementDoc("a2", "无信息成果", ""),
        AchievementDoc("a3", "已撤回", "不应出现", status="withdrawn"),
    ]
    demands = [DemandDoc("d1", "降低能耗", "窑炉改造", field_code="energy_saving", min_trl=4, region_code="210000",
                         budget_min=100_000.0, budget_max=300_000.0, cooperation_modes=frozenset({"development"})),
               DemandDoc("d2", "不知道预算", "", budget_max=0.0)]
    matcher = Matcher().fit(achievements, demands)
    assert dict(matcher.achievements) == {d.id: d for d in achievements[:2]}
    assert dict(matcher.demands) == {d.id: d for d in demands}
    changed = AchievementDoc("a2", "新标题", "新内容", trl=3, transfer_modes=frozenset({"licence_exclusive"}))
    matcher.upsert_achievement(changed)
    matcher.upsert_demand(DemandDoc("d1", "撤下", "", status="withdrawn"))
    assert matcher.achievements["a2"] == changed and "a3" not in matcher.achievements
    assert list(matcher.demands) == ["d2"] and len(matcher.demands) == 1
    matcher.achievement_index.save(tmp_path / "achievements")
    loaded = type(matcher.achievement_index).load(tmp_path / "achievements", mmap=True)
    assert dict(IndexedDocs(loaded, AchievementDoc)) == dict(matcher.achievements)


def test_ranking_many_demands_at_once_gives_each_the_same_matches_as_ranking_it_alone():
    # The simulator ranks a month's demands together (one vectorising call, one product for the library statistics);
    # every figure must be the one a demand gets alone. Sealed segments and an unsealed delta both take part.
    import json
    from pathlib import Path

    fixture = json.loads((Path(__file__).parents[1] / "fixtures" / "matching_fixture.json").read_text(encoding="utf-8"))
    docs = [AchievementDoc(a["key"], a["title"], f"{a['summary']}{a['keywords']}", field_code=a["field"])
            for a in fixture["achievements"]]
    matcher = Matcher().fit(docs[:60])
    matcher.achievement_index.delta_limit = 16
    for doc in docs[60:]:
        matcher.upsert_achievement(doc)
    index = matcher.achievement_index
    assert sum(seg.size for seg in index._segments) > 60 and index._delta().shape[0]   # live rows sealed, and a delta
    demands = [DemandDoc(d["key"], d["title"], f"{d['problem']}{d['targets']}") for d in fixture["demands"]]
    demands.append(DemandDoc("none", "", "ΩΩΩ"))   # no known term: no matches either way
    together = matcher.rank_achievements_many(demands, k=5, explain=0)
    assert together == [matcher.rank_achievements(d, k=5, explain=0) for d in demands]
    assert together[-1] == [] and all(together[:-1])


def test_ranking_many_demands_in_forked_processes_gives_the_same_matches_in_the_same_order():
    # The simulator's month of demands is ranked by several processes sharing the index (forked.py); a share ranked
    # out of order, lost or ranked twice would change which achievement each demand's broker claims.
    import functools
    import json
    from pathlib import Path

    from matchmaker.matching import forked

    fixture = json.loads((Path(__file__).parents[1] / "fixtures" / "matching_fixture.json").read_text(encoding="utf-8"))
    matcher = Matcher().fit([AchievementDoc(a["key"], a["title"], f"{a['summary']}{a['keywords']}",
                                            field_code=a["field"]) for a in fixture["achievements"]])
    demands = [DemandDoc(d["key"], d["title"], f"{d['problem']}{d['targets']}") for d in fixture["demands"]]
    rank = functools.partial(matcher.rank_achievements_many, k=5, explain=2)
    alone = rank(demands)
    assert len({tuple(m.id for m in matches) for matches in alone}) > 1   # the order of the results can show
    frozen = gc.get_freeze_count()
    assert list(forked.rank_many(rank, demands, processes=2, min_queries=2)) == alone
    assert gc.isenabled() and gc.get_freeze_count() == frozen   # the process's collector is left as it was
    pids = list(forked.rank_many(lambda shares: [os.getpid() for _ in shares], demands, processes=2, min_queries=2))
    assert os.getpid() not in pids and len(pids) == len(demands)   # ranked in the children, one result per demand
    assert list(forked.rank_many(lambda shares: [os.getpid() for _ in shares], demands, processes=2)) == \
        [os.getpid()] * len(demands)   # too few queries for a fork: ranked here


def test_forked_ranking_hands_out_the_first_results_while_the_last_share_is_still_being_ranked(tmp_path):
    # The simulator makes a month's first claims while the processes rank the demands further on.
    import multiprocessing
    import time

    from matchmaker.matching import forked

    read_first = tmp_path / "read-first"

    def rank(queries):
        if queries[-1] != 63:
            return list(queries)
        deadline = time.monotonic() + 20   # the last share waits until the parent has read the first result
        while not read_first.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return ["ranked after the first was read" if read_first.exists() else "ranked before"] * len(queries)

    results = forked.rank_many(rank, list(range(64)), processes=2, min_queries=2)
    assert next(results) == 0
    read_first.touch()
    rest = list(results)
    assert rest[:31] == list(range(1, 32)) and rest[-1] == "ranked after the first was read" and len(rest) == 63
    early = forked.rank_many(lambda queries: list(queries), list(range(64)), processes=2, min_queries=2)
    assert next(early) == 0 and multiprocessing.active_children()
    early.close()   # read no further: the processes end
    assert not multiprocessing.active_children()


def test_batch_ranking_uses_the_cores_it_may_and_none_inside_a_daemonic_worker():
    import multiprocessing

    from matchmaker.matching import forked

    assert forked.usable_cores(0) == len(os.sched_getaffinity(0)) and forked.usable_cores(3) == 3
    with multiprocessing.get_context("fork").Pool(1) as pool:   # a pool's workers are daemonic, as a sweep's are
        assert pool.apply(forked.usable_cores, (3,)) == 1
