"""The portal's parts without a server: capital numerals, money, time, the message
catalogue, cookie signing, users (scrypt, 0600), the QR link and the Chinese PDF."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ebill_portal import i18n, money, pdf, qr, session
from ebill_portal.users import Store, UserError, check_password, hash_password


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "零元整"),
        (5, "伍分"),
        (50, "伍角整"),
        (1000, "壹拾元整"),
        (10005, "壹佰元零伍分"),
        (16110, "壹佰陆拾壹元壹角整"),
        (101000, "壹仟零壹拾元整"),
        (1000000, "壹万元整"),
        (1000100, "壹万零壹元整"),
        (1010000, "壹万零壹佰元整"),
        (1100000, "壹万壹仟元整"),
        (100001000, "壹佰万零壹拾元整"),
        (10000000000, "壹亿元整"),
        (10000001000, "壹亿零壹拾元整"),
        (123456789012, "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
        (-2500, "负贰拾伍元整"),
    ],
)
def test_capital_numerals(fen: int, text: str) -> None:
    assert money.capital(fen) == text


def test_capital_refuses_an_amount_too_large() -> None:
    with pytest.raises(ValueError, match="amount"):
        money.capital(10**18)


def test_yuan_two_decimals() -> None:
    assert money.yuan(16110) == "161.10"
    assert money.yuan(5) == "0.05"
    assert money.yuan(123456789) == "1,234,567.89"
    assert money.yuan(-2500) == "-25.00"


def test_dates_in_china_time_and_the_catalogue() -> None:
    assert i18n.china_time("2026-01-31T17:30:00Z") == "2026-02-01 01:30"
    assert i18n.china_time("2026-02-01T09:00:00+08:00") == "2026-02-01 09:00"
    assert i18n.translate("zh", "nav.verify") == "票据查验"
    assert i18n.translate("en", "nav.verify") == "Verify a bill"
    assert i18n.language("fr") == "zh"
    assert all(len(pair) == 2 and all(pair) for pair in i18n.MESSAGES.values())


def test_session_cookie_signature() -> None:
    secret = b"s" * 32
    value = session.sign(secret, "abc")
    assert session.unsign(secret, value) == "abc"
    assert session.unsign(b"t" * 32, value) is None
    assert session.unsign(secret, "abd." + value.split(".")[1]) is None
    assert session.unsign(secret, None) is None
    assert session.csrf_ok("token", "token") and not session.csrf_ok("token", "")


def test_users_scrypt_and_a_0600_state_file(tmp_path: Path) -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct" not in stored
    assert check_password("correct horse", stored) and not check_password("wrong", stored)
    store = Store(tmp_path / "portal.sqlite")
    assert stat.S_IMODE((tmp_path / "portal.sqlite").stat().st_mode) == 0o600
    store.add_user(
        "payer1",
        "a long password",
        "payer",
        "finance",
        "ebk_x_y",
        payer_type="person",
        payer_id="1",
    )
    assert store.authenticate("payer1", "a long password") is not None
    assert store.authenticate("payer1", "a wrong password") is None
    assert store.authenticate("nobody", "a long password") is None
    with pytest.raises(UserError, match="username"):
        store.add_user(
            "payer1",
            "a long password",
            "payer",
            "finance",
            "ebk_x_y",
            payer_type="person",
            payer_id="1",
        )
    with pytest.raises(UserError, match="payer_type"):
        store.add_user("payer2", "a long password", "payer", "finance", "ebk_x_y")
    with pytest.raises(UserError, match="password"):
        store.add_user("unit1", "short", "unit", "units", "ebk_x_y", unit_code="HN0101")
    with pytest.raises(UserError, match="unit_code"):
        store.add_user("unit1", "a long password", "unit", "units", "ebk_x_y")
    assert store.secret("cookie") == store.secret("cookie")
    first = store.new_session()
    first.data["salts"] = ["00" * 16]
    store.save_session(first)
    again = store.session(first.id)
    assert again is not None and again.data == first.data
    store.end_session(first.id)
    assert store.session(first.id) is None


def test_qr_link_and_svg() -> None:
    link = qr.verify_link("https://portal.example/", "46010126", "0000000001", "AB12CD")
    assert link == "https://portal.example/verify?c=46010126&n=0000000001&k=AB12CD"
    assert qr.svg(link).startswith("<svg") and qr.png(link).startswith(b"\x89PNG")


def test_the_pdf_embeds_a_cjk_font_and_the_capital_amount() -> None:
    view = {
        "code": "46010126",
        "number": "0000000001",
        "name": "海南省医疗门诊收费票据",
        "check": "AB12CD",
        "date": "2026-02-01 09:00",
        "unitCode": "HN0101",
        "unitName": "海南省人民医院",
        "statusText": "已开具",
        "payerName": "张三",
        "lines": [
            {
                "code": "X1",
                "name": "挂号费",
                "quantity": "1",
                "unit": "次",
                "price": "5.00",
                "amount": "5.00",
            }
        ],
        "total": "161.10",
        "capital": money.capital(16110),
        "txId": "ab" * 32,
        "link": qr.verify_link("https://p", "46010126", "0000000001", "AB12CD"),
    }
    body = pdf.render(view, lambda key: i18n.translate("zh", key), compress=False)
    assert body.startswith(b"%PDF")
    assert b"WenQuanYi" in body
    # text is drawn as glyph ids of the embedded subset; its ToUnicode map names each
    # character drawn: 壹 (U+58F9) of the capital amount, 医 (U+533B) of the unit's name
    assert b"<58F9>" in body.upper() and b"<533B>" in body.upper()


def test_the_users_command_adds_a_user_from_env_never_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ebill_portal.cli import main

    state = tmp_path / "portal.sqlite"
    monkeypatch.setenv("EBILL_PORTAL_PASSWORD", "a long password")
    monkeypatch.setenv("EBILL_PORTAL_KEY", "ebk_clerk_secret")
    argv = ["--state", str(state), "users", "add", "clerk", "--party", "unit", "--org", "units"]
    assert main([*argv, "--unit", "HN0101"]) == 0
    assert main(argv) == 6  # a unit user without its unit: refused naming the field
    assert "unit_code" in capsys.readouterr().err
    assert main(["--state", str(state), "users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "clerk\tunit\tunits\tHN0101" in listed and "ebk_" not in listed
    user = Store(state).authenticate("clerk", "a long password")
    assert user is not None and user.api_key == "ebk_clerk_secret"
