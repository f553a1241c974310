"""Reads of the recovery app: the safety-review worklist, a patient's recovery page, relapse
plans, programmes with their outcomes, and Part 2 records (each read audited by its caller)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from ketacare.accounts.access import Actor
from ketacare.clinical import recovery as rules
from ketacare.patients.models import Patient
from ketacare.recovery.models import (
    DrugScreen,
    MisuseDecision,
    MisuseReview,
    Part2Consent,
    Part2Disclosure,
    RecoveryPlanReview,
    RecoveryPlanVersion,
    SessionRequest,
    SudProgramme,
    UseDay,
    WithdrawalCheck,
)

# Policy default: the therapist reviews a relapse-prevention plan at least every 30 days and
# after every new version (reference §8 describes review without a fixed interval).
PLAN_REVIEW_EVERY = timedelta(days=30)
CALENDAR_DAYS = 28


def worklist(*, actor: Actor) -> list[MisuseReview]:
    """Each patient's latest review that has signals and no decision since: the safety worklist."""
    latest = MisuseReview.objects.filter(
        clinic_id=actor.clinic_id, patient_id=OuterRef("patient_id"), pk__gt=OuterRef("pk")
    )
    decided = MisuseDecision.objects.filter(review_id=OuterRef("pk"))
    return list(
        MisuseReview.objects.filter(clinic_id=actor.clinic_id)
        .exclude(signal_ids=[])
        .filter(~Exists(latest), ~Exists(decided))
        .select_related("patient")
        .order_by("-severe", "-assessed_at")[:200]
    )


def review_latest(*, patient: Patient) -> MisuseReview | None:
    """The patient's latest stored review."""
    return (
        MisuseReview.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .order_by("-assessed_at", "-id")
        .first()
    )


def decisions_of(*, patient: Patient) -> list[MisuseDecision]:
    """The prescribers' decisions on the patient, newest first."""
    return list(
        MisuseDecision.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("decided_by")
        .order_by("-decided_at", "-id")[:50]
    )


def drug_screens_of(*, patient: Patient, part2_allowed: bool) -> list[DrugScreen]:
    """The patient's drug screens; Part 2 screens only for roles allowed to see them."""
    rows = DrugScreen.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    if not part2_allowed:
        rows = rows.filter(part2=False)
    return list(rows.order_by("-collected_on", "-id")[:100])


def session_requests_of(*, patient: Patient) -> list[SessionRequest]:
    """The session requests staff noted, newest first."""
    rows = SessionRequest.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    return list(rows.order_by("-requested_on", "-id")[:50])


@dataclass(frozen=True)
class PlanState:
    """The current plan version, its latest review, whether a review is due, and history."""

    current: RecoveryPlanVersion | None
    review: RecoveryPlanReview | None
    review_due: bool
    versions: list[RecoveryPlanVersion]


def plan_state(*, patient: Patient, today: date) -> PlanState:
    """The relapse-prevention plan of a patient as the therapist sees it."""
    versions = list(
        RecoveryPlanVersion.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("author")
        .order_by("-number")[:50]
    )
    current = versions[0] if versions else None
    review = (
        RecoveryPlanReview.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("version", "reviewed_by")
        .order_by("-reviewed_at", "-id")
        .first()
    )
    due = current is not None and (
        review is None
        or review.version_id != current.pk
        or review.reviewed_at.date() + PLAN_REVIEW_EVERY <= today
    )
    return PlanState(current, review, due, versions)


def programme_of(*, patient: Patient) -> SudProgramme | None:
    """The patient's substance-use programme, if any."""
    return (
        SudProgramme.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .order_by("-started_on", "-id")
        .first()
    )


@dataclass(frozen=True)
class ProgrammeView:
    """A programme with its calendar (the last weeks), outcomes and withdrawal checks."""

    programme: SudProgramme
    calendar: list[dict[str, Any]]
    outcomes: rules.ProgrammeOutcomes
    withdrawal: list[WithdrawalCheck]


def programme_view(*, programme: SudProgramme, today: date) -> ProgrammeView:
    """The programme's calendar of the last four weeks and its outcomes from every marked day."""
    marks: dict[date, UseDay] = {}
    for row in UseDay.objects.filter(programme=programme).order_by("day", "recorded_at", "id"):
        marks[row.day] = row  # the latest mark of a day wins
    outcomes = rules.programme_outcomes(
        start=programme.started_on,
        today=today,
        days=[rules.UseDay(d, m.used, m.amount) for d, m in marks.items() if d <= today],
    )
    first = max(programme.started_on, today - timedelta(days=CALENDAR_DAYS - 1))
    calendar = [
        {"day": first + timedelta(days=i), "mark": marks.get(first + timedelta(days=i))}
        for i in range((today - first).days + 1)
    ]
    withdrawal = list(
        WithdrawalCheck.objects.filter(programme=programme).order_by("-recorded_at", "-id")[:20]
    )
    return ProgrammeView(programme, calendar, outcomes, withdrawal)


def part2_records_of(*, patient: Patient) -> dict[str, list[Any]]:
    """Every Part 2 record of the patient, by kind (what a disclosure carries)."""
    programmes = list(SudProgramme.objects.filter(clinic_id=patient.clinic_id, patient=patient))
    if not programmes:
        screens: QuerySet[DrugScreen] = DrugScreen.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, part2=True
        )
        return {"drug_screens": list(screens)} if screens else {}
    return {
        "programmes": programmes,
        "use_days": list(UseDay.objects.filter(programme__in=programmes).order_by("day", "id")),
        "withdrawal_checks": list(
            WithdrawalCheck.objects.filter(programme__in=programmes).order_by("recorded_at")
        ),
        "drug_screens": list(
            DrugScreen.objects.filter(clinic_id=patient.clinic_id, patient=patient, part2=True)
        ),
    }


def consents_of(*, patient: Patient) -> list[Part2Consent]:
    """The patient's Part 2 consents, newest first."""
    rows = Part2Consent.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    return list(rows.select_related("recorded_by").order_by("-signed_on", "-id"))


def disclosures_of(*, patient: Patient) -> list[Part2Disclosure]:
    """The accounting of disclosures of the patient's Part 2 records, newest first."""
    rows = Part2Disclosure.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    return list(rows.select_related("disclosed_by").order_by("-disclosed_at", "-id"))


def disclosure_get(*, patient: Patient, disclosure_id: int) -> Part2Disclosure | None:
    """One disclosure of the patient's records, or None."""
    return Part2Disclosure.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, pk=disclosure_id
    ).first()


def programmes_summary(*, actor: Actor, today: date) -> rules.ProgrammesSummary:
    """The clinic's substance-use programmes pooled for the dashboard (two queries)."""
    programmes = [
        p for p in SudProgramme.objects.filter(clinic_id=actor.clinic_id) if p.started_on <= today
    ]
    marks: dict[int, dict[date, UseDay]] = {p.pk: {} for p in programmes}
    rows = UseDay.objects.filter(clinic_id=actor.clinic_id, day__lte=today).order_by(
        "day", "recorded_at", "id"
    )
    for row in rows:
        if row.programme_id in marks:
            marks[row.programme_id][row.day] = row  # the latest mark of a day wins
    return rules.programmes_summary(
        [
            rules.programme_outcomes(
                start=p.started_on,
                today=today,
                days=[
                    rules.UseDay(d, m.used, m.amount)
                    for d, m in marks[p.pk].items()
                    if d >= p.started_on
                ],
            )
            for p in programmes
        ]
    )
