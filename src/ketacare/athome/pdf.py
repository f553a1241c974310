"""A signed home prescription as a PDF to print (fpdf2; core fonts, no network, no files)."""

from fpdf import FPDF

from ketacare.athome.models import HomePrescription


def _latin1(text: str) -> str:
    # The core fonts cover Latin-1; anything else is shown as '?' rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def prescription_pdf(rx: HomePrescription) -> bytes:
    """The prescription and its telemedicine record, with the prescriber's signature line."""
    pdf = FPDF(format="Letter")
    pdf.set_title("Prescription")
    pdf.set_creator("KetaCare")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(
        0,
        8,
        _latin1(f"{rx.clinic.name}: prescription (Schedule III)"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    rows = [
        ("Patient", f"{rx.patient.display_name} (born {rx.patient.date_of_birth:%Y-%m-%d})"),
        ("Date", f"{rx.issued_on:%Y-%m-%d}"),
        ("Drug", rx.drug),
        ("Strength and form", f"{rx.strength_mg} mg {rx.form}"),
        ("Quantity", f"{rx.quantity} ({rx.quantity} units)"),
        ("Directions", rx.directions),
        ("Refills", str(rx.refills)),
        ("Dispensing pharmacy", rx.pharmacy),
        ("Prescriber", rx.prescriber.display_name()),
        ("DEA registration", f"{rx.dea_registration} ({rx.dea_registration_state})"),
        ("Visit", f"{rx.get_visit_modality_display()}; patient in {rx.patient_state}"),
        ("In-person evaluation", str(rx.in_person_evaluation_on or "none")),
        ("PDMP check", f"{rx.pdmp_checked_on:%Y-%m-%d}: {rx.get_pdmp_result_display()}"),
        ("Legal basis", f"{rx.legal_basis} (rules: {rx.rules_period})"),
    ]  # fmt: skip
    pdf.ln(2)
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(55, 6, _latin1(label), new_x="RIGHT", new_y="TOP")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0, 5,
        _latin1(
            f"Signed electronically {rx.signed_at:%Y-%m-%d %H:%M} UTC; "
            f"content SHA-256 {rx.content_sha256[:16]}..."
        ),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(10)
    pdf.multi_cell(
        0,
        5,
        "Prescriber's signature: ______________________________",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
