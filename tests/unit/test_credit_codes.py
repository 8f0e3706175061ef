"""Unified social credit codes carry a valid GB 32100 check character."""

import random

from matchmaker.world.credit_codes import is_valid_uscc, make_uscc


def test_known_real_code_validates():
    # The published credit code of a real company (Huawei Technologies Co., Ltd.).
    assert is_valid_uscc("914403001922038216")


def test_generated_codes_validate_and_a_changed_character_does_not():
    rng = random.Random(1)
    for _ in range(200):
        code = make_uscc(rng, "210200")
        assert code.startswith("91210200") and is_valid_uscc(code)
        broken = code[:-1] + ("0" if code[-1] != "0" else "1")
        assert not is_valid_uscc(broken)
