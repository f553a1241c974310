"""The staff iCalendar feed: RFC 5545 text, no names, a secret URL that rotation revokes."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.scheduling.ical import FeedEvent, escape_text, fold, render_calendar
from ketacare.scheduling.services import calendar_feed_rotate
from ketacare.scheduling.views import FEED_PAST_DAYS
from tests.scheduling.factories import ChairFactory, appointment_row, course_row

# --- the text format (no database) ------------------------------------------------------------


def test_text_values_escape_backslashes_semicolons_commas_and_newlines():
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    # given a line of multi-byte characters well over 75 octets
    line = "SUMMARY:" + "é·" * 40
    # when
    folded = fold(line)
    # then every physical line is at most 75 octets, continuations start with a space,
    # and unfolding gives the line back
    physical = folded.split("\r\n")
    assert len(physical) > 1
    assert all(len(p.encode()) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert "".join([physical[0], *(p[1:] for p in physical[1:])]) == line


def test_a_calendar_uses_crlf_and_utc_times():
    event = FeedEvent(
        uid="appointment-1@x.ketacare",
        starts_at=datetime(2030, 1, 7, 14, 0, tzinfo=UTC),
        ends_at=datetime(2030, 1, 7, 15, 10, tzinfo=UTC),
        summary="MR · Treatment session · Chair 2",
    )
    text = render_calendar(
        [event], name="Clinic", stamped_at=datetime(2030, 1, 1, tzinfo=UTC), product="-//K//EN"
    )
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "DTSTART:20300107T140000Z\r\n" in text and "DTEND:20300107T151000Z\r\n" in text
    assert "UID:appointment-1@x.ketacare\r\n" in text


# --- the feed -----------------------------------------------------------------------------------


@pytest.fixture
def feed(world):
    """A feed token for clinic A and a booked session tomorrow."""
    admin = Actor(user=world.staff["admin"], clinic=world.clinic_a, role=Role.ADMIN)
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a, room="Cedar", label="Chair 2")
    appointment = appointment_row(course, chair, timezone.now() + timedelta(days=1))
    appointment_row(
        course, chair, timezone.now() + timedelta(days=3), status="cancelled"
    )  # not in the feed
    return admin, calendar_feed_rotate(actor=admin), appointment


def test_the_feed_lists_appointments_with_initials_type_and_chair_and_no_names(world, feed):
    _, token, appointment = feed
    # when a calendar app fetches the secret URL (no sign-in)
    response = Client().get("/schedule/feed.ics", {"token": token})
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    patient = world.patient_a
    assert f"SUMMARY:{patient.initials} · Treatment session · Chair 2\r\n" in text
    assert f"UID:appointment-{appointment.pk}@clinic-a.ketacare" in text
    assert "LOCATION:Cedar · Chair 2" in text
    assert text.count("BEGIN:VEVENT") == 1
    for secret in (patient.given_name, patient.family_name, patient.mrn):
        assert secret not in text


def test_a_wrong_missing_or_rotated_token_is_not_found(world, feed):
    admin, token, _ = feed
    assert Client().get("/schedule/feed.ics", {"token": "not-the-token"}).status_code == 404
    assert Client().get("/schedule/feed.ics").status_code == 404
    # when the admin rotates the feed
    new_token = calendar_feed_rotate(actor=admin)
    # then the old URL stops working and the new one works
    assert Client().get("/schedule/feed.ics", {"token": token}).status_code == 404
    assert Client().get("/schedule/feed.ics", {"token": new_token}).status_code == 200


def test_only_the_tokens_hash_is_stored(world, feed):
    from ketacare.scheduling.models import CalendarFeed

    _, token, _ = feed
    stored = CalendarFeed.objects.get(revoked_at__isnull=True)
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_another_clinics_feed_never_shows_this_clinics_appointments(world, feed):
    outsider_admin = Actor(user=world.outsiders["admin"], clinic=world.clinic_b, role=Role.ADMIN)
    theirs = calendar_feed_rotate(actor=outsider_admin)
    text = Client().get("/schedule/feed.ics", {"token": theirs}).content.decode()
    assert "BEGIN:VEVENT" not in text


def test_every_feed_fetch_is_audited_as_an_export(world, feed):
    _, token, appointment = feed
    Client().get("/schedule/feed.ics", {"token": token})
    entry = AuditEntry.objects.filter(action="export", object_type="calendar_feed").get()
    assert entry.clinic_id == world.clinic_a.pk
    assert entry.detail["count"] == 1
    assert entry.detail["ids_sha256"] == hashlib.sha256(str(appointment.pk).encode()).hexdigest()


def test_the_feed_is_bounded_in_time_and_in_events(world, feed, monkeypatch):
    # given appointments long past, within the window, and beyond the event limit
    _, token, _ = feed
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    old = appointment_row(course, chair, timezone.now() - timedelta(days=FEED_PAST_DAYS + 3))
    for day in range(2, 6):
        appointment_row(course, chair, timezone.now() + timedelta(days=day))
    monkeypatch.setattr("ketacare.scheduling.views.feed.FEED_EVENT_LIMIT", 3)
    # when the feed is fetched
    text = Client().get("/schedule/feed.ics", {"token": token}).content.decode()
    # then the old appointment is outside the window and only three events go out
    assert f"appointment-{old.pk}@" not in text
    assert text.count("BEGIN:VEVENT") == 3


def test_the_feed_has_a_fixed_query_budget(world, feed, django_assert_max_num_queries):
    _, token, _ = feed
    Client().get("/schedule/feed.ics", {"token": token})
    course = course_row(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    for day in range(5, 25):
        appointment_row(course, chair, timezone.now() + timedelta(days=day))
    # feed, appointments, the audit append (savepoint, lock, insert, update, release)
    with django_assert_max_num_queries(7):
        assert Client().get("/schedule/feed.ics", {"token": token}).status_code == 200


def test_only_an_admin_rotates_the_feed(world):
    nurse = world.web(world.staff["nurse"])
    assert nurse.post("/schedule/feed/rotate/").status_code == 403
    response = world.web(world.staff["admin"]).post("/schedule/feed/rotate/")
    assert response.status_code == 200 and b"/schedule/feed.ics?token=" in response.content
