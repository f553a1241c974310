"""Reads of the at-home programme: access helpers, the facts each gate decides on, the board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.athome.models import (
    DoseStatus,
    FollowUpReview,
    HomeDose,
    HomePrescription,
    HomeProgramme,
    ProgrammeStatus,
    SupplyKind,
    SupplyMovement,
)
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.athome import RefillFacts, ReleaseFacts
from ketacare.clinical.protocols import get_protocol
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone, local_date
from ketacare.outcomes.models import AlertStatus, SafetyAlert

SOURCE_PREFIX = "home_dose:"


def clinic_day(clinic_time_zone: str, moment: datetime | None = None) -> date:
    """The clinic's calendar day of a moment (now by default)."""
    return local_date(moment or clock.now(), clinic_zone(clinic_time_zone))


def programmes_of_clinic(*, actor: Actor) -> QuerySet[HomeProgramme]:
    """The clinic's programmes (no permission check: callers check)."""
    return HomeProgramme.objects.filter(clinic_id=actor.clinic_id)


def programme_get_for_actor(
    *, actor: Actor, programme_id: int, permission: Permission = Permission.ATHOME_VIEW
) -> HomeProgramme:
    """One programme of the actor's clinic, read audited; another clinic's is not found."""
    actor.require(permission)
    programme = (
        programmes_of_clinic(actor=actor)
        .select_related("patient", "clinic")
        .filter(pk=programme_id)
        .first()
    )
    if programme is None:
        raise Http404("Programme not found.")
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="home_programme",
        object_id=programme.pk,
        patient_id=programme.patient_id,
    )
    return programme


def prescription_get_for_actor(*, actor: Actor, prescription_id: int) -> HomePrescription:
    """One prescription of the actor's clinic (for printing), read audited; else 404."""
    actor.require(Permission.ATHOME_VIEW)
    prescription = (
        HomePrescription.objects.filter(clinic_id=actor.clinic_id, pk=prescription_id)
        .select_related("patient", "prescriber", "clinic", "programme")
        .first()
    )
    if prescription is None:
        raise Http404("Prescription not found.")
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="home_prescription",
        object_id=prescription.pk,
        patient_id=prescription.patient_id,
    )
    return prescription


@dataclass(frozen=True)
class Supply:
    """A programme's supply in units: dispensed, taken, reported lost, left."""

    dispensed: int
    taken: int
    lost: int

    @property
    def left(self) -> int:
        """What should be at home."""
        return self.dispensed - self.taken - self.lost


def supply_of(programme_id: int) -> Supply:
    """The programme's supply totals (one query)."""
    sums = dict(
        SupplyMovement.objects.filter(programme_id=programme_id)
        .values_list("kind")
        .annotate(total=Sum("units"))
        .values_list("kind", "total")
    )
    dispensed = int(sums.get(SupplyKind.DISPENSED, 0) + sums.get(SupplyKind.REFILL, 0))
    return Supply(dispensed, int(sums.get(SupplyKind.TAKEN, 0)), int(sums.get(SupplyKind.LOST, 0)))


def open_red_flags(programme: HomeProgramme) -> int:
    """Safety alerts raised by this programme's doses that nobody has resolved yet."""
    return (
        SafetyAlert.objects.filter(
            clinic_id=programme.clinic_id,
            patient_id=programme.patient_id,
            source_key__startswith=SOURCE_PREFIX,
        )
        .exclude(status=AlertStatus.RESOLVED)
        .count()
    )


def release_facts(programme: HomeProgramme, *, today: date) -> ReleaseFacts:
    """What decides whether the programme's next dose is released today."""
    doses = HomeDose.objects.filter(programme=programme)
    taken = doses.filter(status__in=[DoseStatus.TAKEN, DoseStatus.TRACKED])
    last = taken.aggregate(last=Max("taken_at"))["last"]
    tz = programme.clinic.time_zone
    return ReleaseFacts(
        today=today,
        doses_taken=taken.count(),
        doses_planned=programme.doses_planned,
        last_dose_on=clinic_day(tz, last) if last else None,
        min_interval_days=get_protocol(programme.protocol_id).schedule.min_interval_days,
        trackers_missing=taken.filter(tracker_submitted_at__isnull=True).count(),
        open_red_flags=open_red_flags(programme),
        supply_left=supply_of(programme.pk).left,
        units_per_dose=programme.units_per_dose,
    )


def refill_facts(programme: HomeProgramme, *, today: date) -> RefillFacts:
    """What decides whether a refill may be released: doses, the latest review, the counts."""
    supply = supply_of(programme.pk)
    review = FollowUpReview.objects.filter(programme=programme).first()
    prescription = programme.prescriptions.first()
    refills_used = SupplyMovement.objects.filter(
        programme=programme, kind=SupplyKind.REFILL
    ).count()
    taken_doses = HomeDose.objects.filter(
        programme=programme, status__in=[DoseStatus.TAKEN, DoseStatus.TRACKED]
    ).count()
    # Units taken or lost since the review's count are not in the count: compare at the review.
    since = review.recorded_at if review else None
    after = (
        SupplyMovement.objects.filter(programme=programme, occurred_at__gt=since) if since else None
    )
    moved_after = (
        dict(after.values_list("kind").annotate(t=Sum("units")).values_list("kind", "t"))
        if after is not None
        else {}
    )
    taken_after = int(moved_after.get(SupplyKind.TAKEN, 0))
    lost_after = int(moved_after.get(SupplyKind.LOST, 0))
    dispensed_after = int(
        moved_after.get(SupplyKind.DISPENSED, 0) + moved_after.get(SupplyKind.REFILL, 0)
    )
    return RefillFacts(
        today=today,
        programme_started_on=programme.started_on,
        doses_taken=taken_doses,
        review_on=review.reviewed_on if review else None,
        dispensed=supply.dispensed - dispensed_after,
        taken=supply.taken - taken_after,
        reported_lost=supply.lost - lost_after,
        counted=review.counted_units if review else None,
        refills_authorised=prescription.refills if prescription else 0,
        refills_used=refills_used,
    )


@dataclass(frozen=True)
class BoardRow:
    """One patient on the programme board."""

    programme: HomeProgramme
    next_due: date | None
    last_bp: str
    tracker_status: str
    supply_left: int
    open_flags: int


def programme_board(*, actor: Actor) -> list[BoardRow]:
    """Each active or paused programme: next dose due, last home BP, tracker, supply, flags.

    A fixed number of queries whatever the number of patients (asserted in the tests).
    """
    actor.require(Permission.ATHOME_VIEW)
    programmes = list(
        programmes_of_clinic(actor=actor)
        .exclude(status=ProgrammeStatus.ENDED)
        .select_related("patient", "clinic")
        .annotate(
            dispensed=Sum("supply__units", filter=Q(supply__kind__in=["dispensed", "refill"])),
            used=Sum("supply__units", filter=Q(supply__kind__in=["taken", "lost"])),
        )
        .order_by("patient__family_name", "id")
    )
    ids = [p.pk for p in programmes]
    doses = (
        HomeDose.objects.filter(programme_id__in=ids)
        .exclude(status=DoseStatus.OPEN)
        .order_by("programme_id", "opened_at", "id")
    )
    latest: dict[int, HomeDose] = {}
    last_taken: dict[int, HomeDose] = {}
    for dose in doses:
        latest[dose.programme_id] = dose
        if dose.taken_at is not None:
            last_taken[dose.programme_id] = dose
    flags = dict(
        SafetyAlert.objects.filter(clinic_id=actor.clinic_id, source_key__startswith=SOURCE_PREFIX)
        .exclude(status=AlertStatus.RESOLVED)
        .values_list("patient_id")
        .annotate(n=Count("id"))
        .values_list("patient_id", "n")
    )
    now = clock.now()
    interval = {}
    rows = []
    for programme in programmes:
        if programme.protocol_id not in interval:
            interval[programme.protocol_id] = get_protocol(
                programme.protocol_id
            ).schedule.min_interval_days
        taken = last_taken.get(programme.pk)
        newest = latest.get(programme.pk)
        next_due = programme.started_on
        tracker = "no dose yet"
        if taken is not None and taken.taken_at is not None:
            next_due = clinic_day(programme.clinic.time_zone, taken.taken_at) + timedelta(
                days=interval[programme.protocol_id]
            )
            if taken.tracker_submitted_at is not None:
                tracker = "in, red flag" if taken.red_flags else "in"
            elif taken.tracker_due_at is not None and taken.tracker_due_at < now:
                tracker = "missed"
            else:
                tracker = "due"
        last_bp = f"{newest.systolic}/{newest.diastolic}" if newest and newest.systolic else "—"
        rows.append(
            BoardRow(
                programme=programme,
                next_due=next_due,
                last_bp=last_bp,
                tracker_status=tracker,
                supply_left=int(programme.dispensed or 0) - int(programme.used or 0),
                open_flags=flags.get(programme.patient_id, 0),
            )
        )
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="home_programme_board",
        object_id="",
        detail={"programme_ids": ids},
    )
    return rows


def open_dose_of(programme: HomeProgramme) -> HomeDose | None:
    """The dose in progress (gate open or passed), if any."""
    return HomeDose.objects.filter(
        programme=programme, status__in=[DoseStatus.OPEN, DoseStatus.READY]
    ).first()


def tracker_due_dose(programme: HomeProgramme) -> HomeDose | None:
    """The taken dose whose tracker is not in yet, if any."""
    return HomeDose.objects.filter(programme=programme, status=DoseStatus.TAKEN).first()


def active_programme_of(*, patient_id: int) -> HomeProgramme | None:
    """The patient's programme that is not ended, if any."""
    return (
        HomeProgramme.objects.filter(patient_id=patient_id)
        .exclude(status=ProgrammeStatus.ENDED)
        .select_related("clinic", "patient")
        .first()
    )
