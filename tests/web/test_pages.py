"""Staff pages: sign-in, lockout, idle timeout, clinic switching and query budgets."""

import time

import pytest
from django.conf import settings as django_settings
from django.test import Client

from ketacare.accounts.roles import Role
from tests.factories import TEST_PASSWORD, MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_the_root_sends_a_visitor_to_the_sign_in_page():
    response = Client().get("/", follow=True)
    assert response.status_code == 200
    assert b"Sign in to KetaCare" in response.content


def test_a_nurse_signs_in_with_her_password(world):
    client = Client()
    response = client.post(
        "/login/", {"username": "a.nurse", "password": TEST_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert b"Clinic A" in response.content


def test_repeated_failures_lock_the_account_out(world):
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "a.nurse", "password": "wrong-password"})
    # then even the right password is refused for now
    response = client.post("/login/", {"username": "a.nurse", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"locked" in response.content


def _idle_for(client, seconds):
    session = client.session
    session["last_activity"] = int(time.time()) - seconds
    session.save()


def test_the_idle_timeout_is_fifteen_minutes_by_default():
    assert django_settings.KETACARE_IDLE_TIMEOUT_SECONDS == 15 * 60


def test_a_user_idle_for_over_fifteen_minutes_must_sign_in_again(world):
    # given a nurse whose last own request was 16 minutes ago
    client = world.web(world.staff["nurse"])
    client.get("/patients/")
    _idle_for(client, 16 * 60)
    # when she comes back
    response = client.get("/patients/")
    # then she is sent to sign in, and the old session no longer works
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/patients/").status_code == 302


def test_activity_within_the_timeout_keeps_the_session(world):
    client = world.web(world.staff["nurse"])
    client.get("/patients/")
    _idle_for(client, 14 * 60)
    assert client.get("/patients/").status_code == 200
    _idle_for(client, 14 * 60)
    assert client.get("/patients/").status_code == 200


def test_background_polls_do_not_keep_an_unattended_screen_signed_in(world):
    # given a tablet left on a page that polls
    client = world.web(world.staff["nurse"])
    client.get("/patients/")
    _idle_for(client, 10 * 60)
    # when polls arrive (they still answer while the user is within the timeout)
    poll = {"HX-Request": "true", "X-KetaCare-Background": "1"}
    assert client.get("/patients/", headers=poll).status_code == 200
    session = client.session
    # then they did not count as activity
    assert int(time.time()) - session["last_activity"] >= 10 * 60


def test_an_htmx_request_after_timeout_sends_the_window_to_sign_in(world):
    client = world.web(world.staff["nurse"])
    client.get("/patients/")
    _idle_for(client, 16 * 60)
    response = client.get("/patients/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith("/login/")


def test_passwords_are_hashed_with_argon2_outside_tests():
    from ketacare.config import settings as base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_signing_out_requires_post_and_ends_the_session(world):
    client = world.web(world.staff["nurse"])
    client.post("/logout/")
    response = client.get("/patients/")
    assert response.status_code == 302


def test_a_member_of_two_clinics_switches_between_them(world):
    nurse = world.staff["nurse"]
    MembershipFactory(user=nurse, clinic=world.clinic_b, role=Role.NURSE)
    client = world.web(nurse)
    assert client.get(f"/patients/{world.patient_b.pk}/").status_code == 404
    client.post("/clinic/switch/", {"clinic_id": world.clinic_b.pk})
    assert client.get(f"/patients/{world.patient_b.pk}/").status_code == 200
    assert client.get(f"/patients/{world.patient_a.pk}/").status_code == 404


def test_switching_to_a_clinic_one_is_not_a_member_of_is_refused(world):
    client = world.web(world.staff["nurse"])
    assert client.post("/clinic/switch/", {"clinic_id": world.clinic_b.pk}).status_code == 403


def test_a_user_without_a_clinic_is_refused(db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())
    assert client.get("/patients/").status_code == 403


@pytest.mark.parametrize("patients", [1, 40])
def test_the_patient_list_makes_the_same_queries_whatever_its_length(
    world, patients, django_assert_num_queries
):
    PatientFactory.create_batch(patients, clinic=world.clinic_a)
    client = world.web(world.staff["nurse"])
    client.get("/patients/")  # the clinic's audit chain now exists
    # session, user, memberships, patients; the audit append in a savepoint (lock the
    # chain head, insert, update the head); no session save (the idle clock was just written)
    with django_assert_num_queries(9):
        response = client.get("/patients/")
    assert response.status_code == 200


@pytest.mark.parametrize("other_patients", [0, 30])
def test_the_patient_page_has_a_fixed_query_budget(
    world, other_patients, django_assert_num_queries
):
    PatientFactory.create_batch(other_patients, clinic=world.clinic_a)
    client = world.web(world.staff["nurse"])
    client.get(f"/patients/{world.patient_a.pk}/")  # the clinic's audit chain now exists
    # session, user, memberships, the tenancy guard, the patient and its audit append, then
    # the chart panels (sections, measurements, screenings, consents), the patient's intake
    # forms waiting for review (1), and no session save; the chart's own tests check each panel
    # with 1 and with many rows
    with django_assert_num_queries(17):
        assert client.get(f"/patients/{world.patient_a.pk}/").status_code == 200


def test_the_audit_page_has_a_fixed_query_budget(world, django_assert_max_num_queries):
    for _ in range(30):
        world.web(world.staff["nurse"]).get(f"/patients/{world.patient_a.pk}/")
    client = world.web(world.staff["admin"])
    # 8 as before, plus one for the names and MRNs of every patient on the page
    with django_assert_max_num_queries(9):
        assert client.get("/audit/").status_code == 200
    # filtering by MRN adds the lookup (exists + ids)
    with django_assert_max_num_queries(11):
        assert client.get("/audit/", {"patient": world.patient_a.mrn}).status_code == 200


def test_htmx_search_returns_only_the_rows(world):
    response = world.web(world.staff["nurse"]).get(
        "/patients/", {"q": "Family"}, headers={"HX-Request": "true"}
    )
    assert b"<html" not in response.content
    assert world.patient_a.family_name.encode() in response.content


def test_editing_demographics_from_a_stale_form_is_refused(world):
    client = world.web(world.staff["nurse"])
    form = {
        "given_name": "Ada",
        "family_name": "Quill",
        "preferred_name": "",
        "date_of_birth": "1980-05-17",
        "sex": "female",
        "email": "",
        "phone": "",
        "version": 1,
    }
    assert client.post(f"/patients/{world.patient_a.pk}/edit/", form).status_code == 302
    stale = client.post(f"/patients/{world.patient_a.pk}/edit/", {**form, "family_name": "Other"})
    assert stale.status_code == 409
    world.patient_a.refresh_from_db()
    assert world.patient_a.family_name == "Quill"


def test_registering_a_patient_from_the_web(world):
    client = world.web(world.staff["front_desk"])
    response = client.post(
        "/patients/new/",
        {
            "given_name": "Bo",
            "family_name": "Lund",
            "date_of_birth": "1990-01-01",
            "sex": "male",
            "email": "",
            "phone": "",
        },
    )
    assert response.status_code == 302
    assert world.clinic_a.patients.filter(family_name="Lund").exists()


def test_static_assets_are_vendored_not_from_a_cdn(world):
    response = world.web(world.staff["nurse"]).get("/patients/")
    html = response.content.decode()
    assert "/static/ketacare/vendor/htmx-" in html
    assert "https://" not in html and "http://cdn" not in html


def test_a_request_soon_after_the_last_does_not_rewrite_the_session(world):
    # given a nurse whose last own request was recorded 5 seconds ago
    client = world.web(world.staff["nurse"])
    client.get("/patients/")
    _idle_for(client, 5)
    recorded = client.session["last_activity"]
    # when she opens another page
    assert client.get("/patients/").status_code == 200
    # then the idle clock is not rewritten (no session write) ...
    assert client.session["last_activity"] == recorded
    # ... but it is once the recorded time is 15 seconds old
    _idle_for(client, 15)
    client.get("/patients/")
    assert int(time.time()) - client.session["last_activity"] < 5
