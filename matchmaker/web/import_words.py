"""The importer's reasons (written for the command line and the API) as Chinese sentences for the pages and the
.xlsx report a person downloads. Patterns on the English reason; the first that matches wins."""

from __future__ import annotations

import re

WORDS: list[tuple[str, str]] = [
    (r"required column missing from the header", "表头缺少这一必填列，请按导出模板补上"),
    (r"column appears twice in the header", "表头中这一列出现了两次，请删去一列"),
    (r"unknown column \(did you mean '([^']+)'\?\)", "表头中有无法识别的列，是否应为“{0}”？"),
    (r"unknown column", "表头中有无法识别的列，请按导出模板的列名填写"),
    (r"not UTF-8 or GBK text", "文件编码无法识别，请在 Excel 或 WPS 中另存为 UTF-8 的 CSV 或 .xlsx"),
    (r"not a readable \.xlsx workbook", "不是有效的 .xlsx 文件，请在 Excel 或 WPS 中另存为 .xlsx 后再上传"),
    (r"expected (\d+) columns", "这一行的列数与表头（{0} 列）不一致"),
    (r"must be a date written YYYY-MM-DD, got (.*)", "日期应写成 年-月-日（例如 2026-12-31），现为 {0}"),
    (r"must be an amount of yuan \(a number\), got (.*)", "金额应为数字（单位：元），现为 {0}"),
    (r"must be a whole number, got (.*)", "应为整数，现为 {0}"),
    (r"must be true or false, got (.*)", "应为 是/否（true 或 false），现为 {0}"),
    (r"must be between (\d+) and (\d+), got (.*)", "应在 {0} 到 {1} 之间，现为 {2}"),
    (r"must be at least (\d+) characters", "至少 {0} 个字"),
    (r"must be at most (\d+) characters", "不能超过 {0} 个字"),
    (r"must be at least ([\d.]+), got (.*)", "不能小于 {0}，现为 {1}"),
    (r"must be at most ([\d.]+), got (.*)", "不能大于 {0}，现为 {1}"),
    (r"must not be negative", "金额不能为负数"),
    (r"two decimal places", "金额最多保留两位小数（精确到分）"),
    (r"greater than budget_max", "预算下限不能高于预算上限"),
    (r"only a challenge", "只有揭榜挂帅需求才能填写悬赏金额"),
    (r"is before posted_on", "有效期不能早于发布日期"),
    (r"unknown value .*\(allowed: (.*)\)", "取值无法识别，可填：{0}"),
    (r"must be one of (.*), got", "取值无法识别，可填：{0}"),
    (r"is not a known technology field code", "技术领域代码不存在，请按平台的技术领域代码填写"),
    (r"is not a known GB/T 2260 code", "地区代码不存在，请填写 6 位行政区划代码（例如大连市 210200）"),
    (r"appears twice in this file \(first on line (\d+)\)", "与第 {0} 行重复"),
    (r"already belongs to another organisation", "该统一社会信用代码已属于另一家单位"),
    (r"already exists", "该编号在平台上已存在"),
    (r"'(.*)' not found", "找不到编号为 {0} 的单位，请先导入该单位或改正编号"),
    (r"you may import only your own organisation", "只能导入本单位的信息，请删去或改正所属单位编号"),
    (r"postings go through review", "导入的信息需要审核：状态请留空，或填 draft（草稿）/ pending_review（待审核）"),
    (r"the body holds no records", "文件中没有数据行"),
    (r"stopped after (\d+) problems", "问题超过 {0} 条，已停止检查；请先改正这些问题再上传"),
    (r"database refused", "数据库拒绝写入这批数据，请稍后重试或联系平台管理员"),
]


def in_chinese(reason: str) -> str:
    for pattern, words in WORDS:
        found = re.search(pattern, reason)
        if found:
            return words.format(*found.groups())
    return "这一格的内容不符合要求，请对照导出模板修改"
