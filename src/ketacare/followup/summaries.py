"""Outcome summaries kept as data: each course's outcome, each clinic's tallies, the booster list.

The dashboard and the booster worklist used to re-score every course and score of the clinic
on each request. Now each patient's summaries are recomputed, with the same rules
(`course_outcome` below, the core's `classify` and `relapse_signal`), when that patient's
scores or courses change, and the pages read the stored rows.

Changes are found without hooks in the apps below: new scores and courses by id, ended courses
by their end time, past a per-clinic mark (`OutcomeSync`). A page catches its clinic up before
reading (usually nothing to do: three indexed existence checks), and the worker catches every
clinic up on each tick, re-reading a small overlap in case a transaction committed late.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from ketacare.accounts.models import Clinic
from ketacare.clinical.history import TimedScore, baseline_index
from ketacare.clinical.instruments import Instrument, get_instrument
from ketacare.clinical.outcomes import (
    REMISSION,
    RESPONSE,
    RelapseSignal,
    classify,
    load_outcome_rules,
    relapse_signal,
)
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone
from ketacare.outcomes.models import (
    BoosterSignal,
    CourseOutcome,
    OutcomeSync,
    OutcomeTally,
    ScaleResponse,
)
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Course, CourseStatus
from ketacare.treatment.models import TreatmentSession

# --- the rules, shared with the pages that show one patient (`selectors`) ---------------------


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return timezone.localtime(moment, tz).date()


def choose_baseline(
    responses: Sequence[ScaleResponse], first_dose_at: datetime | None
) -> ScaleResponse | None:
    """The score to compare against, by the core's rule (`history.baseline_index`): the last one
    recorded before the course's first dose; before any dose, the latest so far. A score given
    after the first dose started (a portal answer during the infusion) is never the baseline."""
    index = baseline_index([TimedScore(r.recorded_at, r.total) for r in responses], first_dose_at)
    return None if index is None else responses[index]


def first_doses(clinic_id: int, course_ids: Iterable[int]) -> dict[int, datetime]:
    """When each course's first dose started (its earliest session with dosing started)."""
    rows = (
        TreatmentSession.objects.filter(
            clinic_id=clinic_id, course_id__in=list(course_ids), dosing_started_at__isnull=False
        )
        .values("course_id")
        .annotate(first=Min("dosing_started_at"))
        .order_by()
    )
    return {row["course_id"]: row["first"] for row in rows}


def first_dose_of(course: Course, doses: dict[int, datetime], tz: ZoneInfo) -> datetime:
    """The course's first dose; with none recorded (history kept elsewhere), the start of the
    course's first day in the clinic, so no score from that day (perhaps after the dose) counts."""
    return doses.get(course.pk) or datetime.combine(course.started_on, time.min, tzinfo=tz)


@dataclass(frozen=True)
class BoosterCandidate:
    """A patient whose scores after a course show the core's relapse signal."""

    patient: Patient
    course: Course
    instrument: Instrument
    baseline: int
    signal: RelapseSignal


def _scores_by_patient(
    clinic_id: int, instrument_ids: Iterable[str], patient_ids: Sequence[int] | None = None
) -> dict[tuple[int, str], list[ScaleResponse]]:
    grouped: dict[tuple[int, str], list[ScaleResponse]] = defaultdict(list)
    rows = ScaleResponse.objects.filter(
        clinic_id=clinic_id,
        instrument_id__in=list(instrument_ids),
        entered_in_error_at__isnull=True,
    )
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=list(patient_ids))
    rows = rows.only("id", "patient_id", "instrument_id", "total", "recorded_at", "band").order_by(
        "recorded_at", "id"
    )
    for row in rows:
        grouped[(row.patient_id, row.instrument_id)].append(row)
    return grouped


def _booster_candidates(
    *, clinic_id: int, tz: ZoneInfo, patient_ids: Sequence[int] | None = None
) -> list[BoosterCandidate]:
    """Recompute the relapse signals (of some patients): `summaries` stores what this finds."""
    courses_by_patient: dict[int, list[Course]] = defaultdict(list)
    of_clinic = Course.objects.filter(clinic_id=clinic_id)
    if patient_ids is not None:
        of_clinic = of_clinic.filter(patient_id__in=list(patient_ids))
    for course in of_clinic.select_related("patient").order_by("started_on", "id"):
        courses_by_patient[course.patient_id].append(course)
    classifiable = load_outcome_rules().classifiable
    scores = _scores_by_patient(clinic_id, classifiable, patient_ids)
    doses = first_doses(clinic_id, [c[0].pk for c in courses_by_patient.values()])
    candidates = []
    for courses in courses_by_patient.values():
        last = courses[-1]
        if last.status == CourseStatus.ACTIVE or last.ended_at is None:
            continue
        first_dose_at = first_dose_of(courses[0], doses, tz)
        for instrument_id in classifiable:
            series = scores.get((last.patient_id, instrument_id), [])
            baseline = choose_baseline(series, first_dose_at)
            if baseline is None:
                continue
            # From the last course on: its response, then what came after it.
            window = [
                (_local_date(r.recorded_at, tz), r.total)
                for r in series
                if _local_date(r.recorded_at, tz) >= last.started_on and r.pk != baseline.pk
            ]
            signal = relapse_signal(instrument_id, window, baseline.total)
            if signal is not None and signal.detected_on >= _local_date(last.ended_at, tz):
                candidates.append(
                    BoosterCandidate(
                        patient=last.patient,
                        course=last,
                        instrument=get_instrument(instrument_id),
                        baseline=baseline.total,
                        signal=signal,
                    )
                )
                break
    candidates.sort(key=lambda c: c.signal.detected_on)
    return candidates


def course_outcome(
    course: Course, series: Sequence[ScaleResponse], first_dose_at: datetime, now: datetime
) -> tuple[ScaleResponse, ScaleResponse] | None:
    """(baseline, end) of one course: the last score before its first dose (the core's rule),
    and the last score after that up to its end (or now)."""
    baseline = choose_baseline(series, first_dose_at)
    if baseline is None:
        return None
    until = course.ended_at or now
    after = [r for r in series if r.recorded_at > baseline.recorded_at and r.recorded_at <= until]
    return (baseline, after[-1]) if after else None


COURSE_MARKER = ""  # a CourseOutcome row with no instrument: "this course is counted"
REFRESH_CHUNK = 500
# The worker re-reads this many of the latest ids and this much of the latest end times, so a
# transaction that committed after a later one is not missed.
OVERLAP_IDS = 500
OVERLAP_TIME = timedelta(minutes=10)


def _changed_patients(
    clinic: Clinic, sync: OutcomeSync, overlap: bool
) -> tuple[set[int], dict[str, Any]]:
    back = OVERLAP_IDS if overlap else 0
    responses = list(
        ScaleResponse.objects.filter(
            clinic_id=clinic.pk, id__gt=max(0, sync.last_response_id - back)
        ).values_list("id", "patient_id")
    )
    courses = list(
        Course.objects.filter(
            clinic_id=clinic.pk, id__gt=max(0, sync.last_course_id - back)
        ).values_list("id", "patient_id")
    )
    now = clock.now()
    ended: list[int] = []
    if sync.courses_ended_before is not None:
        since = sync.courses_ended_before - (OVERLAP_TIME if overlap else timedelta(0))
        ended = list(
            Course.objects.filter(clinic_id=clinic.pk, ended_at__gte=since).values_list(
                "patient_id", flat=True
            )
        )
    patients = {p for _, p in responses} | {p for _, p in courses} | set(ended)
    marks = {
        "last_response_id": max([sync.last_response_id, *(i for i, _ in responses)]),
        "last_course_id": max([sync.last_course_id, *(i for i, _ in courses)]),
        "courses_ended_before": now,
    }
    return patients, marks


def outcome_summaries_catch_up(*, clinic: Clinic, overlap: bool = False) -> int:
    """Bring a clinic's summaries up to date with its scores and courses; returns how many
    patients were recomputed. Nothing new: three indexed queries and no write."""
    sync = OutcomeSync.objects.filter(clinic_id=clinic.pk).first()
    if sync is not None and not overlap and sync.tz == clinic.time_zone:
        nothing_new = not (
            ScaleResponse.objects.filter(clinic_id=clinic.pk, id__gt=sync.last_response_id).exists()
            or Course.objects.filter(clinic_id=clinic.pk, id__gt=sync.last_course_id).exists()
            or Course.objects.filter(
                clinic_id=clinic.pk, ended_at__gte=sync.courses_ended_before
            ).exists()
        )
        if nothing_new:
            return 0
    with transaction.atomic():
        sync, _ = OutcomeSync.objects.select_for_update().get_or_create(clinic_id=clinic.pk)
        if sync.tz != clinic.time_zone:  # local dates moved: recompute the whole clinic
            sync.last_response_id = sync.last_course_id = 0
            sync.courses_ended_before = None
        patients, marks = _changed_patients(clinic, sync, overlap)
        ordered = sorted(patients)
        for start in range(0, len(ordered), REFRESH_CHUNK):
            _refresh(clinic, ordered[start : start + REFRESH_CHUNK])
        for name, value in marks.items():
            setattr(sync, name, value)
        sync.tz = clinic.time_zone
        sync.save()
    return len(patients)


def outcome_summaries_catch_up_all(*, overlap: bool = True) -> int:
    """Every clinic (the worker's tick, and after a bulk load)."""
    return sum(
        outcome_summaries_catch_up(clinic=clinic, overlap=overlap)
        for clinic in Clinic.objects.order_by("id")
    )


def _refresh(clinic: Clinic, patient_ids: list[int]) -> None:
    tz = clinic_zone(clinic)
    classifiable = tuple(load_outcome_rules().classifiable)
    courses = list(
        Course.objects.filter(clinic_id=clinic.pk, patient_id__in=patient_ids).order_by(
            "started_on", "id"
        )
    )
    scores = _scores_by_patient(clinic.pk, classifiable, patient_ids=patient_ids)
    doses = first_doses(clinic.pk, [c.pk for c in courses])
    now = clock.now()
    new: dict[tuple[int, str], tuple[str, int | None, int | None, str]] = {}
    for course in courses:
        new[(course.pk, COURSE_MARKER)] = (course.protocol_id, None, None, "")
        first_dose_at = first_dose_of(course, doses, tz)
        for instrument_id in classifiable:
            series = scores.get((course.patient_id, instrument_id), [])
            pair = course_outcome(course, series, first_dose_at, now)
            if pair is not None:
                baseline, end = pair
                outcome = classify(instrument_id, baseline.total, end.total)
                new[(course.pk, instrument_id)] = (
                    course.protocol_id,
                    baseline.total,
                    end.total,
                    outcome,
                )
    patient_of = {c.pk: c.patient_id for c in courses}
    old_rows = list(CourseOutcome.objects.filter(course_id__in=list(patient_of)))
    old = {
        (r.course_id, r.instrument_id): (r.protocol_id, r.baseline_total, r.end_total, r.outcome)
        for r in old_rows
    }
    _apply_tally(clinic, old, new)
    changed = [key for key in new if old.get(key) != new[key]]
    gone = [r.pk for r in old_rows if (r.course_id, r.instrument_id) not in new]
    if gone:
        CourseOutcome.objects.filter(pk__in=gone).delete()
    by_key = {(r.course_id, r.instrument_id): r for r in old_rows}
    fresh = []
    for key in changed:
        protocol_id, baseline_total, end_total, outcome = new[key]
        values = {
            "protocol_id": protocol_id,
            "measured": key[1] != COURSE_MARKER,
            "baseline_total": baseline_total,
            "end_total": end_total,
            "outcome": outcome,
        }
        if key in by_key:
            CourseOutcome.objects.filter(pk=by_key[key].pk).update(**values)
        else:
            fresh.append(
                CourseOutcome(
                    clinic_id=clinic.pk,
                    patient_id=patient_of[key[0]],
                    course_id=key[0],
                    instrument_id=key[1],
                    **values,
                )
            )
    CourseOutcome.objects.bulk_create(fresh, batch_size=500)
    _refresh_signals(
        clinic,
        patient_ids,
        _booster_candidates(clinic_id=clinic.pk, tz=tz, patient_ids=patient_ids),
    )


def _refresh_signals(clinic: Clinic, patient_ids: list[int], candidates: Iterable[Any]) -> None:
    found = {c.patient.pk: c for c in candidates}
    BoosterSignal.objects.filter(clinic_id=clinic.pk, patient_id__in=patient_ids).exclude(
        patient_id__in=list(found)
    ).delete()
    for patient_id, candidate in found.items():
        BoosterSignal.objects.update_or_create(
            patient_id=patient_id,
            defaults={
                "clinic_id": clinic.pk,
                "course_id": candidate.course.pk,
                "instrument_id": candidate.instrument.id,
                "baseline_total": candidate.baseline,
                "detected_on": candidate.signal.detected_on,
                "signal": _signal_json(candidate.signal),
            },
        )


def _signal_json(signal: RelapseSignal) -> dict[str, Any]:
    data = asdict(signal)
    data["detected_on"] = signal.detected_on.isoformat()
    data["responded_on"] = signal.responded_on.isoformat()
    data["evidence"] = [[day.isoformat(), total] for day, total in signal.evidence]
    return data


def signal_from_json(data: dict[str, Any]) -> RelapseSignal:
    """The stored signal as the core's dataclass again."""
    return RelapseSignal(
        instrument_id=data["instrument_id"],
        kind=data["kind"],
        detected_on=date.fromisoformat(data["detected_on"]),
        responded_on=date.fromisoformat(data["responded_on"]),
        evidence=tuple((date.fromisoformat(day), int(total)) for day, total in data["evidence"]),
        reason=data["reason"],
    )


def _apply_tally(
    clinic: Clinic,
    old: dict[tuple[int, str], tuple[str, int | None, int | None, str]],
    new: dict[tuple[int, str], tuple[str, int | None, int | None, str]],
) -> None:
    deltas: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"courses": 0, "measured": 0, "responders": 0, "remitters": 0, "changes": {}}
    )

    def account(
        row: tuple[str, int | None, int | None, str], instrument_id: str, sign: int
    ) -> None:
        protocol_id, baseline_total, end_total, outcome = row
        delta = deltas[(protocol_id, instrument_id)]
        if instrument_id == COURSE_MARKER:
            delta["courses"] += sign
            return
        if baseline_total is None or end_total is None:  # a measured row always has both
            return
        delta["measured"] += sign
        delta["responders"] += sign if outcome in (RESPONSE, REMISSION) else 0
        delta["remitters"] += sign if outcome == REMISSION else 0
        change = str(end_total - baseline_total)
        delta["changes"][change] = delta["changes"].get(change, 0) + sign

    for key in set(old) | set(new):
        if old.get(key) == new.get(key):
            continue
        if key in old:
            account(old[key], key[1], -1)
        if key in new:
            account(new[key], key[1], +1)
    for (protocol_id, instrument_id), delta in deltas.items():
        tally, _ = OutcomeTally.objects.select_for_update().get_or_create(
            clinic_id=clinic.pk, protocol_id=protocol_id, instrument_id=instrument_id
        )
        histogram = dict(tally.changes)
        for change, count in delta["changes"].items():
            histogram[change] = histogram.get(change, 0) + count
        OutcomeTally.objects.filter(pk=tally.pk).update(
            courses=F("courses") + delta["courses"],
            measured=F("measured") + delta["measured"],
            responders=F("responders") + delta["responders"],
            remitters=F("remitters") + delta["remitters"],
            changes={k: v for k, v in histogram.items() if v},
        )


def histogram_median(changes: dict[str, int]) -> float | None:
    """The median of the changes a histogram holds (as `statistics.median` of the list)."""
    values = sorted((int(change), count) for change, count in changes.items() if count > 0)
    total = sum(count for _, count in values)
    if not total:
        return None

    def nth(n: int) -> int:
        seen = 0
        for value, count in values:
            seen += count
            if n < seen:
                return value
        raise AssertionError("unreachable")

    if total % 2:
        return float(nth(total // 2))
    return statistics.mean((nth(total // 2 - 1), nth(total // 2)))
