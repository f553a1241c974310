"""Integration sessions are booked with a therapist of the clinic: rules, pages, API, tenancy."""

from datetime import timedelta

import pytest

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone, local_date
from ketacare.scheduling import services
from ketacare.scheduling.models import Appointment, AppointmentKind
from tests.factories import PatientFactory, member
from tests.scheduling.factories import ChairFactory, local, next_monday, open_every_day

pytestmark = pytest.mark.django_db


def desk(world):
    return Actor(user=world.staff["front_desk"], clinic=world.clinic_a, role=Role.FRONT_DESK)


@pytest.fixture
def monday(world):
    open_every_day(world.clinic_a)
    return next_monday(world.clinic_a)


def book_integration(world, monday, *, therapist, patient=None, hour=10, **extra):
    return services.appointment_book(
        actor=desk(world),
        patient=patient or world.patient_a,
        starts_at=local(world.clinic_a, monday, hour),
        kind=AppointmentKind.INTEGRATION,
        therapist=therapist,
        **extra,
    )


# --- the service ---------------------------------------------------------------------------------


def test_an_integration_session_is_booked_with_the_clinics_therapist(world, monday):
    appointment = book_integration(world, monday, therapist=world.staff["therapist"])
    assert appointment.therapist_id == world.staff["therapist"].pk
    assert appointment.chair_id is None
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)


def test_an_integration_session_without_a_therapist_is_refused_therapist_required(world, monday):
    with pytest.raises(Refused) as refused:
        book_integration(world, monday, therapist=None)
    assert refused.value.code == "therapist_required"
    assert refused.value.field == "therapist_id"
    assert not Appointment.objects.exists()


def test_a_consultation_with_a_therapist_is_refused_therapist_not_applicable(world, monday):
    with pytest.raises(Refused) as refused:
        services.appointment_book(
            actor=desk(world),
            patient=world.patient_a,
            starts_at=local(world.clinic_a, monday, 10),
            kind=AppointmentKind.CONSULT,
            therapist=world.staff["therapist"],
        )
    assert refused.value.code == "therapist_not_applicable"


@pytest.mark.parametrize("who", ["nurse", "outside_therapist", "former_therapist"])
def test_someone_who_is_not_a_therapist_of_the_clinic_is_refused_not_a_clinic_therapist(
    world, monday, who
):
    if who == "nurse":
        person = world.staff["nurse"]
    elif who == "outside_therapist":
        person = world.outsiders["therapist"]
    else:
        person = member(world.clinic_a, Role.THERAPIST, "a.former")
        person.memberships.update(is_active=False)
    with pytest.raises(Refused) as refused:
        book_integration(world, monday, therapist=person)
    assert refused.value.code == "not_a_clinic_therapist"
    assert not Appointment.objects.exists()


def test_a_therapist_already_booked_at_that_time_is_refused_therapist_busy(world, monday):
    therapist = world.staff["therapist"]
    book_integration(world, monday, therapist=therapist, hour=10)
    other = PatientFactory(clinic=world.clinic_a)
    with pytest.raises(Refused) as refused:
        book_integration(world, monday, therapist=therapist, patient=other, hour=10, minutes=30)
    assert refused.value.code == "therapist_busy"
    assert refused.value.field == "therapist_id"
    # the next hour is free
    assert book_integration(world, monday, therapist=therapist, patient=other, hour=11)


def test_a_cancelled_session_frees_the_therapist(world, monday):
    therapist = world.staff["therapist"]
    first = book_integration(world, monday, therapist=therapist)
    services.appointment_cancel(
        actor=desk(world), appointment=first, version=first.version, reason="Unwell"
    )
    other = PatientFactory(clinic=world.clinic_a)
    assert book_integration(world, monday, therapist=therapist, patient=other).pk != first.pk


def test_rescheduling_onto_the_therapists_other_session_is_refused_therapist_busy(world, monday):
    therapist = world.staff["therapist"]
    book_integration(world, monday, therapist=therapist, hour=10)
    other = PatientFactory(clinic=world.clinic_a)
    later = book_integration(world, monday, therapist=therapist, patient=other, hour=13)
    with pytest.raises(Refused) as refused:
        services.appointment_reschedule(
            actor=desk(world),
            appointment=later,
            version=later.version,
            starts_at=local(world.clinic_a, monday, 10, 30),
            reason="Patient asked",
        )
    assert refused.value.code == "therapist_busy"
    moved = services.appointment_reschedule(
        actor=desk(world),
        appointment=later,
        version=later.version,
        starts_at=local(world.clinic_a, monday, 15),
        reason="Patient asked",
    )
    assert moved.therapist_id == therapist.pk


# --- pages ---------------------------------------------------------------------------------------


def test_the_booking_form_offers_only_the_clinics_therapists(world):
    client = world.web(world.staff["front_desk"])
    response = client.get("/schedule/appointments/new/", {"patient_mrn": world.patient_a.mrn})
    page = response.content.decode()
    assert response.status_code == 200
    assert f'value="{world.staff["therapist"].pk}"' in page
    assert f'value="{world.outsiders["therapist"].pk}"' not in page
    assert f'value="{world.staff["nurse"].pk}"' not in page
    assert f'value="{world.patient_a.mrn}"' in page  # the chart's patient is kept


def _post_booking(client, world, monday, therapist_id):
    return client.post(
        "/schedule/appointments/new/",
        {
            "patient_mrn": world.patient_a.mrn,
            "kind": AppointmentKind.INTEGRATION,
            "therapist": therapist_id,
            "starts_at": local(world.clinic_a, monday, 10)
            .astimezone(clinic_zone(world.clinic_a))
            .strftime("%Y-%m-%dT%H:%M"),
            "idempotency_key": "k1",
        },
    )


def test_booking_with_the_clinics_therapist_from_the_form(world, monday):
    client = world.web(world.staff["front_desk"])
    response = _post_booking(client, world, monday, world.staff["therapist"].pk)
    assert response.status_code == 302
    assert Appointment.objects.get().therapist_id == world.staff["therapist"].pk


def test_another_clinics_therapist_is_refused_by_the_form(world, monday):
    client = world.web(world.staff["front_desk"])
    response = _post_booking(client, world, monday, world.outsiders["therapist"].pk)
    assert response.status_code == 422
    assert "therapist" in response.context["form"].errors
    assert not Appointment.objects.exists()


def test_booking_without_a_therapist_names_the_field(world, monday):
    client = world.web(world.staff["front_desk"])
    response = _post_booking(client, world, monday, "")
    assert response.status_code == 422
    assert not Appointment.objects.exists()
    assert "therapist" in response.content.decode().lower()


def test_the_day_view_lists_integration_sessions_under_their_therapist(world, monday):
    ChairFactory(clinic=world.clinic_a)
    book_integration(world, monday, therapist=world.staff["therapist"])
    client = world.web(world.staff["nurse"])
    page = client.get("/schedule/", {"date": monday.isoformat()}).content.decode()
    assert 'data-testid="therapist-bookings"' in page
    assert world.staff["therapist"].display_name() in page
    assert "Outside the grid" not in page


def test_the_therapists_start_page_lists_their_sessions_of_the_day(world):
    zone = clinic_zone(world.clinic_a)
    today = local_date(clock.now(), zone)
    therapist = world.staff["therapist"]
    mine = Appointment.objects.create(
        clinic=world.clinic_a,
        patient=world.patient_a,
        kind=AppointmentKind.INTEGRATION,
        therapist=therapist,
        starts_at=local(world.clinic_a, today, 23),
        ends_at=local(world.clinic_a, today, 23, 50),
        created_by=world.staff["front_desk"],
    )
    client = world.web(therapist)
    assert 'data-testid="my-bookings-loader"' in client.get("/").content.decode()
    page = client.get("/schedule/mine/").content.decode()
    assert f"/schedule/appointments/{mine.pk}/" in page
    # another therapist's list does not show it
    colleague = member(world.clinic_a, Role.THERAPIST, "a.colleague")
    other = world.web(colleague).get("/schedule/mine/").content.decode()
    assert f"/schedule/appointments/{mine.pk}/" not in other
    assert "No sessions booked with you today" in other


def test_the_start_page_of_a_nurse_does_not_load_the_therapist_list(world):
    page = world.web(world.staff["nurse"]).get("/").content.decode()
    assert "my-bookings-loader" not in page


# --- API and tenancy -----------------------------------------------------------------------------


def _api_book(world, monday, therapist_id):
    return world.api(world.staff["front_desk"]).post(
        "/api/v1/appointments",
        {
            "patient_id": world.patient_a.pk,
            "kind": "integration",
            "therapist_id": therapist_id,
            "starts_at": local(world.clinic_a, monday, 10).isoformat(),
        },
        content_type="application/json",
    )


def test_the_api_books_an_integration_session_with_its_therapist(world, monday):
    response = _api_book(world, monday, world.staff["therapist"].pk)
    assert response.status_code == 201, response.content
    assert response.json()["therapist_id"] == world.staff["therapist"].pk
    assert response.json()["therapist"] == world.staff["therapist"].display_name()


def test_the_api_answers_404_for_another_clinics_therapist(world, monday):
    response = _api_book(world, monday, world.outsiders["therapist"].pk)
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_the_api_refuses_an_integration_session_without_a_therapist(world, monday):
    response = _api_book(world, monday, None)
    assert response.status_code == 422
    assert response.json()["code"] == "therapist_required"


# --- booking from the chart --------------------------------------------------------------------


def test_booking_from_the_chart_offers_only_that_patients_courses(world):
    from tests.scheduling.factories import course_row

    own = course_row(world.patient_a, world.staff)
    other = course_row(PatientFactory(clinic=world.clinic_a), world.staff)
    client = world.web(world.staff["front_desk"])
    form = client.get("/schedule/appointments/new/", {"patient_mrn": world.patient_a.mrn})
    options = form.context["form"].fields["course"].choices
    offered = [value for value, _ in options if value]
    assert offered == [own.pk]
    assert other.pk not in offered


def test_a_course_of_another_patient_does_not_book_the_charts_patient(world, monday):
    from tests.scheduling.factories import course_row

    other = course_row(PatientFactory(clinic=world.clinic_a), world.staff)
    ChairFactory(clinic=world.clinic_a)
    client = world.web(world.staff["front_desk"])
    response = client.post(
        "/schedule/appointments/new/",
        {
            "patient_mrn": world.patient_a.mrn,
            "course": other.pk,
            "starts_at": local(world.clinic_a, monday, 10)
            .astimezone(clinic_zone(world.clinic_a))
            .strftime("%Y-%m-%dT%H:%M"),
            "idempotency_key": "k2",
        },
    )
    assert response.status_code == 422
    assert "another patient" in " ".join(response.context["form"].errors["course"])
    assert not Appointment.objects.exists()


def test_the_fhir_appointment_names_the_therapist_as_a_participant(world, monday):
    from tests.fhir.factories import fhir_client
    from tests.fhir.validation import validate

    appointment = book_integration(world, monday, therapist=world.staff["therapist"])
    client = fhir_client(world, world.staff["nurse"])
    resource = client.get(f"/fhir/r4/Appointment/{appointment.pk}").json()
    validate(resource)
    actors = [p["actor"]["reference"] for p in resource["participant"]]
    assert f"Practitioner/{world.staff['therapist'].pk}" in actors


# --- the week view and the staff feed name the therapist -----------------------------------------


def test_the_week_view_and_the_feed_name_an_integration_sessions_therapist(world, monday):
    from django.test import Client

    from ketacare.scheduling.services import calendar_feed_rotate

    therapist = world.staff["therapist"]
    book_integration(world, monday, therapist=therapist)
    client = world.web(world.staff["front_desk"])
    week = client.get(f"/schedule/week/?date={monday.isoformat()}").content.decode()
    assert f"with {therapist.display_name()}" in week
    admin = Actor(user=world.staff["admin"], clinic=world.clinic_a, role=Role.ADMIN)
    token = calendar_feed_rotate(actor=admin)
    feed = Client().get("/schedule/feed.ics", {"token": token}).content.decode()
    assert f"with {therapist.display_name()}" in feed.replace("\r\n ", "")
