"""Money as printed on a bill: yuan with two decimals, and in Chinese capital numerals.

Amounts arrive in integer fen (the contract never uses floats).
"""

from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")
MAX_FEN = 10**18


def yuan(fen: int) -> str:
    """``16110`` -> ``"161.10"``; thousands separated by commas; negative with a minus."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _group(value: int) -> str:
    """One group of up to four digits, zeros inside collapsed to one 零."""
    text, zero = "", False
    for place in (3, 2, 1, 0):
        digit = value // 10**place % 10
        if digit == 0:
            zero = bool(text)
        else:
            if zero:
                text += "零"
                zero = False
            text += DIGITS[digit] + PLACES[place]
    return text


def _integer(value: int) -> str:
    groups = []
    while value:
        value, rest = divmod(value, 10000)
        groups.append(rest)
    text, pending = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            pending = bool(text)
            continue
        if text and (pending or group < 1000):
            text += "零"
        text += _group(group) + GROUPS[index]
        pending = False
    return text


def capital(fen: int) -> str:
    """The amount in Chinese capital numerals (大写), e.g. ``16110`` -> ``壹佰陆拾壹元壹角整``.

    Raises ValueError for amounts of 10^16 yuan or more.
    """
    if abs(fen) >= MAX_FEN:
        raise ValueError("amount: must be below 10^16 yuan")
    if fen < 0:
        return "负" + capital(-fen)
    if fen == 0:
        return "零元整"
    whole, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    text = _integer(whole)
    if text:
        text += "元"
    if jiao == 0 and cents == 0:
        return text + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif text:
        text += "零"
    return text + (DIGITS[cents] + "分" if cents else "整")
