"""Which questionnaires go out when: clinic policy, with KetaCare's shipped defaults.

None of this is clinical fact. No published consensus fixes how often a ketamine clinic should
send rating scales; these are product defaults a clinic changes on its questionnaire-policy page
(per clinic, or per protocol). The instruments themselves, their scoring and alerts are the
core's (`ketacare.clinical.instruments`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ketacare.clinical.instruments import INSTRUMENT_IDS, get_instrument
from ketacare.clinical.outcomes import load_outcome_rules
from ketacare.clinical.screens import load_screen_schedule

if TYPE_CHECKING:
    from ketacare.outcomes.models import QuestionnairePolicy


@dataclass(frozen=True)
class Policy:
    """A clinic's (or one protocol's) questionnaire schedule."""

    before_session_instruments: tuple[str, ...]
    before_session_lead_hours: int
    during_course_instruments: tuple[str, ...]
    during_course_every_days: int
    after_course_instruments: tuple[str, ...]
    after_course_weekly_count: int
    after_course_monthly_count: int
    window_days: int
    reminder_after_hours: int
    protocol_id: str = ""
    is_default: bool = True


# Clinic policy defaults (product configuration, not clinical fact): PHQ-9 and the C-SSRS
# screener before each session; PHQ-9 and GAD-7 weekly during a course; after a course weekly for
# four weeks, then monthly for six months. A questionnaire stays open three days; one reminder
# after a day.
DEFAULT_POLICY = Policy(
    before_session_instruments=("phq9", "cssrs_screen"),
    before_session_lead_hours=24,
    during_course_instruments=("phq9", "gad7"),
    during_course_every_days=7,
    after_course_instruments=("phq9", "gad7"),
    after_course_weekly_count=4,
    after_course_monthly_count=6,
    window_days=3,
    reminder_after_hours=24,
)

# A month of follow-up, for scheduling only (not a clinical number): 30 days.
DAYS_PER_MONTH = 30
DAYS_PER_WEEK = 7


def portal_instruments() -> tuple[str, ...]:
    """Outcome scales a patient can answer alone, in the instrument's own words.

    The core marks the rest clinician-administered; single in-session ratings (pain) are not
    measurement-based-care scales; and a scale whose official wording the core does not hold
    (QIDS-SR16 keeps item labels only) is never put in front of a patient as labels.
    """
    outcome_scales = set(load_outcome_rules().classifiable)
    return tuple(
        i
        for i in INSTRUMENT_IDS
        if get_instrument(i).respondent == "patient"
        and get_instrument(i).licence.wording_reproduced
        and i in outcome_scales
    )


def portal_screens() -> tuple[str, ...]:
    """Recovery screens on the core's schedule that a patient can answer alone, in the
    instrument's own words (DAST-10 keeps labels only; the withdrawal checklist is the
    clinician's): the portal sends these when their slot opens."""
    scheduled = load_screen_schedule().instrument_ids
    return tuple(
        i
        for i in INSTRUMENT_IDS
        if i in scheduled
        and get_instrument(i).respondent == "patient"
        and get_instrument(i).licence.wording_reproduced
    )


def portal_answerable() -> tuple[str, ...]:
    """Everything a portal link may put in front of a patient: outcome scales and screens."""
    return portal_instruments() + tuple(
        i for i in portal_screens() if i not in portal_instruments()
    )


def delivered_by_portal(instrument_ids: tuple[str, ...]) -> tuple[str, ...]:
    """The instruments of a schedule that the portal sends; the rest are asked in clinic."""
    allowed = set(portal_answerable())
    return tuple(i for i in instrument_ids if i in allowed)


def policy_from_row(row: QuestionnairePolicy) -> Policy:
    """The frozen policy a stored row describes."""
    return Policy(
        before_session_instruments=tuple(row.before_session_instruments),
        before_session_lead_hours=row.before_session_lead_hours,
        during_course_instruments=tuple(row.during_course_instruments),
        during_course_every_days=row.during_course_every_days,
        after_course_instruments=tuple(row.after_course_instruments),
        after_course_weekly_count=row.after_course_weekly_count,
        after_course_monthly_count=row.after_course_monthly_count,
        window_days=row.window_days,
        reminder_after_hours=row.reminder_after_hours,
        protocol_id=row.protocol_id,
        is_default=False,
    )


def resolve_policy(rows: list[QuestionnairePolicy], protocol_id: str) -> Policy:
    """The protocol's own policy if the clinic set one, else the clinic's, else the default."""
    by_protocol = {row.protocol_id: row for row in rows}
    if protocol_id and protocol_id in by_protocol:
        return policy_from_row(by_protocol[protocol_id])
    if "" in by_protocol:
        return replace(policy_from_row(by_protocol[""]), protocol_id="")
    return DEFAULT_POLICY
