"""Shared terms in words people read: the segmenter plus the domain dictionary, never single characters or digits.

Character n-grams do the scoring; an explanation regroups their contributions under the words both postings
use, so a firm sees 「激光清洗」 and 「锂电池」 instead of 「池」「电」「92」.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable

from matchmaker.matching.text import load_field_terms, normalise, words

# Words too general to explain a match in this domain (they appear in most postings of every field).
STOP_WORDS = frozenset("""
技术 方法 研究 应用 一种 开发 基于 进行 提高 提升 实现 相关 以及 及其 具有 通过 采用 关键 关键技术 工艺 系统 装置 设备
产品 项目 企业 公司 我们 需要 需求 问题 解决 目前 现有 主要 能够 可以 要求 达到 研发 合作 成果 目标 指标 方面 领域
国内 国际 行业 生产 使用 一个 其中 以上 以下 左右 万元 我司 本公司 我公司 情况 条件 基础 效果 性能 质量 水平
""".split())

_HAN = re.compile(r"[\u4e00-\u9fff]")
_DIGITS = re.compile(r"^[\d.,%]+$")


@functools.lru_cache(maxsize=1)
def domain_terms() -> tuple[str, ...]:
    """The vocabulary of seeds/fields/*.toml (materials, processes, devices, …), added to jieba's dictionary."""
    from matchmaker.seeds import seeds_dir

    try:
        paths = sorted(str(p) for p in (seeds_dir() / "fields").glob("*.toml"))
    except OSError:
        return ()
    return tuple(t for t in load_field_terms(paths) if len(t) >= 2)


def readable(word: str) -> bool:
    """A word worth showing: two characters or more, not a stop word, not a bare number."""
    if len(word) < 2 or word in STOP_WORDS or _DIGITS.match(word):
        return False
    return bool(_HAN.search(word)) or word.isalnum()


@functools.lru_cache(maxsize=50_000)
def segment(text: str) -> frozenset[str]:
    """Readable words of a text (jieba search mode, so 锂电池 also yields 电池); cached, as the same postings are
    explained again and again."""
    return frozenset(w for w in words(normalise(text), mode="search", user_terms=domain_terms()) if readable(w))


def shared_words(query_words: frozenset[str], doc_text: str, gram_weights: Iterable[tuple[str, float]],
                 top: int = 8) -> list[tuple[str, float]]:
    """Words of the query (`segment` of its text) the document contains too, each weighted by the n-gram
    contributions it covers (a gram counts once, for the longest word holding it), best first.

    The document is searched, not segmented: a query word inside a longer word of the document (电池 in 锂电池)
    is shared too, and it costs a substring test instead of a jieba pass per document.
    """
    text = normalise(doc_text)
    common = {w for w in query_words if w in text}
    if not common:
        return []
    remaining = dict(gram_weights)
    found = []
    for word in sorted(common, key=lambda w: (-len(w), w)):
        grams = {word[i:i + n] for n in (1, 2) for i in range(len(word) - n + 1)}
        weight = sum(remaining.pop(g, 0.0) for g in grams)
        if weight > 0:
            found.append((word, weight))
    found.sort(key=lambda item: (-item[1], item[0]))
    return found[:top]
