"""The relapse-prevention plan as a printable PDF (fpdf2; core fonts, no network)."""

from fpdf import FPDF

from ketacare.patients.models import Patient
from ketacare.recovery.models import RecoveryPlanVersion

PARTS = (
    ("triggers", "My triggers"),
    ("warning_signs", "My warning signs"),
    ("coping", "What I do to cope"),
    ("people", "People and groups I can call"),
    ("crisis_contacts", "Crisis contacts"),
    ("habits", "Sleep, exercise and food"),
    ("reasons", "My reasons for recovery"),
)


def _latin1(text: str) -> str:
    # The core fonts cover Latin-1; anything else prints as '?' rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def plan_pdf(patient: Patient, version: RecoveryPlanVersion) -> bytes:
    """One version of the plan, part by part, with who wrote it and when."""
    pdf = FPDF(format="Letter")
    pdf.set_title("Relapse-prevention plan")
    pdf.set_creator("KetaCare")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(
        0,
        8,
        _latin1(f"Relapse-prevention plan: {patient.display_name}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 9)
    who = "the patient" if version.written_by_patient else "the care team with the patient"
    pdf.multi_cell(
        0,
        5,
        _latin1(f"Version {version.number}, written by {who} on {version.written_at:%Y-%m-%d}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for field, label in PARTS:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin1(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        body = getattr(version, field) or "(not written yet)"
        pdf.multi_cell(0, 5, _latin1(body), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
