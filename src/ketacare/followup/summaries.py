"""Outcome summaries kept as data: each course's outcome, each clinic's tallies, the booster list.

The dashboard and the booster worklist used to re-score every course and score of the clinic
on each request. Now each patient's summaries are recomputed, with the same rules
(`selectors.course_outcome`, the core's `classify` and `relapse_signal`), when that patient's
scores or courses change, and the pages read the stored rows.

Changes are found without hooks in the apps below: new scores and courses by id, ended courses
by their end time, past a per-clinic mark (`OutcomeSync`). A page catches its clinic up before
reading (usually nothing to do: three indexed existence checks), and the worker catches every
clinic up on each tick, re-reading a small overlap in case a transaction committed late.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from ketacare.accounts.models import Clinic
from ketacare.clinical.outcomes import (
    REMISSION,
    RESPONSE,
    RelapseSignal,
    classify,
    load_outcome_rules,
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
from ketacare.scheduling.models import Course

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
    from ketacare.followup.selectors import _booster_candidates, _scores_by_patient, course_outcome

    tz = clinic_zone(clinic)
    classifiable = tuple(load_outcome_rules().classifiable)
    courses = list(
        Course.objects.filter(clinic_id=clinic.pk, patient_id__in=patient_ids).order_by(
            "started_on", "id"
        )
    )
    scores = _scores_by_patient(clinic.pk, classifiable, patient_ids=patient_ids)
    now = clock.now()
    new: dict[tuple[int, str], tuple[str, int | None, int | None, str]] = {}
    for course in courses:
        new[(course.pk, COURSE_MARKER)] = (course.protocol_id, None, None, "")
        for instrument_id in classifiable:
            series = scores.get((course.patient_id, instrument_id), [])
            pair = course_outcome(course, series, tz, now)
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
