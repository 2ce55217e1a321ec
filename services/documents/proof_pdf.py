"""The training proof (学时证明) on A4: who, which certificate and cycle, the courses with their hours,
the assessment result, the totals, the institution and date, and the verification QR code.

A long course list continues on further pages with the table header repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from services.documents import pdf
from services.documents.ecert_pdf import chinese_date, hours_text

PAGE = A4
MARGIN = 20 * mm
QR_SIZE = 32 * mm
ROW = 7.5 * mm
BODY = 11.0
COLUMNS = (("序号", 14 * mm), ("课程名称", 106 * mm), ("类别", 20 * mm), ("学时", 30 * mm))


@dataclass(frozen=True)
class ProofCourse:
    title: str
    kind: str
    hours: float


@dataclass(frozen=True)
class ProofContent:
    holder_name: str
    id_number_masked: str
    certificate_number: str
    position: str
    cycle_year: int
    courses: list[ProofCourse]
    professional_hours: float
    general_hours: float
    general_exempt: bool
    assessment_score: int | None
    institution: str
    issued_on: date
    verify_url: str
    issued_at: datetime

    @property
    def total_hours(self) -> float:
        return self.professional_hours + self.general_hours


def statement(content: ProofContent) -> str:
    year = content.cycle_year
    return (
        f"兹证明 {content.holder_name}（身份证号：{content.id_number_masked}），"
        f"持有{content.position}岗位证书（证书编号：{content.certificate_number}），"
        f"已完成{year}年度培训周期（{year}年1月1日至{year}年12月31日）的继续教育学习，"
        "学时审核与考核均已通过。"
    )


def hours_summary(content: ProofContent) -> str:
    general = "通用课程免学" if content.general_exempt else f"通用课程 {hours_text(content.general_hours)}"
    professional = f"专业课程 {hours_text(content.professional_hours)}"
    return f"{professional}；{general}；合计 {hours_text(content.total_hours)}"


def assessment_line(content: ProofContent) -> str:
    score = f"（{content.assessment_score}分）" if content.assessment_score is not None else ""
    return f"考核结果：合格{score}"


def render_training_proof(content: ProofContent) -> bytes:
    title = f"继续教育学时证明 {content.certificate_number} {content.cycle_year}"
    return pdf.render(
        lambda canvas: _draw(canvas, content), pagesize=PAGE, title=title, created=content.issued_at
    )


def _table_header(canvas: Canvas, y: float) -> float:
    x = MARGIN
    canvas.setFillColorRGB(0.95, 0.92, 0.9)
    canvas.rect(MARGIN, y - 2.2 * mm, sum(width for _, width in COLUMNS), ROW, stroke=0, fill=1)
    for label, width in COLUMNS:
        pdf.text(canvas, x + 2 * mm, y, label, size=10, colour=pdf.ACCENT)
        x += width
    return y - ROW


def _next_page(canvas: Canvas, content: ProofContent) -> float:
    """Start a continuation page headed with whose proof it is; the y to go on writing at."""
    canvas.showPage()
    top = PAGE[1] - MARGIN
    who = f"{content.holder_name}  {content.certificate_number}  {content.cycle_year}年度"
    heading = f"继续教育学时证明（续）  {who}"
    pdf.text(canvas, MARGIN, top, heading, size=9, colour=pdf.ACCENT)
    return top - 10 * mm


def _draw(canvas: Canvas, content: ProofContent) -> None:
    width, height = PAGE
    text_width = width - 2 * MARGIN
    y = height - 30 * mm
    pdf.centred(canvas, width / 2, y, "继续教育学时证明", size=22, bold=True, colour=pdf.ACCENT)
    y -= 16 * mm
    keep = (content.holder_name, content.id_number_masked, content.certificate_number, content.position)
    for line in pdf.wrap(statement(content), BODY, text_width, keep=keep):
        pdf.text(canvas, MARGIN, y, line, size=BODY)
        y -= 6.5 * mm
    y -= 4 * mm
    y = _table_header(canvas, y)
    title_width = COLUMNS[1][1] - 4 * mm
    for number, course in enumerate(content.courses, start=1):
        lines = pdf.wrap(course.title, 10, title_width)
        if y - (len(lines) - 1) * 5 * mm < MARGIN + 10 * mm:
            y = _table_header(canvas, _next_page(canvas, content))
        cells = (str(number), lines[0], course.kind, hours_text(course.hours))
        x = MARGIN
        for (_, column_width), cell in zip(COLUMNS, cells, strict=True):
            pdf.text(canvas, x + 2 * mm, y, cell, size=10)
            x += column_width
        for extra in lines[1:]:
            y -= 5 * mm
            pdf.text(canvas, MARGIN + COLUMNS[0][1] + 2 * mm, y, extra, size=10)
        canvas.setStrokeColorRGB(0.85, 0.85, 0.85)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, y - 2.8 * mm, MARGIN + text_width, y - 2.8 * mm)
        y -= ROW

    closing = [
        hours_summary(content),
        assessment_line(content),
        f"培训机构：{content.institution}",
        f"出具日期：{chinese_date(content.issued_on)}",
    ]
    if y - len(closing) * 8 * mm - QR_SIZE < MARGIN:
        y = _next_page(canvas, content)
    y -= 4 * mm
    for line in closing:
        pdf.text(canvas, MARGIN, y, line, size=BODY)
        y -= 8 * mm
    qr_x, qr_y = width - MARGIN - QR_SIZE, y - QR_SIZE + 8 * mm
    pdf.qr_code(canvas, content.verify_url, qr_x, qr_y, QR_SIZE)
    pdf.centred(canvas, qr_x + QR_SIZE / 2, qr_y - 3 * mm, "扫码核验", size=9)
