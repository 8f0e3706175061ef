"""Pieces of the request patterns that mean the same to both readers of a pattern.

The spec's patterns are read as ECMAScript regular expressions (JSON Schema) by clients and test generators, and
as Python's `re` by msgspec, which enforces them. Their shorthands differ: Python's `\\s` also holds \\x1c–\\x1f
and \\x85 but not \\ufeff, its `\\d` holds every script's digits, its `.` matches \\r, \\u2028 and \\u2029. A pattern
built from these pieces accepts the same strings in both (schemathesis found e-mail addresses, ids and
registration numbers with \\x1c–\\x1f that the spec allowed and the API refused). Python's `$` also matches
before a final newline: `END` ends a pattern at the true end for both (`?region=210000%0A` filtered on a region
no record has, `?format=csv%0A` got a workbook).
"""

SPACE = r"\s\x1c-\x1f\x85\ufeff"             # inside a class: whitespace, by either reader's definition
NOT_SPACE = rf"[^{SPACE}]"
LINE_CHAR = r"[^\n\r\u2028\u2029]"            # what `.` means to ECMAScript
VISIBLE = rf"[^{SPACE}\u200b-\u200f\u2060-\u2064]"   # a visible character (no zero-width or BOM either)
END = r"$(?![\s\S])"                       # the end of the string, not before a final newline
EMAIL = rf"^[^@{SPACE}]+@[^@{SPACE}]+\.[^@{SPACE}]+{END}"
REGION_CODE = r"^[0-9]{6}" + END                     # GB/T 2260
YUAN = r"^[0-9]{1,14}(\.[0-9]{1,2})?" + END           # a decimal string of yuan, at most two decimals
