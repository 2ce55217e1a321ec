"""The e-certificate (电子培训合格证) in its one unified layout, on an A5 landscape page.

Photo on the left, the holder's particulars in the middle, the verification QR code on the right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from services.documents import pdf

PAGE = landscape(A5)
PHOTO_BOX = (25 * mm * 1.3, 35 * mm * 1.3)
QR_SIZE = 34 * mm


@dataclass(frozen=True)
class YearlyHours:
    cycle_year: int
    hours: float


@dataclass(frozen=True)
class ECertificateContent:
    """Everything the page shows; built from one stored e-certificate version."""

    holder_name: str
    id_number_masked: str
    certificate_number: str
    position: str
    category: str
    institution: str
    issued_on: date
    yearly_hours: list[YearlyHours]
    version: int
    verify_url: str
    photo: bytes
    issued_at: datetime


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def hours_text(hours: float) -> str:
    return f"{hours:g}学时"


def yearly_hours_line(records: list[YearlyHours]) -> str:
    if not records:
        return "暂无记录"
    return "；".join(f"{record.cycle_year}年度 {hours_text(record.hours)}" for record in records)


def field_rows(content: ECertificateContent) -> list[tuple[str, str]]:
    return [
        ("姓　　名", content.holder_name),
        ("身份证号", content.id_number_masked),
        ("证书编号", content.certificate_number),
        ("岗位名称", content.position),
        ("人员类别", content.category),
        ("培训机构", content.institution),
        ("发证日期", chinese_date(content.issued_on)),
        ("继续教育", yearly_hours_line(content.yearly_hours)),
    ]


def render_e_certificate(content: ECertificateContent) -> bytes:
    title = f"电子培训合格证 {content.certificate_number}"
    return pdf.render(
        lambda canvas: _draw(canvas, content), pagesize=PAGE, title=title, created=content.issued_at
    )


def _draw(canvas: Canvas, content: ECertificateContent) -> None:
    width, height = PAGE
    canvas.setStrokeColor(pdf.ACCENT)
    canvas.setLineWidth(2.5)
    canvas.rect(8 * mm, 8 * mm, width - 16 * mm, height - 16 * mm)
    canvas.setLineWidth(0.6)
    canvas.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)

    pdf.centred(canvas, width / 2, height - 24 * mm, "住房和城乡建设行业从业人员", size=12)
    pdf.centred(canvas, width / 2, height - 36 * mm, "电子培训合格证", size=24, bold=True, colour=pdf.ACCENT)

    photo_width, photo_height = PHOTO_BOX
    photo_x, photo_top = 18 * mm, height - 48 * mm
    pdf.photo(canvas, content.photo, photo_x, photo_top - photo_height, photo_width, photo_height)

    label_x = photo_x + photo_width + 8 * mm
    value_x = label_x + 22 * mm
    value_width = width - 18 * mm - QR_SIZE - 6 * mm - value_x
    y = photo_top - 4 * mm
    for label, value in field_rows(content):
        pdf.text(canvas, label_x, y, label, size=11, colour=pdf.ACCENT)
        for line in pdf.wrap(value, 11.5, value_width):
            pdf.text(canvas, value_x, y, line, size=11.5)
            y -= 5.8 * mm
        y -= 1.9 * mm

    qr_x, qr_y = width - 18 * mm - QR_SIZE, photo_top - QR_SIZE - 4 * mm
    pdf.qr_code(canvas, content.verify_url, qr_x, qr_y, QR_SIZE)
    pdf.centred(canvas, qr_x + QR_SIZE / 2, qr_y - 3 * mm, "扫码核验", size=9)
    pdf.centred(canvas, qr_x + QR_SIZE / 2, qr_y - 8 * mm, f"第{content.version}版", size=8)

    pdf.centred(
        canvas,
        width / 2,
        15 * mm,
        "扫描二维码可在线核验本证书的真伪和当前状态",
        size=8.5,
    )
