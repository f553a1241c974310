"""Registration warns of duplicates and registers once; two charts merge, audited."""

from datetime import date

import pytest

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.errors import Conflict, Refused
from ketacare.patients.duplicates import patient_merge
from ketacare.patients.models import BodyMeasurement, ChartSection, Patient
from ketacare.patients.services import chart_section_save, patient_create
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _actor(world, role="front_desk"):
    return Actor(user=world.staff[role], clinic=world.clinic_a, role=Role(role))


def _register(world, **overrides):
    fields = {
        "given_name": "Rosa",
        "family_name": "Delgado",
        "date_of_birth": date(1984, 3, 9),
        "phone": "",
        "email": "",
    } | overrides
    return patient_create(actor=_actor(world), **fields)


def test_the_same_name_and_birth_date_is_refused_as_a_possible_duplicate(world):
    # given
    existing = _register(world)
    # when the same person is registered again, typed differently
    with pytest.raises(Conflict) as refused:
        _register(world, given_name=" rosa ", family_name="DELGADO")
    # then the existing chart is named
    assert refused.value.code == "possible_duplicate"
    assert existing.mrn in refused.value.message
    assert "same name and date of birth" in refused.value.message


def test_the_same_phone_is_a_possible_duplicate(world):
    existing = _register(world, phone="(555) 010-4477")
    with pytest.raises(Conflict) as refused:
        _register(world, given_name="R.", date_of_birth=date(1990, 1, 1), phone="+1 555 010 4477")
    assert "same phone" in refused.value.message and existing.mrn in refused.value.message


def test_the_same_email_is_a_possible_duplicate(world):
    _register(world, email="rosa@example.org")
    with pytest.raises(Conflict) as refused:
        _register(
            world, given_name="Rose", date_of_birth=date(1990, 1, 1), email="ROSA@example.org"
        )
    assert "same email" in refused.value.message


def test_a_confirmed_different_person_is_registered_and_the_confirmation_audited(world):
    _register(world)
    twin = _register(world, confirm_not_duplicate=True)
    entry = AuditEntry.objects.filter(patient_id=twin.pk, action="create").get()
    assert entry.detail["duplicate_confirmed"] is True


def test_another_clinics_patient_is_never_a_duplicate(world):
    PatientFactory(
        clinic=world.clinic_b,
        given_name="Rosa",
        family_name="Delgado",
        date_of_birth=date(1984, 3, 9),
    )
    assert _register(world).pk


def test_back_then_save_with_the_same_form_key_registers_once(world):
    # given the form posted once
    first = _register(world, idempotency_key="form-1")
    # when the browser resubmits the same form
    again = _register(world, idempotency_key="form-1")
    # then one chart
    assert again.pk == first.pk
    assert Patient.objects.filter(clinic=world.clinic_a, family_name="Delgado").count() == 1


def test_back_then_save_on_the_page_registers_once_and_a_new_form_warns(world):
    client = world.web(world.staff["front_desk"])
    form = {
        "given_name": "Rosa",
        "family_name": "Delgado",
        "date_of_birth": "1984-03-09",
        "sex": "female",
        "idempotency_key": "k-123",
    }
    assert client.post("/patients/new/", form).status_code == 302
    assert client.post("/patients/new/", form).status_code == 302  # Back, then Save
    fresh = client.post("/patients/new/", form | {"idempotency_key": "k-456"})
    assert fresh.status_code == 409
    assert "This may be a patient already registered" in fresh.content.decode()
    assert Patient.objects.filter(clinic=world.clinic_a, family_name="Delgado").count() == 1
    confirmed = client.post(
        "/patients/new/", form | {"idempotency_key": "k-456", "confirm_not_duplicate": "on"}
    )
    assert confirmed.status_code == 302
    assert Patient.objects.filter(clinic=world.clinic_a, family_name="Delgado").count() == 2


def test_the_api_answers_409_possible_duplicate_and_registers_once_per_key(world):
    client = world.api(world.staff["nurse"])
    body = {"given_name": "Rosa", "family_name": "Delgado", "date_of_birth": "1984-03-09"}
    first = client.post(
        "/api/v1/patients", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a1"
    )
    again = client.post(
        "/api/v1/patients", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a1"
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    dup = client.post("/api/v1/patients", body, content_type="application/json")
    assert dup.status_code == 409 and dup.json()["code"] == "possible_duplicate"


def test_new_charts_get_the_clinics_one_mrn_format(world):
    patient = _register(world)
    assert patient.mrn == f"C{Patient.objects.filter(clinic=world.clinic_a).count():05d}"


def _two_charts(world):
    keep = _register(world)
    duplicate = _register(world, confirm_not_duplicate=True)
    return keep, duplicate


def test_merging_moves_the_duplicates_records_and_keeps_it_readable(world):
    # given a duplicate with a weight and a chart section the kept chart lacks
    keep, duplicate = _two_charts(world)
    nurse = _actor(world, "nurse")
    BodyMeasurement.objects.create(
        clinic=world.clinic_a,
        patient=duplicate,
        measured_on=date(2026, 1, 5),
        weight_kg=70,
        recorded_by=world.staff["nurse"],
    )
    chart_section_save(
        actor=nurse,
        patient_id=duplicate.pk,
        section="allergies",
        version=0,
        data={"none_known": True, "items": []},
    )
    # when the admin merges
    patient_merge(
        actor=_actor(world, "admin"), keep_id=keep.pk, merge_id=duplicate.pk, reason="Same person"
    )
    # then the records are on the kept chart, the duplicate points at it, both trails say so
    assert BodyMeasurement.objects.filter(patient=keep).count() == 1
    assert ChartSection.objects.filter(patient=keep, section="allergies").exists()
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == keep.pk and duplicate.merge_reason == "Same person"
    for pid in (keep.pk, duplicate.pk):
        assert AuditEntry.objects.filter(patient_id=pid, object_type="patient_merge").exists()
    page = world.web(world.staff["admin"]).get(f"/patients/{duplicate.pk}/").content.decode()
    assert "This chart was merged into" in page
    listed = world.web(world.staff["admin"]).get("/patients/", {"q": "Delgado"}).content.decode()
    assert listed.count("Delgado") >= 1 and duplicate.mrn not in listed


def test_a_merge_needs_a_reason(world):
    keep, duplicate = _two_charts(world)
    with pytest.raises(Refused) as refused:
        patient_merge(
            actor=_actor(world, "admin"), keep_id=keep.pk, merge_id=duplicate.pk, reason=" "
        )
    assert refused.value.field == "reason"


def test_a_chart_cannot_be_merged_into_itself(world):
    keep, _ = _two_charts(world)
    with pytest.raises(Refused) as refused:
        patient_merge(actor=_actor(world, "admin"), keep_id=keep.pk, merge_id=keep.pk, reason="x")
    assert refused.value.code == "merge_same_chart"


def test_a_chart_already_merged_cannot_be_merged_again(world):
    keep, duplicate = _two_charts(world)
    admin = _actor(world, "admin")
    patient_merge(actor=admin, keep_id=keep.pk, merge_id=duplicate.pk, reason="Same person")
    with pytest.raises(Conflict) as refused:
        patient_merge(actor=admin, keep_id=keep.pk, merge_id=duplicate.pk, reason="again")
    assert refused.value.code == "already_merged"


def test_different_answers_in_the_same_section_refuse_the_merge(world):
    keep, duplicate = _two_charts(world)
    nurse = _actor(world, "nurse")
    chart_section_save(
        actor=nurse,
        patient_id=keep.pk,
        section="allergies",
        version=0,
        data={"none_known": True, "items": []},
    )
    chart_section_save(
        actor=nurse,
        patient_id=duplicate.pk,
        section="allergies",
        version=0,
        data={"none_known": False, "items": [{"substance": "latex", "reaction": "rash"}]},
    )
    with pytest.raises(Refused) as refused:
        patient_merge(
            actor=_actor(world, "admin"), keep_id=keep.pk, merge_id=duplicate.pk, reason="x"
        )
    assert refused.value.code == "merge_conflict"
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None


def test_only_an_admin_merges_and_another_clinics_chart_is_not_found(world):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    keep, duplicate = _two_charts(world)
    with pytest.raises(PermissionDenied):
        patient_merge(
            actor=_actor(world, "nurse"), keep_id=keep.pk, merge_id=duplicate.pk, reason="x"
        )
    with pytest.raises(Http404):
        patient_merge(
            actor=_actor(world, "admin"), keep_id=keep.pk, merge_id=world.patient_b.pk, reason="x"
        )


def test_the_merge_page_merges_by_mrn(world):
    keep, duplicate = _two_charts(world)
    client = world.web(world.staff["admin"])
    response = client.post(
        f"/patients/{keep.pk}/merge/", {"merge_mrn": duplicate.mrn, "reason": "Registered twice"}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == keep.pk
