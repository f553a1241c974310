"""Chart sections, measurements and the intake: validated, versioned, kept in history, audited."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.audit.models import AppendOnlyError, AuditEntry
from ketacare.errors import Conflict, Refused
from ketacare.patients import selectors, services
from ketacare.patients.models import ChartSectionRevision, IntakeStatus
from tests.patients.factories import (
    BodyMeasurementFactory,
    chart_for,
    complete_chart,
    eligible_chart,
)

pytestmark = pytest.mark.django_db


def _actor(world, role="nurse", clinic=None):
    user = world.staff[role] if clinic is None else world.outsiders[role]
    return Actor(user=user, clinic=clinic or world.clinic_a, role=Role(role))


def _save(world, section, data, version=0, role="nurse"):
    return services.chart_section_save(
        actor=_actor(world, role),
        patient_id=world.patient_a.pk,
        section=section,
        version=version,
        data=data,
    )


def test_a_nurse_records_a_section_and_it_starts_the_intake(world):
    # when
    row = _save(world, "medicines", {"items": [{"generic_name": "Sertraline", "dose": "50 mg"}]})
    # then it is stored as validated data at version 1
    assert row.version == 1
    assert row.data["items"][0]["generic_name"] == "sertraline"
    world.patient_a.refresh_from_db()
    assert world.patient_a.intake_status == IntakeStatus.IN_PROGRESS
    # and the write is audited with the section's name
    entry = AuditEntry.objects.filter(object_type="chart_section").latest("seq")
    assert (entry.action, entry.detail["section"], entry.patient_id) == (
        "create",
        "medicines",
        world.patient_a.pk,
    )


def test_each_change_keeps_a_revision_naming_the_fields_that_changed(world):
    first = _save(world, "medicines", {"none_known": True})
    second = _save(
        world, "medicines", {"items": [{"generic_name": "bupropion"}]}, version=first.version
    )
    revisions = list(
        ChartSectionRevision.objects.filter(patient=world.patient_a, section="medicines")
    )
    assert [r.version for r in revisions] == [2, 1]
    assert revisions[0].changed_fields == ["items", "none_known"]
    assert revisions[0].changed_by == world.staff["nurse"]
    assert revisions[1].data == {"none_known": True, "items": []}
    assert second.version == 2


def test_saving_from_a_stale_version_is_refused_and_nothing_changes(world):
    _save(world, "allergies", {"none_known": True})
    _save(world, "allergies", {"items": [{"substance": "penicillin"}]}, version=1)
    # when someone saves from version 1 again
    with pytest.raises(Conflict) as refused:
        _save(world, "allergies", {"none_known": True}, version=1)
    # then the newer content stands
    assert refused.value.field == "version"
    _, row = selectors.chart_section_for_actor(
        actor=_actor(world), patient_id=world.patient_a.pk, section="allergies"
    )
    assert row.data["items"][0]["substance"] == "penicillin"


def test_recording_a_section_someone_else_just_recorded_is_a_conflict(world):
    _save(world, "allergies", {"none_known": True})
    with pytest.raises(Conflict):
        _save(world, "allergies", {"none_known": True}, version=0)


def test_saving_the_same_data_again_writes_nothing(world):
    row = _save(world, "substance_use", {"none_known": True})
    again = _save(world, "substance_use", {"none_known": True}, version=row.version)
    assert again.version == 1
    assert ChartSectionRevision.objects.filter(section="substance_use").count() == 1


@pytest.mark.parametrize(
    ("section", "data", "field"),
    [
        ("medicines", {"items": []}, ""),
        ("medicines", {"none_known": True, "items": [{"generic_name": "x1"}]}, ""),
        ("diagnoses", {"items": [{"icd10": "depression", "description": "x"}]}, "icd10"),
        ("medical_history", {"conditions": ["feeling_fine"]}, "conditions"),
        ("baseline_vitals", {"measured_at": "2020-01-01T09:00:00", "systolic_mmhg": 120}, ""),
        (
            "baseline_vitals",
            {
                "measured_at": "2020-01-01T09:00:00+00:00",
                "systolic_mmhg": 80,
                "diastolic_mmhg": 120,
            },
            "",
        ),
        ("contact", {"emergency_contact_name": "A", "shoe_size": 9}, ""),
    ],
)
def test_invalid_section_data_is_refused_and_writes_nothing(world, section, data, field):
    with pytest.raises(Refused) as refused:
        _save(world, section, data)
    assert field in (refused.value.field or "")
    assert not ChartSectionRevision.objects.filter(section=section).exists()


def test_front_desk_edits_contacts_but_not_the_clinical_chart(world):
    data = eligible_chart()
    _save(world, "contact", data["contact"], role="front_desk")
    with pytest.raises(PermissionDenied):
        _save(world, "medicines", data["medicines"], role="front_desk")
    with pytest.raises(PermissionDenied):
        selectors.chart_section_for_actor(
            actor=_actor(world, "front_desk"), patient_id=world.patient_a.pk, section="diagnoses"
        )


def test_another_clinics_patient_is_not_found(world):
    with pytest.raises(Http404):
        services.chart_section_save(
            actor=_actor(world, clinic=world.clinic_b),
            patient_id=world.patient_a.pk,
            section="allergies",
            version=0,
            data={"none_known": True},
        )


def test_front_desk_sees_contacts_and_not_the_clinical_sections_of_the_chart(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    chart = selectors.chart_for_actor(
        actor=_actor(world, "front_desk"), patient_id=world.patient_a.pk
    )
    assert set(chart.sections) == {"contact"}
    assert chart.measurements == [] and chart.weight_kg is None
    nurse_chart = selectors.chart_for_actor(actor=_actor(world), patient_id=world.patient_a.pk)
    assert "medicines" in nurse_chart.sections and nurse_chart.weight_kg == Decimal("70.0")


def test_the_intake_completes_only_when_every_step_is_done(world):
    _save(world, "contact", eligible_chart()["contact"])
    with pytest.raises(Refused) as refused:
        services.intake_complete(actor=_actor(world), patient_id=world.patient_a.pk)
    assert "height and weight" in refused.value.message
    complete_chart(world.patient_a, world.staff["nurse"])
    patient = services.intake_complete(actor=_actor(world), patient_id=world.patient_a.pk)
    assert patient.intake_status == IntakeStatus.COMPLETE
    assert patient.intake_completed_by == world.staff["nurse"]


def test_a_male_patient_completes_intake_without_a_pregnancy_section(world):
    world.patient_a.sex = "male"
    world.patient_a.save()
    sections = {k: v for k, v in eligible_chart().items() if k != "pregnancy"}
    chart_for(world.patient_a, world.staff["nurse"], sections)
    BodyMeasurementFactory(patient=world.patient_a, recorded_by=world.staff["nurse"])
    progress = selectors.intake_progress_of(patient=world.patient_a)
    pregnancy = next(s for s in progress.steps if s.key == "pregnancy")
    assert (pregnancy.done, pregnancy.applicable) == (True, False)
    assert progress.missing == []


def test_saving_a_section_does_not_make_an_open_demographics_form_stale(world):
    version = world.patient_a.version
    _save(world, "allergies", {"none_known": True})
    world.patient_a.refresh_from_db()
    assert world.patient_a.version == version


def test_a_demographics_change_is_kept_in_the_history_like_any_section(world):
    services.patient_update(
        actor=_actor(world),
        patient_id=world.patient_a.pk,
        version=world.patient_a.version,
        changes={"family_name": "Quill"},
    )
    _, revisions = selectors.chart_section_history(
        actor=_actor(world), patient_id=world.patient_a.pk, section="demographics"
    )
    assert revisions[0].changed_fields == ["family_name"]
    assert revisions[0].data["family_name"] == "Quill"


def test_chart_history_is_append_only(world):
    _save(world, "allergies", {"none_known": True})
    revision = ChartSectionRevision.objects.get(section="allergies")
    with pytest.raises(AppendOnlyError):
        revision.save()
    with pytest.raises(AppendOnlyError):
        ChartSectionRevision.objects.filter(pk=revision.pk).update(changed_fields=[])
    with pytest.raises(AppendOnlyError):
        revision.delete()


def test_a_measurement_is_recorded_and_the_latest_counts(world):
    actor = _actor(world)
    yesterday = date.today() - timedelta(days=1)  # noqa: DTZ011
    services.measurement_record(
        actor=actor, patient_id=world.patient_a.pk, measured_on=yesterday, height_cm=Decimal("172")
    )
    services.measurement_record(
        actor=actor,
        patient_id=world.patient_a.pk,
        measured_on=yesterday,
        weight_kg=Decimal("81.25"),
    )
    assert selectors.latest_height_cm(patient=world.patient_a) == Decimal("172.0")
    assert selectors.latest_weight_kg(patient=world.patient_a) == Decimal("81.2")
    assert selectors.latest_height_and_weight(patient=world.patient_a) == (
        Decimal("172.0"),
        Decimal("81.2"),
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({}, "weight_kg"),
        ({"weight_kg": Decimal("800")}, "weight_kg"),
        ({"height_cm": Decimal("17.2")}, "height_cm"),
    ],
)
def test_an_implausible_measurement_is_refused(world, values, field):
    with pytest.raises(Refused) as refused:
        services.measurement_record(
            actor=_actor(world),
            patient_id=world.patient_a.pk,
            measured_on=date(2025, 1, 1),
            **values,
        )
    assert refused.value.field == field


def test_a_measurement_in_the_future_is_refused(world):
    with pytest.raises(Refused):
        services.measurement_record(
            actor=_actor(world),
            patient_id=world.patient_a.pk,
            measured_on=date.today() + timedelta(days=2),  # noqa: DTZ011
            weight_kg=Decimal("70"),
        )


def test_a_voided_weight_no_longer_counts_and_cannot_be_voided_twice(world):
    BodyMeasurementFactory(
        patient=world.patient_a, measured_on=date(2025, 1, 1), weight_kg=Decimal("70")
    )
    typo = BodyMeasurementFactory(
        patient=world.patient_a, measured_on=date(2025, 2, 1), weight_kg=Decimal("45")
    )
    services.measurement_void(actor=_actor(world), measurement_id=typo.pk, reason="typed 45 for 54")
    assert selectors.latest_weight_kg(patient=world.patient_a) == Decimal("70")
    with pytest.raises(Conflict):
        services.measurement_void(actor=_actor(world), measurement_id=typo.pk, reason="again")
    with pytest.raises(Refused):
        services.measurement_void(actor=_actor(world), measurement_id=typo.pk, reason="  ")


def test_intake_facts_come_from_the_chart(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    facts = selectors.intake_facts_for(patient=world.patient_a)
    assert facts.medicines == ["sertraline"]
    assert (facts.systolic_mmhg, facts.diastolic_mmhg) == (122, 78)
    assert facts.weight_kg == Decimal("70.0")
