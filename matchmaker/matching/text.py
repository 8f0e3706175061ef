"""Chinese-aware text analysis: normalisation, boilerplate stripping, character n-grams, jieba words, field terms."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

# Texts longer than this are cut before analysis: a demand's signal sits in its
# first paragraphs, and jieba on megabytes of text would stall a request.
MAX_CHARS = 20_000

_HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_NON_TEXT = re.compile(r"[^\w]+", re.UNICODE)
# One match per break character (the same class as _NON_TEXT): the vectorised counter blanks breaks with it.
NON_TEXT_CHAR = re.compile(r"[^\w]", re.UNICODE)

# Section labels firms paste into demand forms; they carry no topic.
BOILERPLATE_LABELS = (
    "需求内容", "需求描述", "需求简介", "需求背景", "需求概述", "项目简介", "预期目标", "预期效果",
    "现有工作基础", "现有基础", "工作基础", "拟解决的技术难题", "拟解决的技术问题", "拟解决的关键技术",
    "主要技术指标", "技术指标", "技术难题", "解决方案", "合作方式", "其他说明",
)
# Sentences containing these describe the company or the deal, not the technology.
SELF_INTRODUCTION_MARKERS = (
    "公司成立于", "成立于", "注册资本", "拟出资", "万元", "有限公司是", "有限公司成立", "公司位于",
    "公司坐落", "占地面积", "员工", "职工", "年产值", "年销售", "销售收入", "营业收入", "高新技术企业",
    "合作伙伴", "研究成果归", "知识产权归", "共同拥有", "寻求", "联系人", "联系电话",
)
_SENTENCE_SPLIT = re.compile(r"(?<=[。！？；;!?\n])")
_LABEL_RE = re.compile("|".join(map(re.escape, sorted(BOILERPLATE_LABELS, key=len, reverse=True))) + r"\s*[:：]?")


def normalise(text: str | None) -> str:
    """NFKC (full-width → half-width), lower-case, cut to MAX_CHARS."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", str(text)[:MAX_CHARS]).lower()


def strip_boilerplate(text: str) -> str:
    """Drop form labels and company self-introduction / deal sentences from a demand text."""
    if not text:
        return ""
    kept = [s for s in _SENTENCE_SPLIT.split(text) if s and not any(m in s for m in SELF_INTRODUCTION_MARKERS)]
    return _LABEL_RE.sub(" ", "".join(kept))


def char_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams inside runs of letters/digits/Han (no grams across punctuation)."""
    lo, hi = ngram_range
    grams: list[str] = []
    for run in _NON_TEXT.split(text):
        if not run:
            continue
        for n in range(lo, hi + 1):
            grams.extend(run[i:i + n] for i in range(len(run) - n + 1))
    return grams


_JIEBA = None
_JIEBA_DICT_KEY: tuple = ()


def _jieba(user_terms: tuple[str, ...] = ()):
    """Lazily initialised jieba tokenizer, with the domain dictionary added once."""
    global _JIEBA, _JIEBA_DICT_KEY
    if _JIEBA is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        _JIEBA = jieba.Tokenizer()
    if user_terms and user_terms != _JIEBA_DICT_KEY:
        for term in user_terms:
            _JIEBA.add_word(term, freq=None)
        _JIEBA_DICT_KEY = user_terms
    return _JIEBA


def words(text: str, *, mode: str = "search", han_only: bool = False, user_terms: tuple[str, ...] = ()) -> list[str]:
    """jieba words; han_only keeps only tokens of ≥2 Han characters (the contest's achievement filter)."""
    if not text:
        return []
    tk = _jieba(user_terms)
    toks = tk.cut_for_search(text) if mode == "search" else tk.cut(text)
    out = []
    for t in toks:
        t = t.strip()
        if not t or not any(c.isalnum() for c in t):
            continue
        if han_only and not _HAN_WORD.match(t):
            continue
        out.append(t)
    return out


def filter_like_achievements(text: str, user_terms: tuple[str, ...] = ()) -> str:
    """Re-join the ≥2-Han-char jieba tokens, as the ccf achievement titles were built."""
    return "".join(words(text, mode="precise", han_only=True, user_terms=user_terms))


def load_field_terms(paths: Iterable[str]) -> tuple[str, ...]:
    """Terms from seeds/fields/*.toml [terms] lists (missing/invalid files are skipped)."""
    import tomllib

    terms: set[str] = set()
    for p in paths:
        try:
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            continue
        block = data.get("terms", {})
        values = block.values() if isinstance(block, dict) else [block]
        for v in values:
            if isinstance(v, list):   # lists of strings; `subjects` (tables) repeat list terms and are skipped
                terms.update(x.strip() for x in v if isinstance(x, str) and x.strip())
    return tuple(sorted(terms))
