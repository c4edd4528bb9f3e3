"""The bill as a PDF (fpdf2: pure Python, embeds a subset of a CJK TrueType font).

The font is Debian's WenQuanYi Micro Hei (``fonts-wqy-microhei``, installed by the
Makefile when missing) or any TTF/TTC given in the settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

from . import qr

FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


class FontMissing(RuntimeError):
    """No CJK font: install fonts-wqy-microhei (``make portal`` does)."""


def cjk_font(chosen: Path | None = None) -> Path:
    """The CJK font file to embed. Raises FontMissing."""
    for path in (chosen, *FONTS):
        if path is not None and path.is_file():
            return path
    raise FontMissing("no CJK font: apt-get install fonts-wqy-microhei")


def render(
    view: dict[str, Any], t: Any, font: Path | None = None, *, compress: bool = True
) -> bytes:
    """The PDF of a bill ``view`` (as the bill page renders it), labels from ``t``;
    A5 landscape. Raises FontMissing."""
    pdf = FPDF(format=(148, 210), orientation="landscape")
    pdf.set_compression(compress)
    pdf.set_title(f"{view['code']}-{view['number']}")
    pdf.add_font("cjk", fname=str(cjk_font(font)))
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, view["name"] or t("bill.title"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    head = [
        (t("bill.code"), view["code"]),
        (t("bill.number"), view["number"]),
        (t("bill.check"), view["check"] or t("bill.check.none")),
        (t("bill.date"), view["date"]),
        (t("bill.unit"), f"{view['unitName']} ({view['unitCode']})"),
        (t("bill.status"), view["statusText"]),
    ]
    if view.get("payerName"):
        head.append((t("bill.payer"), view["payerName"]))
    top = pdf.get_y()
    for label, value in head:
        pdf.cell(30, 6, label)
        pdf.cell(0, 6, str(value), new_x="LMARGIN", new_y="NEXT")
    if view.get("link"):
        pdf.image(qr.png(view["link"]), x=pdf.w - pdf.r_margin - 30, y=top, w=30, h=30)
    pdf.ln(2)
    if view.get("lines"):
        widths = (24, 60, 16, 16, 26, 30)
        labels = (
            "bill.item.code",
            "bill.item.name",
            "bill.item.qty",
            "bill.item.unit",
            "bill.item.price",
            "bill.item.amount",
        )
        for width, label in zip(widths, labels, strict=True):
            pdf.cell(width, 6, t(label), border=1)
        pdf.ln()
        for item in view["lines"]:
            cells = [item[k] for k in ("code", "name", "quantity", "unit", "price", "amount")]
            for width, value in zip(widths, cells, strict=True):
                pdf.cell(width, 6, str(value), border=1)
            pdf.ln()
    else:
        pdf.cell(0, 6, t("bill.items.none"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=11)
    pdf.cell(30, 7, t("bill.total"))
    pdf.cell(0, 7, f"¥ {view['total']}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(30, 7, t("bill.total.capital"))
    pdf.cell(0, 7, view["capital"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=7)
    pdf.cell(0, 6, f"{t('bill.tx')}: {view['txId']}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
