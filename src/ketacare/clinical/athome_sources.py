"""The at-home programme's and telehealth prescribing rules, as sections of the sources document."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ketacare.clinical.athome import load_home_rules
from ketacare.clinical.telehealth import load_telehealth_rules

Table = Callable[[Sequence[str], Iterable[Sequence[object]]], list[str]]


def telehealth_section(table: Table) -> list[str]:
    """Prescribing after a telemedicine visit: effective-dated periods, bases, the PDMP rule."""
    rules = load_telehealth_rules()
    periods = [
        (p.id, p.starts.isoformat(), p.ends.isoformat() if p.ends else "open",
         ", ".join(p.bases), "yes" if p.configurable else "no", p.citation.render())
        for p in rules.periods
    ]  # fmt: skip
    bases = [
        (b.id, b.label, ", ".join(b.modalities), "yes" if b.needs_in_person_evaluation else "no",
         b.citation.render())
        for b in rules.bases.values()
    ]  # fmt: skip
    pdmp = rules.pdmp
    return [
        "## Telemedicine prescribing (data/telehealth.toml)",
        "",
        *table(("period", "from", "until", "legal bases", "clinic may change", "source"), periods),
        *table(("legal basis", "label", "modalities", "in-person evaluation", "source"), bases),
        f"PDMP check required: {'yes' if pdmp.required else 'no'}; results "
        f"{', '.join(pdmp.results)}; findings need the prescriber's review: "
        f"{'yes' if pdmp.findings_need_review else 'no'} ({pdmp.citation.render()}).",
        "",
    ]


def athome_section(table: Table) -> list[str]:
    """The at-home safety loop: the dose gate, refills and the tracker's red flags."""
    rules = load_home_rules()
    gate = rules.gate
    flags = [
        (f.code, f.item, f"≥ {f.at_least}" if f.at_least is not None else f"≤ {f.at_most}",
         f.urgency, f.citation.render())
        for f in rules.red_flags
    ]  # fmt: skip
    return [
        "## At-home programme (data/athome.toml)",
        "",
        *table(
            ("rule", "value", "source"),
            [
                (
                    "sitter attests before each dose",
                    "yes" if gate.sitter_required else "no",
                    gate.citation.render(),
                ),
                (
                    "no dose above BP",
                    f"{gate.max_systolic}/{gate.max_diastolic}",
                    gate.citation.render(),
                ),
                ("no dose above heart rate", gate.max_heart_rate, gate.citation.render()),
                ("refill after doses", rules.refill_min_doses, rules.refill_citation.render()),
                (
                    "refill after a review from day",
                    rules.refill_review_after_days,
                    rules.refill_citation.render(),
                ),
            ],
        ),  # fmt: skip
        *table(("red flag", "tracker item", "answer", "urgency", "source"), flags),
    ]
