"""Substance-use programme outcomes from a use calendar, and 42 CFR Part 2 disclosure rules.

The calendar is Timeline Followback style (Sobell 1992): a day is marked used (with an amount)
or abstinent; a day nobody marked is unknown, never counted as abstinent. Relapse at 3 and 6
months is a policy default (misuse.toml [programme]). Part 2: one consent may cover treatment,
payment and health care operations; any other disclosure needs a consent of its own naming that
purpose [42 CFR Part 2, 89 FR 12472; reference §8].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from ketacare.clinical.errors import InvalidInput
from ketacare.clinical.misuse import load_misuse_rules

# Disclosure purposes. TPO ones may share one consent (42 CFR 2.31 as amended 2024).
TREATMENT = "treatment"
PAYMENT = "payment"
OPERATIONS = "operations"
TPO = frozenset({TREATMENT, PAYMENT, OPERATIONS})
RESEARCH = "research"
PATIENT_REQUEST = "patient_request"
OTHER = "other"
PURPOSES = (TREATMENT, PAYMENT, OPERATIONS, RESEARCH, PATIENT_REQUEST, OTHER)

# The notice that must accompany each disclosure made with the patient's written consent,
# 42 CFR 2.32(a) as amended by the 2024 final rule (89 FR 12472, 16 Feb 2024; compliance date
# 16 Feb 2026): Statement 2, the abbreviated form, is REDISCLOSURE_NOTICE (the 2018 text read
# "prohibits unauthorized disclosure"; the 2024 rule added "use or"); Statement 1, the full
# form, is REDISCLOSURE_NOTICE_FULL. Checked: Statement 1 up to "unless at least one of the
# following applies:" matches the 2024 text word for word (compliancecosmos.org, "§ 2.32 Notice
# and copy of consent to accompany disclosure"), and it is the 2024 wording, not the superseded
# 2018/2020 one (eCFR as of 29 Sep 2020; law.cornell.edu/cfr/text/42/2.32). Open: the three
# conditions that follow, the closing sentence and Statement 2 could not be re-read from a
# source at hand; confirm them against 89 FR 12472 (§ 2.32) before relying on them verbatim.
# 2.32(b) also asks for a copy of the consent or a clear explanation of its scope with each
# disclosure: `consent_scope`.
REDISCLOSURE_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
REDISCLOSURE_NOTICE_FULL = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony "
    "that describes the information contained in this record, in any civil, criminal, "
    "administrative, or legislative proceedings by any Federal, State, or local authority, "
    "against the patient, unless authorized by the consent of the patient, except as provided at "
    "42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In "
    "addition, the Federal rules prohibit you from making any other use or disclosure of this "
    "record unless at least one of the following applies: further use or disclosure is expressly "
    "permitted by the written consent of the individual whose information is being disclosed in "
    "this record or as otherwise permitted by 42 CFR part 2; you are a covered entity or business "
    "associate and have received the record for treatment, payment, or health care operations; "
    "or you have received the record from a covered entity or business associate as permitted "
    "by 45 CFR part 164, subparts A and E. A general authorization for the release of medical or "
    "other information is NOT sufficient to meet the required elements of written consent to "
    "further use or redisclose the record (see 42 CFR 2.31)."
)


@dataclass(frozen=True)
class UseDay:
    """One calendar day: used or not, and the amount (free text, as the patient says it)."""

    day: date
    used: bool
    amount: str = ""


@dataclass(frozen=True)
class ProgrammeOutcomes:
    """A programme's outcomes so far; None where the calendar cannot say."""

    days_in_programme: int
    days_recorded: int
    days_unrecorded: int
    days_used: int
    days_abstinent: int
    percent_days_abstinent: float | None
    time_to_first_use_days: int | None
    relapse_by_day: dict[int, bool | None]
    current_abstinent_streak: int


def programme_outcomes(*, start: date, today: date, days: Sequence[UseDay]) -> ProgrammeOutcomes:
    """Percent days abstinent (of recorded days), time to first use, relapse at 3 and 6 months."""
    if today < start:
        raise InvalidInput("the programme has not started", field="start")
    by_day: dict[date, UseDay] = {}
    for entry in days:
        if entry.day < start or entry.day > today:
            raise InvalidInput(f"{entry.day} is outside the programme so far", field="day")
        by_day[entry.day] = entry  # the latest mark of a day wins (the caller orders them)
    span = (today - start).days + 1
    used = sorted(d for d, e in by_day.items() if e.used)
    recorded = len(by_day)
    abstinent = recorded - len(used)
    relapse: dict[int, bool | None] = {}
    for window in load_misuse_rules().relapse_windows_days:
        end = start + timedelta(days=window - 1)
        if any(d <= end for d in used):
            relapse[window] = True
        elif today >= end and all(start + timedelta(days=i) in by_day for i in range(window)):
            relapse[window] = False
        else:
            relapse[window] = None  # not over yet, or days unrecorded: unknown, not "no relapse"
    streak = 0
    cursor = today
    while cursor >= start and cursor in by_day and not by_day[cursor].used:
        streak += 1
        cursor -= timedelta(days=1)
    return ProgrammeOutcomes(
        days_in_programme=span,
        days_recorded=recorded,
        days_unrecorded=span - recorded,
        days_used=len(used),
        days_abstinent=abstinent,
        percent_days_abstinent=round(100 * abstinent / recorded, 1) if recorded else None,
        time_to_first_use_days=(used[0] - start).days if used else None,
        relapse_by_day=relapse,
        current_abstinent_streak=streak,
    )


@dataclass(frozen=True)
class RelapseCount:
    """Programmes relapsed, not relapsed, and not yet known at one window (3 or 6 months)."""

    window_days: int
    relapsed: int
    not_relapsed: int
    unknown: int


@dataclass(frozen=True)
class ProgrammesSummary:
    """A clinic's substance-use programmes together, for the dashboard."""

    programmes: int
    days_recorded: int
    percent_days_abstinent: float | None  # pooled: abstinent days over recorded days
    with_use: int  # programmes with a recorded use day
    median_time_to_first_use_days: float | None  # among those with use (others censored)
    relapse: tuple[RelapseCount, ...]


def programmes_summary(outcomes: Sequence[ProgrammeOutcomes]) -> ProgrammesSummary:
    """Pool programmes' outcomes: unrecorded days are left out, never counted abstinent; time to
    first use is the median among programmes with a use day; relapse counts keep the unknown."""
    recorded = sum(o.days_recorded for o in outcomes)
    abstinent = sum(o.days_abstinent for o in outcomes)
    firsts = [o.time_to_first_use_days for o in outcomes if o.time_to_first_use_days is not None]
    counts = []
    for window in load_misuse_rules().relapse_windows_days:
        states = [o.relapse_by_day.get(window) for o in outcomes]
        counts.append(
            RelapseCount(
                window,
                sum(1 for v in states if v is True),
                sum(1 for v in states if v is False),
                sum(1 for v in states if v is None),
            )
        )
    return ProgrammesSummary(
        programmes=len(outcomes),
        days_recorded=recorded,
        percent_days_abstinent=round(100 * abstinent / recorded, 1) if recorded else None,
        with_use=len(firsts),
        median_time_to_first_use_days=float(median(firsts)) if firsts else None,
        relapse=tuple(counts),
    )


@dataclass(frozen=True)
class ConsentOnFile:
    """A Part 2 consent the patient signed: purposes, recipient, and its dates."""

    purposes: frozenset[str]
    recipient: str
    signed_on: date
    expires_on: date | None
    revoked_on: date | None


PURPOSE_LABELS = {
    TREATMENT: "treatment",
    PAYMENT: "payment",
    OPERATIONS: "health care operations",
    RESEARCH: "research",
    PATIENT_REQUEST: "the patient's own request",
    OTHER: "another purpose named in the consent",
}


def consent_scope(consent: ConsentOnFile) -> str:
    """A clear explanation of a consent's scope, to accompany a disclosure made under it
    (42 CFR 2.32(b) as amended in 2024: a copy of the consent or a clear explanation)."""
    purposes = [PURPOSE_LABELS[p] for p in PURPOSES if p in consent.purposes]
    if not purposes:
        raise InvalidInput("a consent names at least one purpose", field="purposes")
    listed = (
        purposes[0] if len(purposes) == 1 else ", ".join(purposes[:-1]) + " and " + purposes[-1]
    )
    recipient = consent.recipient or "any recipient for these purposes"
    expires = (
        f"until {consent.expires_on.isoformat()}" if consent.expires_on else "with no end date"
    )
    revoked = f"; revoked on {consent.revoked_on.isoformat()}" if consent.revoked_on else ""
    return (
        f"Scope of the patient's written consent signed on {consent.signed_on.isoformat()}: "
        f"use and disclosure for {listed}; to {recipient}; {expires}{revoked}."
    )


@dataclass(frozen=True)
class DisclosureDecision:
    """Whether a Part 2 record may be disclosed, under which consent, and why not."""

    allowed: bool
    code: str
    reason: str
    consent_index: int | None = None


def disclosure_decide(
    *, purpose: str, recipient: str, consents: Sequence[ConsentOnFile], today: date
) -> DisclosureDecision:
    """Decide a disclosure of Part 2 records against the consents on file (fail closed)."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"unknown purpose {purpose!r}", field="purpose")
    if purpose == PATIENT_REQUEST:
        return DisclosureDecision(True, "patient_request", "The patient's own access.")
    for index, consent in enumerate(consents):
        if consent.revoked_on is not None and consent.revoked_on <= today:
            continue
        if consent.expires_on is not None and consent.expires_on < today:
            continue
        if consent.signed_on > today or purpose not in consent.purposes:
            continue
        if purpose not in TPO and consent.recipient.strip().lower() != recipient.strip().lower():
            continue  # outside TPO a consent names its recipient
        return DisclosureDecision(True, "consented", "A current consent covers it.", index)
    if purpose in TPO:
        return DisclosureDecision(
            False, "no_consent", "No current consent covers treatment, payment or operations."
        )
    return DisclosureDecision(
        False, "no_consent", f"No current consent names {purpose} to this recipient."
    )
