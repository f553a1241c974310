"""A chart merged into another stays readable but takes no new writes: each is refused with
`chart_merged`, naming the chart that was kept, so nothing lands where nobody looks."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Refused
from ketacare.followup.services import integration_note_write, questionnaires_assign_now
from ketacare.kernel import clock
from ketacare.outcomes.models import ResponseSource
from ketacare.outcomes.services import scale_response_record
from ketacare.patients.duplicates import patient_merge
from ketacare.patients.models import ChartSection, Patient
from ketacare.patients.selectors import patient_get_for_write
from ketacare.patients.services import (
    chart_section_save,
    intake_complete,
    measurement_record,
    patient_update,
)
from ketacare.scheduling.models import AppointmentKind
from ketacare.scheduling.services import appointment_book
from ketacare.screening.services import screening_run
from ketacare.treatment import services as treatment
from tests.factories import PatientFactory
from tests.treatment.factories import key, session_row

pytestmark = pytest.mark.django_db


def _actor(world, role):
    return Actor(
        user=world.staff[role],
        clinic=world.clinic_a,
        role=Role(role),
        client_address="127.0.0.1",
        reauthenticated_at=timezone.now(),
    )


@pytest.fixture
def merged(world):
    """Two charts of one person; the second merged into the first."""
    keep = PatientFactory(clinic=world.clinic_a, given_name="Rosa", family_name="Delgado")
    duplicate = PatientFactory(clinic=world.clinic_a, given_name="Rosa", family_name="Delgado")
    patient_merge(
        actor=_actor(world, "admin"), keep_id=keep.pk, merge_id=duplicate.pk, reason="Same person"
    )
    duplicate.refresh_from_db()
    return keep, duplicate


def _refused_as_merged(call, keep):
    with pytest.raises(Refused) as refused:
        call()
    assert refused.value.code == "chart_merged"
    assert refused.value.field == "patient_id"
    assert keep.mrn in refused.value.message
    return refused.value


WRITES = {
    "chart section": lambda w, p: chart_section_save(
        actor=_actor(w, "nurse"),
        patient_id=p.pk,
        section="allergies",
        version=0,
        data={"none_known": True, "items": []},
    ),
    "demographics": lambda w, p: patient_update(
        actor=_actor(w, "front_desk"), patient_id=p.pk, version=p.version, changes={"phone": "1"}
    ),
    "measurement": lambda w, p: measurement_record(
        actor=_actor(w, "nurse"),
        patient_id=p.pk,
        measured_on=date(2026, 1, 5),
        weight_kg=Decimal("70"),
    ),
    "intake sign-off": lambda w, p: intake_complete(actor=_actor(w, "nurse"), patient_id=p.pk),
    "screening": lambda w, p: screening_run(
        actor=_actor(w, "nurse"), patient=p, protocol_id="iv_induction_6x"
    ),
    "appointment": lambda w, p: appointment_book(
        actor=_actor(w, "front_desk"),
        patient=p,
        kind=AppointmentKind.CONSULT,
        starts_at=clock.now() + timedelta(days=3),
    ),
    "integration note": lambda w, p: integration_note_write(
        actor=_actor(w, "therapist"),
        patient=p,
        session_id=None,
        body="Talked about the week",
        idempotency_key="merged-note",
    ),
    "questionnaire request": lambda w, p: questionnaires_assign_now(
        actor=_actor(w, "nurse"),
        patient=p,
        instrument_ids=["phq9"],
        idempotency_key="merged-ask",
        now=clock.now(),
    ),
    "portal answer": lambda w, p: scale_response_record(
        actor=None,
        patient=p,
        instrument_id="phq9",
        answers=[0] * 9,
        source=ResponseSource.PORTAL,
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_to_a_merged_chart_is_refused_naming_the_kept_chart(world, merged, write):
    # given a chart merged into another
    keep, duplicate = merged
    # when a write names the merged chart, then it is refused and nothing is written
    _refused_as_merged(lambda: WRITES[write](world, duplicate), keep)
    assert not ChartSection.objects.filter(patient=duplicate).exists()


def test_the_same_writes_to_the_kept_chart_go_through(world, merged):
    keep, _ = merged
    chart_section_save(
        actor=_actor(world, "nurse"),
        patient_id=keep.pk,
        section="allergies",
        version=0,
        data={"none_known": True, "items": []},
    )
    assert ChartSection.objects.filter(patient=keep, section="allergies").exists()


def test_a_session_step_on_a_merged_chart_is_refused(world, merged):
    # given a session left on the merged chart (recorded as the merge committed)
    keep, duplicate = merged
    session = session_row(world.clinic_a, duplicate, world.staff)
    # when a reading is recorded on it, then it is refused
    _refused_as_merged(
        lambda: treatment.monitoring_entry_record(
            actor=_actor(world, "nurse"),
            session_id=session.pk,
            idempotency_key=key(),
            systolic=120,
            diastolic=80,
            heart_rate=70,
            spo2=98,
        ),
        keep,
    )


def test_a_chart_merged_twice_names_the_chart_that_is_live(world, merged):
    # given A merged into B, then B into C
    keep, duplicate = merged
    last = PatientFactory(clinic=world.clinic_a, given_name="Rosa", family_name="Delgado-Ruiz")
    patient_merge(
        actor=_actor(world, "admin"), keep_id=last.pk, merge_id=keep.pk, reason="Same person"
    )
    # then a write to A names C
    refused = _refused_as_merged(
        lambda: patient_get_for_write(actor=_actor(world, "nurse"), patient_id=duplicate.pk), last
    )
    assert (refused.code, "Delgado-Ruiz" in refused.message) == ("chart_merged", True)


def test_the_api_answers_422_chart_merged(world, merged):
    keep, duplicate = merged
    response = world.api(world.staff["nurse"]).put(
        f"/api/v1/patients/{duplicate.pk}/chart/allergies",
        json.dumps({"version": 0, "data": {"none_known": True, "items": []}}),
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert keep.mrn in response.content.decode()
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id == keep.pk


def test_another_clinics_chart_is_not_found_for_a_write(world):
    from django.http import Http404

    with pytest.raises(Http404):
        patient_get_for_write(actor=_actor(world, "nurse"), patient_id=world.patient_b.pk)
