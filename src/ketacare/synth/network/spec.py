"""What a synthetic network is built from, and what building it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ketacare.accounts.roles import Role
from ketacare.followup.policy import DAYS_PER_MONTH, DAYS_PER_WEEK, DEFAULT_POLICY
from ketacare.kernel import clock

SYNTH_PASSWORD = "ketacare-synth"  # noqa: S105 - synthetic staff only, printed by the command
TIME_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
STAFF = ((Role.ADMIN, 1), (Role.PRESCRIBER, 3), (Role.NURSE, 6), (Role.THERAPIST, 2))
STAFF_FRONT_DESK = 2
PATIENTS_PER_BATCH = 1000
SLOT_MINUTES = 30
RECENT_SHARE = 0.05
OPENS, CLOSES = 8 * 60, 18 * 60
# Follow-up after a course, from the clinic's questionnaire policy (weekly, then monthly).
FOLLOW_UP_DAYS = tuple(
    [DAYS_PER_WEEK * (k + 1) for k in range(DEFAULT_POLICY.after_course_weekly_count)]
    + [
        DAYS_PER_WEEK * DEFAULT_POLICY.after_course_weekly_count + DAYS_PER_MONTH * (k + 1)
        for k in range(DEFAULT_POLICY.after_course_monthly_count)
    ]
)


@dataclass(frozen=True)
class NetworkSpec:
    """What to build: how many patients over how many clinics, from which seed, up to which day."""

    patients: int
    clinics: int = 5
    seed: int = 16
    today: date = field(default_factory=lambda: clock.now().date())
    history_days: int = 3 * 365
    audit_per_patient: int = 70
    slug_prefix: str = "synth"


@dataclass
class NetworkReport:
    """What was built and how long it took."""

    clinics: list[tuple[str, int]]
    rows: dict[str, int]
    seconds: float
    password: str = SYNTH_PASSWORD
