"""Consent signatures match the signer; a resubmit signs once; a mistake is entered in error."""

import pytest
from django.utils import timezone

from ketacare.audit.models import AuditEntry
from ketacare.consent.models import ConsentSignature
from ketacare.consent.selectors import consent_status
from ketacare.consent.services import consent_signature_enter_in_error
from ketacare.consent.signers import signature_names_match
from ketacare.errors import Conflict, Refused
from tests.consent.test_consent import _actor, _publish, _sign
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rosa(world):
    return PatientFactory(
        clinic=world.clinic_a, given_name="Rosa", family_name="Delgado", preferred_name="Rosie"
    )


@pytest.mark.parametrize(
    ("typed", "matches"),
    [
        ("Rosa Delgado", True),
        ("  rosa   DELGADO ", True),
        ("Delgado, Rosa", True),
        ("Rosie Delgado", True),
        ("Rosa María Delgado", True),
        ("Maya Castillo", False),
        ("Rosa", False),
        ("Delgado", False),
        ("Rosa Delgad", False),
        ("R. Delgado", False),
    ],
)
def test_the_typed_signature_must_be_the_patients_own_name(typed, matches):
    assert (
        signature_names_match(typed=typed, given_names=["Rosa", "Rosie"], family_name="Delgado")
        is matches
    )


def test_accents_and_apostrophes_do_not_matter():
    assert signature_names_match(typed="Jose OBrien", given_names=["José"], family_name="O'Brien")


def test_another_persons_name_is_refused_as_the_patients_signature(world, rosa):
    version = _publish(world)
    with pytest.raises(Refused) as refused:
        _sign(world, version, patient=rosa, signed_name="Maya Castillo")
    assert refused.value.code == "signature_name_mismatch"
    assert refused.value.field == "signed_name"
    assert not ConsentSignature.objects.exists()


def test_a_named_representative_signs_with_their_relationship(world, rosa):
    version = _publish(world)
    signature = _sign(
        world,
        version,
        patient=rosa,
        signed_name="Maya Castillo",
        representative_name="Maya Castillo",
        representative_relationship="legal_guardian",
    )
    assert signature.representative_relationship == "legal_guardian"
    assert consent_status(patient=rosa, route="iv").signature == signature


def test_a_representative_needs_a_relationship(world, rosa):
    with pytest.raises(Refused) as refused:
        _sign(
            world,
            _publish(world),
            patient=rosa,
            signed_name="Maya Castillo",
            representative_name="Maya Castillo",
        )
    assert refused.value.code == "representative_relationship_required"


def test_a_representative_needs_a_full_name(world, rosa):
    with pytest.raises(Refused) as refused:
        _sign(
            world,
            _publish(world),
            patient=rosa,
            signed_name="Maya",
            representative_name="Maya",
            representative_relationship="parent",
        )
    assert refused.value.code == "representative_name_required"


def test_the_representatives_signature_must_be_their_own_name(world, rosa):
    with pytest.raises(Refused) as refused:
        _sign(
            world,
            _publish(world),
            patient=rosa,
            signed_name="Rosa Delgado",
            representative_name="Maya Castillo",
            representative_relationship="parent",
        )
    assert refused.value.code == "signature_name_mismatch"


def test_a_resubmit_with_a_new_form_key_does_not_make_a_second_live_signature(world, rosa):
    # given one signature
    version = _publish(world)
    first = _sign(world, version, patient=rosa, signed_name="Rosa Delgado", idempotency_key="k1")
    # when Back, reload and submit again (a new key)
    with pytest.raises(Conflict) as refused:
        _sign(world, version, patient=rosa, signed_name="Rosa Delgado", idempotency_key="k2")
    # then one live signature
    assert refused.value.code == "consent_already_signed"
    assert ConsentSignature.objects.filter(patient=rosa).get() == first


def test_the_page_says_already_signed_instead_of_signing_twice(world, rosa):
    version = _publish(world)
    client = world.web(world.staff["front_desk"])
    data = {
        "route": "iv",
        "document_version_id": version.pk,
        "signed_name": "Rosa Delgado",
        "signed_at": "2025-02-03T10:15",
        "witnessed_by": world.staff["nurse"].pk,
        "read_confirmed": "on",
    }
    url = f"/consent/patients/{rosa.pk}/sign/?route=iv"
    assert client.post(url, data | {"idempotency_key": "a"}).status_code == 302
    again = client.post(url, data | {"idempotency_key": "b"})
    assert again.status_code == 409 and "already signed" in again.content.decode()
    assert ConsentSignature.objects.filter(patient=rosa).count() == 1


def test_a_signature_entered_in_error_stays_visible_and_stops_counting(world, rosa):
    # given a signature recorded on the wrong patient
    version = _publish(world)
    wrong = _sign(world, version, patient=rosa, signed_name="Rosa Delgado")
    # when it is marked entered in error
    consent_signature_enter_in_error(
        actor=_actor(world, "nurse"), signature=wrong, reason="Recorded on the wrong chart"
    )
    # then it is no consent, it is kept as it was, and it can be signed again
    wrong.refresh_from_db()
    assert wrong.signed_name == "Rosa Delgado" and wrong.entered_in_error_by == world.staff["nurse"]
    assert consent_status(patient=rosa, route="iv").signature is None
    assert AuditEntry.objects.filter(
        object_type="consent_signature", object_id=str(wrong.pk), detail__entered_in_error=True
    ).exists()
    again = _sign(
        world, version, patient=rosa, signed_name="Rosa Delgado", signed_at=timezone.now()
    )
    assert again.pk != wrong.pk
    page = world.web(world.staff["nurse"]).get(f"/consent/signatures/{wrong.pk}/").content.decode()
    assert "Entered in error" in page and "Recorded on the wrong chart" in page


def test_entered_in_error_needs_a_reason(world, rosa):
    signature = _sign(world, _publish(world), patient=rosa, signed_name="Rosa Delgado")
    with pytest.raises(Refused) as refused:
        consent_signature_enter_in_error(
            actor=_actor(world, "nurse"), signature=signature, reason=""
        )
    assert refused.value.code == "reason_required"


def test_entered_in_error_is_marked_once(world, rosa):
    signature = _sign(world, _publish(world), patient=rosa, signed_name="Rosa Delgado")
    actor = _actor(world, "nurse")
    consent_signature_enter_in_error(actor=actor, signature=signature, reason="Wrong patient")
    with pytest.raises(Conflict) as refused:
        consent_signature_enter_in_error(actor=actor, signature=signature, reason="Again, wrong")
    assert refused.value.code == "already_entered_in_error"


def test_the_entered_in_error_page_action_records_the_reason(world, rosa):
    signature = _sign(world, _publish(world), patient=rosa, signed_name="Rosa Delgado")
    client = world.web(world.staff["nurse"])
    response = client.post(
        f"/consent/signatures/{signature.pk}/entered-in-error/", {"reason": "Wrong text version"}
    )
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.entered_in_error_reason == "Wrong text version"


def test_no_session_is_booked_on_a_consent_entered_in_error(world):
    from tests.scheduling.factories import (
        ChairFactory,
        course_row,
        local,
        next_monday,
        open_every_day,
    )
    from tests.scheduling.test_appointments import refusal

    open_every_day(world.clinic_a)
    course = course_row(world.patient_a, world.staff)
    consent_signature_enter_in_error(
        actor=_actor(world, "nurse"), signature=course.consent, reason="Signed by the wrong person"
    )
    starts = local(world.clinic_a, next_monday(world.clinic_a), 9)
    refused = refusal(world, course, ChairFactory(clinic=world.clinic_a), starts)
    assert refused.code == "consent_withdrawn"


def test_book_an_appointment_from_the_chart_keeps_the_patient(world):
    client = world.web(world.staff["front_desk"])
    form = client.get("/schedule/appointments/new/", {"patient_mrn": world.patient_a.mrn})
    assert form.status_code == 200
    assert f'value="{world.patient_a.mrn}"' in form.content.decode()


def test_the_course_and_screening_forms_preselect_no_protocol(world):
    from ketacare.scheduling.forms import protocol_choices as course_protocols
    from ketacare.screening.views import protocol_choices as screening_protocols

    assert course_protocols()[0][0] == "" and screening_protocols()[0][0] == ""
