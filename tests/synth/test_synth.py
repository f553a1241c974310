"""The synthetic network: built through the models' tables, scored by the core, chained audit."""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from ketacare.accounts.models import Clinic, Membership
from ketacare.audit.services import audit_record, audit_verify
from ketacare.clinical.instruments import score
from ketacare.outcomes.models import QuestionnaireAssignment, SafetyAlert, ScaleResponse
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Appointment, Course
from ketacare.synth.bulk import TableWriter
from ketacare.synth.network import NetworkSpec, build_network
from ketacare.treatment.models import MonitoringEntry, TreatmentSession

pytestmark = pytest.mark.django_db(transaction=True)

SPEC = NetworkSpec(patients=60, clinics=2, seed=7, today=date(2026, 6, 15), audit_per_patient=10)


def _fingerprint() -> list[tuple[object, ...]]:
    return list(
        ScaleResponse.objects.order_by("id").values_list("patient__mrn", "total", "recorded_at")
    )


def test_a_network_spreads_patients_over_clinics_with_their_histories():
    # when
    report = build_network(SPEC, progress=lambda line: None)
    # then
    assert [size for _, size in report.clinics] == [30, 30]
    assert Patient.objects.count() == 60
    for clinic in Clinic.objects.filter(slug__startswith="synth-"):
        assert Patient.objects.filter(clinic=clinic).count() == 30
        assert Membership.objects.filter(clinic=clinic, role="prescriber").exists()
    assert Course.objects.count() >= 60
    assert TreatmentSession.objects.count() > 100
    assert MonitoringEntry.objects.count() == 4 * TreatmentSession.objects.count()
    assert Appointment.objects.filter(status="booked").exists()  # some courses still running
    assert QuestionnaireAssignment.objects.filter(status="completed").exists()
    assert report.rows["audit_auditentry"] == 600


def test_every_row_belongs_to_its_patients_clinic():
    build_network(SPEC, progress=lambda line: None)
    for model in (Course, Appointment, TreatmentSession, ScaleResponse, SafetyAlert):
        assert not model.objects.exclude(clinic_id=F("patient__clinic_id")).exists(), model
    assert not MonitoringEntry.objects.exclude(clinic_id=F("session__clinic_id")).exists()


def test_scores_and_alerts_are_the_cores():
    build_network(SPEC, progress=lambda line: None)
    for response in ScaleResponse.objects.all()[:200]:
        result = score(response.instrument_id, response.answers)
        assert (result.total, result.band, list(result.alerts)) == (
            response.total,
            response.band,
            response.alerts,
        )
    for alert in SafetyAlert.objects.filter(code="suicidality"):
        assert "suicidality" in ScaleResponse.objects.get(pk=alert.response_id).alerts


def test_the_audit_trail_it_writes_verifies():
    build_network(SPEC, progress=lambda line: None)
    # (the links themselves: signed checkpoints other tests wrote describe other databases)
    report = audit_verify(use_checkpoints=False)
    assert report.ok, [p.describe() for p in report.problems]
    assert report.entries == 600
    # and the app appends after it (the id sequences moved past the loaded rows)
    clinic = Clinic.objects.get(slug="synth-1")
    audit_record(actor=None, action="read", object_type="patient", clinic_id=clinic.pk)
    assert audit_verify(use_checkpoints=False).ok


def test_the_same_seed_and_day_give_the_same_network():
    build_network(SPEC, progress=lambda line: None)
    first = _fingerprint()
    call_command("flush", interactive=False, verbosity=0)
    build_network(SPEC, progress=lambda line: None)
    assert _fingerprint() == first


def test_building_over_an_existing_network_is_refused():
    build_network(SPEC, progress=lambda line: None)
    with pytest.raises(CommandError, match="exist already"):
        call_command("synth", "--patients", "10", "--clinics", "1")


def test_a_value_outside_a_fields_choices_never_loads():
    writer = TableWriter(
        Patient,
        ["id", "clinic_id", "mrn", "given_name", "family_name"]
        + ["date_of_birth", "sex", "created_at", "updated_at"],
    )
    with pytest.raises(ValueError, match="sex"):
        writer.add(
            1,
            1,
            "M1",
            "A",
            "B",
            "1980-01-01",
            "other",
            "2026-01-01 00:00:00",
            "2026-01-01 00:00:00",
        )


def test_a_required_column_left_out_is_refused_by_name():
    with pytest.raises(ValueError, match="clinic_id"):
        TableWriter(Patient, ["id", "mrn"])
