"""Reads of patients and their charts, scoped to the actor's clinic and audited."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.eligibility import IntakeFacts
from ketacare.errors import Refused
from ketacare.kernel import clinic_time
from ketacare.pagination import KeysetPage, keyset_page
from ketacare.patients.facts import facts_from_chart, pregnancy_possible
from ketacare.patients.models import (
    BodyMeasurement,
    ChartSection,
    ChartSectionRevision,
    IntakeStatus,
    Patient,
)
from ketacare.patients.sections import INTAKE_STEPS, SECTION_KEYS, SECTIONS


def patients_of_clinic(*, actor: Actor) -> QuerySet[Patient]:
    """Every query for patients starts here: the actor's clinic only."""
    return Patient.objects.filter(clinic_id=actor.clinic_id)


def patient_get_for_actor(
    *,
    actor: Actor,
    patient_id: int,
    permission: Permission = Permission.PATIENT_VIEW,
    audit: bool = True,
) -> Patient:
    """One patient of the actor's clinic; another clinic's patient is not found (404)."""
    actor.require(permission)
    patient = patients_of_clinic(actor=actor).select_related("clinic").filter(pk=patient_id).first()
    if patient is None:
        raise Http404("Patient not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="patient",
            object_id=patient.pk,
            patient_id=patient.pk,
        )
    return patient


MERGED_CHART = "chart_merged"
_MAX_MERGE_HOPS = 10


def patient_writable(patient: Patient) -> Patient:
    """Refuse a write to a chart merged into another (`chart_merged`), naming the chart kept.

    A merged chart stays readable, but everything new is written on the chart it was merged into,
    so nothing lands where nobody looks. The caller holds the patient's row lock (see
    `patient_lock_for_write`), so a merge and a write to the same chart cannot interleave.
    """
    if patient.merged_into_id is None:
        return patient
    surviving = Patient.objects.filter(pk=patient.merged_into_id).first()
    # A chart kept by one merge may itself have been merged later: name the chart that is live.
    for _hop in range(_MAX_MERGE_HOPS):
        if surviving is None or surviving.merged_into_id is None:
            break
        surviving = Patient.objects.filter(pk=surviving.merged_into_id).first()
    named = (
        f"{surviving.display_name} ({surviving.mrn})" if surviving is not None else "another chart"
    )
    raise Refused(
        f"{patient.mrn} was merged into {named}; record this on that chart instead.",
        field="patient_id",
        code=MERGED_CHART,
    )


def patient_lock_for_write(*, clinic_id: int, patient_id: int) -> Patient:
    """Lock one patient of the clinic for a write and refuse a merged chart (`chart_merged`).

    Every service that writes patient data fetches or re-checks its patient here, under the row
    lock that `patient_merge` also takes, so a write cannot land on a chart being merged away.
    """
    patient = (
        Patient.objects.select_for_update()
        .filter(pk=patient_id, clinic_id=clinic_id)
        .select_related("clinic")
        .first()
    )
    if patient is None:
        raise Http404("Patient not found.")
    return patient_writable(patient)


def patient_get_for_write(
    *, actor: Actor, patient_id: int, permission: Permission | None = None
) -> Patient:
    """One patient of the actor's clinic, locked for a write; another clinic's is not found
    (404) and a chart merged into another is refused (`chart_merged`). The write audits itself."""
    if permission is not None:
        actor.require(permission)
    return patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient_id)


def _name_starts(search: str, key: str) -> Q:
    """Names starting with `search`, whatever the case, through the index on the lower-cased
    name. PostgreSQL answers the prefix from its pattern index; SQLite's LIKE ignores case and
    so cannot use a plain index, so it gets the same prefix as a range of the index as well."""
    prefix = search.lower()
    condition = Q(**{f"{key}__startswith": prefix})
    if connection.vendor == "sqlite":
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        condition &= Q(**{f"{key}__gte": prefix, f"{key}__lt": after})
    return condition


def _patients_matching(actor: Actor, search: str) -> QuerySet[Patient]:
    patients = patients_of_clinic(actor=actor)
    if search:
        patients = patients.filter(
            _name_starts(search, "family_name_key")
            | _name_starts(search, "given_name_key")
            | Q(mrn=search)
            | Q(mrn=search.upper())
        )
    return patients


def patient_list(
    *, actor: Actor, search: str = "", limit: int = 50, offset: int = 0
) -> list[Patient]:
    """A page of the clinic's patients whose family or given name starts with `search` (any
    case), or whose MRN it is; the read is audited."""
    actor.require(Permission.PATIENT_LIST)
    search = search.strip()
    rows = (
        _patients_matching(actor, search)
        .filter(merged_into__isnull=True)
        .order_by("family_name", "given_name", "id")
    )
    page = list(rows[offset : offset + limit])
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="patient",
        detail={"search": search, "offset": offset, "patient_ids": [p.pk for p in page]},
    )
    return page


def patient_page(
    *, actor: Actor, search: str = "", after: str | None = None, size: int = 50
) -> KeysetPage[Patient]:
    """Like `patient_list`, as keyset pages by name: the last page costs what the first does."""
    actor.require(Permission.PATIENT_LIST)
    search = search.strip()
    page = keyset_page(
        _patients_matching(actor, search).filter(merged_into__isnull=True),
        keys=("family_name", "given_name", "id"),
        cursor=after,
        size=size,
        descending=False,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="patient",
        detail={"search": search, "after": after or "", "patient_ids": [p.pk for p in page]},
    )
    return page


def _latest_measured(patient: Patient, field: str) -> Decimal | None:
    """The most recent recorded (not voided) value of one measurement field, or None."""
    return (
        BodyMeasurement.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            voided_at__isnull=True,
            **{f"{field}__isnull": False},
        )
        .order_by("-measured_on", "-id")
        .values_list(field, flat=True)
        .first()
    )


def latest_height_cm(*, patient: Patient) -> Decimal | None:
    """The most recent recorded (not voided) height, or None when the chart has none."""
    return _latest_measured(patient, "height_cm")


def latest_weight_kg(*, patient: Patient) -> Decimal | None:
    """The most recent recorded (not voided) weight, or None."""
    return _latest_measured(patient, "weight_kg")


def latest_weight_dated(*, patient: Patient) -> tuple[Decimal, date] | None:
    """The most recent recorded (not voided) weight and the day it was measured, or None."""
    row = (
        BodyMeasurement.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            voided_at__isnull=True,
            weight_kg__isnull=False,
        )
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", "measured_on")
        .first()
    )
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def latest_height_and_weight(*, patient: Patient) -> tuple[Decimal | None, Decimal | None]:
    """The latest height and the latest weight in one query (each may come from another day)."""

    def latest(field: str) -> Subquery:
        return Subquery(
            BodyMeasurement.objects.filter(
                clinic_id=patient.clinic_id,
                patient_id=OuterRef("pk"),
                voided_at__isnull=True,
                **{f"{field}__isnull": False},
            )
            .order_by("-measured_on", "-id")
            .values(field)[:1],
            output_field=DecimalField(max_digits=5, decimal_places=1),
        )

    row = (
        Patient.objects.filter(pk=patient.pk, clinic_id=patient.clinic_id)
        .annotate(latest_height=latest("height_cm"), latest_weight=latest("weight_kg"))
        .values_list("latest_height", "latest_weight")
        .first()
    )
    return row if row is not None else (None, None)


# --- the chart ----------------------------------------------------------------------------------

MEASUREMENTS_SHOWN = 10


def clinic_today(patient: Patient) -> date:
    """Today's date where the patient's clinic is (ages turn over at the clinic's midnight)."""
    return clinic_time.clinic_today(patient.clinic)


def chart_sections_of(*, patient: Patient) -> dict[str, ChartSection]:
    """The patient's recorded chart sections by key (one query)."""
    rows = ChartSection.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    return {row.section: row for row in rows.select_related("updated_by")}


def measurements_of(*, patient: Patient, limit: int = MEASUREMENTS_SHOWN) -> list[BodyMeasurement]:
    """The patient's most recent measurements, voided ones included (marked), newest first."""
    return list(
        BodyMeasurement.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("recorded_by", "voided_by")
        .order_by("-measured_on", "-id")[:limit]
    )


@dataclass(frozen=True)
class IntakeStep:
    """One step of the intake: done, or still to do (or not applicable to this patient)."""

    key: str
    label: str
    done: bool
    applicable: bool = True


@dataclass(frozen=True)
class IntakeProgress:
    """The intake's status and its steps in the clinic's order."""

    status: str
    steps: list[IntakeStep]

    @property
    def done_count(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def percent(self) -> int:
        return round(100 * self.done_count / self.total)

    @property
    def missing(self) -> list[IntakeStep]:
        return [step for step in self.steps if not step.done]

    @property
    def next_step(self) -> str:
        """The first step still to do (the last step when all are done)."""
        return self.missing[0].key if self.missing else self.steps[-1].key

    @property
    def status_label(self) -> str:
        return IntakeStatus(self.status).label


def intake_progress(
    *,
    patient: Patient,
    recorded_sections: Mapping[str, Any],
    has_height: bool,
    has_weight: bool,
) -> IntakeProgress:
    """Which intake steps are done, from what the chart holds (no queries)."""
    steps = []
    for key, label in INTAKE_STEPS:
        applicable = True
        if key == "demographics":
            done = True  # registration requires name, date of birth and sex
        elif key == "measurements":
            done = has_height and has_weight
        elif key == "pregnancy" and not pregnancy_possible(patient.sex):
            done, applicable = True, False
        else:
            done = key in recorded_sections
        steps.append(IntakeStep(key, label, done, applicable))
    return IntakeProgress(status=patient.intake_status, steps=steps)


def intake_progress_of(*, patient: Patient) -> IntakeProgress:
    """The patient's intake progress (two queries)."""
    recorded = set(
        ChartSection.objects.filter(clinic_id=patient.clinic_id, patient=patient).values_list(
            "section", flat=True
        )
    )
    height, weight = latest_height_and_weight(patient=patient)
    return intake_progress(
        patient=patient,
        recorded_sections=dict.fromkeys(recorded),
        has_height=height is not None,
        has_weight=weight is not None,
    )


@dataclass(frozen=True)
class Chart:
    """What the actor may see of a patient's chart, with the intake's progress."""

    patient: Patient
    sections: dict[str, ChartSection]
    visible_sections: tuple[str, ...]
    measurements: list[BodyMeasurement]
    height_cm: Decimal | None
    weight_kg: Decimal | None
    progress: IntakeProgress
    hidden_sections: tuple[str, ...] = field(default=())

    def facts(self, today: date | None = None) -> IntakeFacts:
        """The eligibility facts from this chart (no queries); needs every section visible."""
        if self.hidden_sections:
            raise PermissionError("The eligibility facts need the whole chart.")
        return facts_from_chart(
            date_of_birth=self.patient.date_of_birth,
            sex=self.patient.sex,
            today=today or clinic_today(self.patient),
            sections={key: row.data for key, row in self.sections.items()},
            weight_kg=self.weight_kg,
        )

    def data(self, key: str) -> dict[str, Any] | None:
        """A visible section's stored data, or None when not recorded."""
        row = self.sections.get(key)
        return row.data if row is not None and key in self.visible_sections else None


def chart_for_actor(*, actor: Actor, patient_id: int) -> Chart:
    """The patient's chart, holding only the sections the actor's role may see; the read is audited.

    Front desk sees demographics and contacts; clinical sections need `chart.view`.
    """
    patient = patient_get_for_actor(actor=actor, patient_id=patient_id, audit=False)
    visible = tuple(key for key in SECTION_KEYS if actor.can(SECTIONS[key].view_permission))
    recorded = chart_sections_of(patient=patient)
    sections = {key: row for key, row in recorded.items() if key in visible}
    clinical = actor.can(Permission.CHART_VIEW)
    height, weight = latest_height_and_weight(patient=patient)
    measurements = measurements_of(patient=patient) if clinical else []
    progress = intake_progress(
        patient=patient,
        recorded_sections=recorded,
        has_height=height is not None,
        has_weight=weight is not None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="patient",
        object_id=patient.pk,
        patient_id=patient.pk,
        detail={"chart_sections": sorted(sections), "measurements": bool(measurements)},
    )
    return Chart(
        patient=patient,
        sections=sections,
        visible_sections=visible,
        measurements=measurements,
        height_cm=height if clinical else None,
        weight_kg=weight if clinical else None,
        progress=progress,
        hidden_sections=tuple(key for key in SECTION_KEYS if key not in visible),
    )


def chart_section_for_actor(
    *, actor: Actor, patient_id: int, section: str
) -> tuple[Patient, ChartSection | None]:
    """One section of a patient's chart (None when not recorded yet); the read is audited."""
    spec = SECTIONS.get(section)
    if spec is None:
        raise Refused(f"Unknown chart section {section!r}.", field="section")
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=spec.view_permission, audit=False
    )
    row = (
        ChartSection.objects.filter(clinic_id=actor.clinic_id, patient=patient, section=section)
        .select_related("updated_by")
        .first()
    )
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="chart_section",
        object_id=row.pk if row else "",
        patient_id=patient.pk,
        detail={"section": section},
    )
    return patient, row


def chart_section_history(
    *, actor: Actor, patient_id: int, section: str, limit: int = 50
) -> tuple[Patient, list[ChartSectionRevision]]:
    """A section's saved states, newest first, with who changed what; the read is audited."""
    if section == "demographics":
        permission = Permission.PATIENT_VIEW
    elif section in SECTIONS:
        permission = SECTIONS[section].view_permission
    else:
        raise Refused(f"Unknown chart section {section!r}.", field="section")
    actor.require(Permission.CHART_VIEW)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=permission, audit=False
    )
    revisions = list(
        ChartSectionRevision.objects.filter(
            clinic_id=actor.clinic_id, patient=patient, section=section
        )
        .select_related("changed_by")
        .order_by("-version")[:limit]
    )
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="chart_history",
        object_id=section,
        patient_id=patient.pk,
        detail={"section": section, "versions": [r.version for r in revisions]},
    )
    return patient, revisions


def measurement_for_actor(*, actor: Actor, measurement_id: int) -> BodyMeasurement:
    """One measurement of the actor's clinic (404 otherwise)."""
    actor.require(Permission.CHART_VIEW)
    measurement = BodyMeasurement.objects.filter(
        clinic_id=actor.clinic_id, pk=measurement_id
    ).first()
    if measurement is None:
        raise Http404("Measurement not found.")
    return measurement


def intake_facts_for(*, patient: Patient, today: date | None = None) -> IntakeFacts:
    """The patient's chart as the eligibility engine's facts (the one mapping; two queries).

    Unrecorded sections are None, so the engine names them as missing. Not audited: callers
    (screening) audit their own read.
    """
    sections = dict(
        ChartSection.objects.filter(clinic_id=patient.clinic_id, patient=patient).values_list(
            "section", "data"
        )
    )
    return facts_from_chart(
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        today=today or clinic_today(patient),
        sections=sections,
        weight_kg=latest_weight_kg(patient=patient),
    )


def patients_for_audit_search(actor: Actor, query: str) -> dict[int, str]:
    """The clinic's patients matching an MRN exactly or every word of a name, as {id: label}."""
    patients = Patient.objects.filter(clinic_id=actor.clinic_id)
    by_mrn = patients.filter(mrn__iexact=query)
    matches = by_mrn
    if not by_mrn.exists():
        matches = patients
        for word in query.split()[:4]:
            matches = matches.filter(Q(family_name__icontains=word) | Q(given_name__icontains=word))
    return {p.pk: str(p) for p in matches.order_by("family_name", "given_name")[:200]}


def patients_for_audit_labels(actor: Actor, patient_ids: list[int]) -> dict[int, str]:
    """Labels of the clinic's patients among `patient_ids`, as {id: "Family, Given (MRN)"}."""
    patients = Patient.objects.filter(clinic_id=actor.clinic_id, pk__in=patient_ids)
    return {p.pk: str(p) for p in patients}
