"""Valid unified social credit codes (统一社会信用代码, GB 32100-2015) for synthetic firms."""

from __future__ import annotations

import random

_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _organisation_code(body: str) -> str:
    """GB 11714 organisation code: eight characters and a check character."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def uscc_check_character(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    if len(code) != 18 or any(c not in _USCC_ALPHABET for c in code):
        return False
    return uscc_check_character(code[:17]) == code[17]


def make_uscc(rng: random.Random, region_code: str) -> str:
    """'9' (registered by market regulation) + '1' (enterprise) + region + organisation code + check."""
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    first17 = "91" + region_code + _organisation_code(body)
    if any(c not in _USCC_ALPHABET for c in first17):  # an 'X' check digit is fine, other letters too
        return make_uscc(rng, region_code)
    return first17 + uscc_check_character(first17)
