"""The signed Patient Monitoring Form as a PDF (fpdf2; core fonts, no network, no files)."""

from typing import Any

from fpdf import FPDF

from ketacare.clinical.rems import pmf_definition
from ketacare.rems.models import MonitoringForm


def _text(value: Any) -> str:
    if value is None or value == "":
        return "not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "None"
    return str(value)


def _latin1(text: str) -> str:
    # The core fonts cover Latin-1; anything else is shown as '?' rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def monitoring_form_pdf(form: MonitoringForm) -> bytes:
    """The form's answers under its definition's labels, with signature and submission."""
    definition = pmf_definition(form.definition_version)
    pdf = FPDF(format="Letter")
    pdf.set_title(definition.title)
    pdf.set_creator("KetaCare")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(definition.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        _latin1(
            f"Form version {definition.version} - session of {form.session_day:%Y-%m-%d} - "
            f"due {form.due_on:%Y-%m-%d} (7 calendar days)"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    for field in definition.fields:
        pdf.set_font("Helvetica", "B", 9)
        pdf.multi_cell(80, 5, _latin1(field.label), new_x="RIGHT", new_y="TOP")
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(
            0, 5, _latin1(_text(form.answers.get(field.id))), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(1)
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    signed = (
        f"Reviewed and signed by {form.signed_by.display_name()} on "
        f"{form.signed_at:%Y-%m-%d %H:%M} UTC"
        f" (content SHA-256 {form.content_hash[:16]}...)"
        if form.signed_by and form.signed_at
        else "Not signed."
    )
    pdf.multi_cell(0, 5, _latin1(signed), new_x="LMARGIN", new_y="NEXT")
    if form.submitted_on:
        pdf.multi_cell(
            0,
            5,
            _latin1(
                f"Submitted {form.submitted_on:%Y-%m-%d} by {form.get_method_display()}, "
                f"confirmation {form.confirmation_number}"
                + (f"; late: {form.late_reason}" if form.late_reason else "")
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())
