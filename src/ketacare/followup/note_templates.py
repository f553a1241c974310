"""Integration-note templates: the sections a structured note asks for (DAP, BIRP) or free text.

A template only shapes what the therapist writes; the saved note keeps both the sections and
the text they make, so a note reads the same whatever templates exist later.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NoteTemplate:
    """A named note layout and the sections it asks for, in order."""

    id: str
    label: str
    sections: tuple[tuple[str, str], ...]


NOTE_TEMPLATES: dict[str, NoteTemplate] = {
    t.id: t
    for t in (
        NoteTemplate("free", "Free text", ()),
        NoteTemplate(
            "dap",
            "DAP (Data, Assessment, Plan)",
            (("data", "Data"), ("assessment", "Assessment"), ("plan", "Plan")),
        ),
        NoteTemplate(
            "birp",
            "BIRP (Behaviour, Intervention, Response, Plan)",
            (
                ("behaviour", "Behaviour"),
                ("intervention", "Intervention"),
                ("response", "Response"),
                ("plan", "Plan"),
            ),
        ),
    )
}


def note_body(template: NoteTemplate, sections: dict[str, str], free_text: str) -> str:
    """The note's text: each section under its heading, or the free text."""
    if not template.sections:
        return free_text.strip()
    return "\n\n".join(
        f"{label}: {sections.get(key, '').strip()}" for key, label in template.sections
    )
