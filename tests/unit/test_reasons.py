"""The words a refused value gets, shared by the API's problem details and the pages' form messages."""

from __future__ import annotations

import re
import sqlite3
from types import SimpleNamespace

import msgspec
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from matchmaker.api import problems
from matchmaker.reasons import FIELD_FALLBACK, FORM_FALLBACK, translate

CJK = r"[\u4e00-\u9fff]"


def test_framework_reasons_are_said_in_chinese_with_their_numbers():
    assert translate("limit", "Expected `int`, got `str`") == "请填写整数"
    assert translate("limit", "Expected `int` <= 200") == "不能大于 200"
    assert translate("title", "Expected `str` of length <= 300") == "不能超过 300 个字"
    assert translate("title", "Expected `str` of length >= 1") == "必填"
    assert translate("deadline", "Invalid RFC3339 encoded date") == "请按 年-月-日 填写日期，例如 2026-12-31"
    assert translate("body", "Object missing required field `title`") == "缺少必填项 title，请补上后重新发送"
    assert translate("", "Missing required query parameter 'region' for path /x") == "缺少必填参数 region，请补上后重新发送"


def test_a_chinese_reason_passes_as_written_and_an_unknown_one_gets_a_chinese_sentence():
    assert translate("region", "“999999”不是有效的行政区划代码（GB/T 2260）") == "“999999”不是有效的行政区划代码（GB/T 2260）"
    assert translate("title", "Something nobody foresaw") == FIELD_FALLBACK
    assert translate("", "Validation failed for GET /x") == FORM_FALLBACK
    for words in (FIELD_FALLBACK, FORM_FALLBACK):
        assert "请" in words and not any(c.isascii() and c.isalpha() for c in words)


def _answer(handler, error) -> dict:
    request = SimpleNamespace(url=SimpleNamespace(path="/demands"))
    response = handler(request, error)
    return {"status": response.status_code, **msgspec.json.decode(msgspec.json.encode(response.content))}


def test_the_database_refusals_are_chinese_with_their_statuses_kept():
    answers = [_answer(problems.on_integrity_error, IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE"))),
               _answer(problems.on_data_error, DataError("INSERT", {}, sqlite3.DataError("NUL"))),
               _answer(problems.on_operational_error, OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))),
               _answer(problems.on_unexpected_error, RuntimeError("boom"))]
    assert [(a["status"], a["title"]) for a in answers] == [(409, "状态已变化"), (400, "请求有误"), (503, "服务暂时繁忙"),
                                                             (500, "系统出错了")]
    for answer in answers:
        assert answer["type"] == "about:blank" and "请" in answer["detail"]
        assert re.search(CJK, answer["detail"]) and not re.findall(r"[a-z]{3,}", answer["detail"])
