"""CSV cells that would start a formula are quoted, numbers are not, and the importer undoes it exactly."""

import re

from hypothesis import given
from hypothesis import strategies as st

from matchmaker.csv_safety import safe_cell, unescape_cell


def test_formula_cells_are_quoted_and_numbers_left_alone():
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("+86 411") == "'+86 411" and safe_cell("@x") == "'@x"
    assert safe_cell("\t=x") == "'\t=x" and safe_cell("-5") == "-5" and safe_cell("+3.2") == "+3.2"
    assert safe_cell("'=x") == "''=x" and safe_cell("'plain") == "'plain" and safe_cell(None) == ""


@given(st.text(alphabet=st.sampled_from("=+-@'\t\r0123456789.eE 标题"), max_size=12))
def test_unescaping_is_the_exact_inverse(text):
    cell = safe_cell(text)
    assert unescape_cell(cell) == text
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or re.fullmatch(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?", cell)
