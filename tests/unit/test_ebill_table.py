"""Money in yuan and the aligned tables of the ebill console."""

from __future__ import annotations

import pytest

from ebill.money import fen, yuan
from ebill.table import pad, render, render_pairs, width


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "0.00"), (5, "0.05"), (26850, "268.50"), (120000, "1,200.00"), (-120000, "-1,200.00"),
     (10**13, "100,000,000,000.00")],
)  # fmt: skip
def test_yuan(amount: int, text: str) -> None:
    assert yuan(amount) == text


@pytest.mark.parametrize(
    ("text", "amount"), [("161.10", 16110), ("107.4", 10740), ("1,200", 120000), ("0.01", 1)]
)
def test_fen(text: str, amount: int) -> None:
    assert fen(text) == amount


@pytest.mark.parametrize("text", ["1.234", "abc", "", "1e3", "¥12"])
def test_fen_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        fen(text)


def test_width_counts_chinese_as_two_columns() -> None:
    assert width("HN0101") == 6
    assert width("海南省人民医院") == 14
    assert pad("张三", 6) == "张三  "
    assert pad("1.00", 6, right=True) == "  1.00"


def test_render_aligns_columns() -> None:
    text = render(
        ["unit", "name", "amount"],
        [["HN0101", "海南省人民医院", "268.50"], ["HN0201", "一中", "1,200.00"]],
        right=[2],
    )
    lines = text.splitlines()
    assert lines[0] == "unit    name              amount"
    assert lines[1] == "------  --------------  --------"
    assert lines[2] == "HN0101  海南省人民医院    268.50"
    assert lines[3] == "HN0201  一中            1,200.00"
    assert all(width(line) <= width(lines[1]) for line in lines)


def test_render_pairs() -> None:
    assert render_pairs([("bill", "1/2"), ("check code", "PPU3JE")]) == (
        "bill        1/2\ncheck code  PPU3JE"
    )
    assert render_pairs([]) == ""
