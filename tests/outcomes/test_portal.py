"""The patient portal: links are keys (expire, single patient, single use, hashed, rate-limited),
answers are kept as the patient goes, and a finished questionnaire is scored by the core."""

import hashlib
import re
import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from ketacare.audit.models import AuditEntry
from ketacare.clinical.instruments import get_instrument, score
from ketacare.followup import portal
from ketacare.outcomes.models import (
    AssignmentStatus,
    JournalEntry,
    PortalLink,
    PortalRateCount,
    SafetyAlert,
    ScaleResponse,
)
from tests.factories import PatientFactory
from tests.outcomes.factories import assignment_row, link_for, phq9_answers

pytestmark = pytest.mark.django_db


def _path(token, *parts):
    return "/portal/" + "/".join([token, *[str(p) for p in parts]]) + "/"


def _answer_all(client, token, assignment, answers):
    for number, value in enumerate(answers, start=1):
        response = client.post(_path(token, "q", assignment.pk, number), {"answer": value})
        assert response.status_code == 302, response.content
    return client.post(_path(token, "q", assignment.pk, "review"))


def _no_way_forward(response):
    """A plain refusal: no form, no link, no questionnaire."""
    html = response.content.decode()
    return "<form" not in html and "<a " not in html.replace('<a class="skip-link"', "")


def test_a_patient_answers_a_phq9_and_the_core_scores_it(world):
    # given a PHQ-9 waiting for the patient and a link to it
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    client = Client()
    answers = phq9_answers(11)
    # when she opens the link, answers every question and sends them
    home = client.get(_path(issued.token))
    assert home.status_code == 200 and b"PHQ-9" in home.content
    done = _answer_all(client, issued.token, assignment, answers)
    # then the response is stored with the core's total and band, and the link is used up
    assert done.status_code == 200 and b"Your answers were sent" in done.content
    response = ScaleResponse.objects.get(patient=world.patient_a)
    expected = score("phq9", answers)
    assert (response.total, response.band, response.source) == (
        expected.total,
        expected.band,
        "portal",
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.COMPLETED and assignment.response == response
    assert PortalLink.objects.get(pk=issued.link.pk).used_at is not None


def test_answers_are_kept_when_the_patient_leaves_and_comes_back(world):
    # given a patient who answered three questions and closed the page
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    for number, value in enumerate([2, 1, 3], start=1):
        Client().post(_path(issued.token, "q", assignment.pk, number), {"answer": value})
    # when she opens the link again on another device
    client = Client()
    resume = client.get(_path(issued.token, "q", assignment.pk))
    # then she lands on question 4, and question 2 still shows her answer
    assert resume.status_code == 302 and resume["Location"].endswith(f"/q/{assignment.pk}/4/")
    page = client.get(_path(issued.token, "q", assignment.pk, 2)).content.decode()
    assert re.search(r'value="1"\s+checked', page)
    assert "Question 2 of 9" in page
    assignment.refresh_from_db()
    assert assignment.draft_answers == {"phq9_q1": 2, "phq9_q2": 1, "phq9_q3": 3}


def test_a_question_page_is_a_labelled_fieldset_with_one_radio_per_answer(world):
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    html = Client().get(_path(issued.token, "q", assignment.pk, 9)).content.decode()
    item = get_instrument("phq9").items[8]
    assert "<fieldset" in html and "<legend>" in html and item.text in html
    assert html.count('type="radio" name="answer"') == len(item.options)
    for option in item.options:
        assert re.search(
            rf'<label class="option"><input type="radio" name="answer" value="{option.value}"', html
        )
        assert option.label in html
    assert '<progress max="9"' in html and "Question 9 of 9" in html
    assert 'name="viewport" content="width=device-width' in html


def test_an_out_of_range_answer_is_refused_and_not_saved(world):
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    response = Client().post(_path(issued.token, "q", assignment.pk, 1), {"answer": 7})
    assert response.status_code == 422 and b"Choose one of the answers" in response.content
    assignment.refresh_from_db()
    assert assignment.draft_answers == {}


def test_an_unfinished_questionnaire_cannot_be_sent(world):
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    client = Client()
    client.post(_path(issued.token, "q", assignment.pk, 1), {"answer": 1})
    response = client.post(_path(issued.token, "q", assignment.pk, "review"))
    assert response.status_code == 302 and response["Location"].endswith(f"/{assignment.pk}/2/")
    assert not ScaleResponse.objects.exists()


def test_an_expired_link_says_so_and_offers_nothing_else(world):
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    PortalLink.objects.filter(pk=issued.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for url in (_path(issued.token), _path(issued.token, "q", assignment.pk, 1)):
        response = Client().get(url)
        assert response.status_code == 410
        assert b"This link has expired" in response.content
        assert _no_way_forward(response)
    answer = Client().post(_path(issued.token, "q", assignment.pk, 1), {"answer": 1})
    assert answer.status_code == 410
    assignment.refresh_from_db()
    assert assignment.draft_answers == {}


def test_a_used_link_cannot_be_used_again(world):
    # given a link whose questionnaire was answered and sent
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    _answer_all(Client(), issued.token, assignment, phq9_answers(6))
    # when someone opens it again (or replays the final post)
    again = Client().get(_path(issued.token))
    replay = Client().post(_path(issued.token, "q", assignment.pk, "review"))
    # then it says so plainly, and nothing is stored twice
    assert again.status_code == 410 and b"already been used" in again.content
    assert _no_way_forward(again)
    assert replay.status_code == 410
    assert ScaleResponse.objects.count() == 1


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_urlsafe(32),  # well-formed, never issued
        "x" * 43,
        "not-a-token",
    ],
    ids=["never-issued", "right-length", "malformed"],  # stable ids: parallel workers agree
)
def test_a_forged_link_is_refused(world, token):
    assignment_row(world.patient_a)
    link_for(world.patient_a, [assignment_row(world.patient_a)])
    response = Client().get(_path(token))
    assert response.status_code == 404
    assert b"This link does not work" in response.content
    assert _no_way_forward(response)


def test_a_link_opens_only_its_own_patients_questionnaires(world):
    # given patient B's link, and patient A's questionnaire
    mine = assignment_row(world.patient_a)
    other_patient = PatientFactory(clinic=world.clinic_a)
    theirs = assignment_row(other_patient)
    their_link = link_for(other_patient, [theirs])
    client = Client()
    # when B's link is used to reach A's questionnaire, by any route
    for url in (
        _path(their_link.token, "q", mine.pk),
        _path(their_link.token, "q", mine.pk, 1),
        _path(their_link.token, "q", mine.pk, "review"),
    ):
        # then it is not found
        assert client.get(url).status_code == 404, url
    assert client.post(_path(their_link.token, "q", mine.pk, 1), {"answer": 3}).status_code == 404
    mine.refresh_from_db()
    assert mine.draft_answers == {}


def test_a_link_does_not_open_a_later_questionnaire_of_the_same_patient(world):
    first = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [first])
    later = assignment_row(world.patient_a, "gad7")
    assert Client().get(_path(issued.token, "q", later.pk, 1)).status_code == 404


def test_a_link_cannot_be_issued_for_another_patients_questionnaire(world):
    from ketacare.errors import Refused

    theirs = assignment_row(PatientFactory(clinic=world.clinic_a))
    with pytest.raises(Refused):
        link_for(world.patient_a, [theirs])


def test_only_the_tokens_hash_is_stored(world):
    issued = link_for(world.patient_a, [assignment_row(world.patient_a)])
    link = PortalLink.objects.get(pk=issued.link.pk)
    assert link.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert len(issued.token) >= 43  # 256 random bits
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM outcomes_portallink")
        rows = cursor.fetchall()
    assert not any(issued.token in str(value) for row in rows for value in row)
    trail = AuditEntry.objects.filter(object_type="portal_link")
    assert not any(issued.token in str(entry.detail) for entry in trail)


def test_portal_pages_are_never_cached_and_never_leak_the_link(world):
    issued = link_for(world.patient_a, [assignment_row(world.patient_a)])
    response = Client().get(_path(issued.token))
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_rate_limit_per_link_holds(world, monkeypatch):
    monkeypatch.setattr(portal, "TOKEN_LIMIT", 3)
    issued = link_for(world.patient_a, [assignment_row(world.patient_a)])
    statuses = [Client().get(_path(issued.token)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    # the count lives in the database, so every web process sees the same one
    assert PortalRateCount.objects.get(key=f"token:{issued.link.token_hash}").count == 5


def test_guessing_links_from_one_address_gets_it_blocked(world, monkeypatch):
    # given a valid link, and an address that has tried too many wrong ones
    monkeypatch.setattr(portal, "ADDRESS_FAILURE_LIMIT", 5)
    issued = link_for(world.patient_a, [assignment_row(world.patient_a)])
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        assert guesser.get(_path(secrets.token_urlsafe(32))).status_code == 404
    # when that address tries again, even with the right link
    blocked = guesser.get(_path(issued.token))
    # then it is refused for now, while the patient's own phone is not
    assert blocked.status_code == 429 and b"Too many attempts" in blocked.content
    assert Client(REMOTE_ADDR="198.51.100.7").get(_path(issued.token)).status_code == 200


def test_the_per_address_limit_holds(world, monkeypatch):
    monkeypatch.setattr(portal, "ADDRESS_LIMIT", 2)
    issued = link_for(world.patient_a, [assignment_row(world.patient_a)])
    client = Client(REMOTE_ADDR="192.0.2.1")
    assert [client.get(_path(issued.token)).status_code for _ in range(3)] == [200, 200, 429]


def test_a_suicidality_answer_opens_an_alert_and_shows_crisis_resources(world):
    # given a clinic with its own crisis text
    world.clinic_a.crisis_resources = "Call the Northside crisis line: 555-0100."
    world.clinic_a.save()
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    # when the patient answers item 9 above zero
    done = _answer_all(Client(), issued.token, assignment, phq9_answers(12, item9=2))
    # then the clinic's crisis resources are shown, without promising real-time watching
    html = done.content.decode()
    assert "Call the Northside crisis line: 555-0100." in html
    assert "nobody is watching them around the clock" in html
    alert = SafetyAlert.objects.get(patient=world.patient_a)
    assert alert.code == "suicidality" and alert.status == "open"
    assert alert.response == ScaleResponse.objects.get(patient=world.patient_a)


def test_every_portal_read_and_write_is_audited(world):
    assignment = assignment_row(world.patient_a)
    issued = link_for(world.patient_a, [assignment])
    before = AuditEntry.objects.count()
    client = Client()
    client.get(_path(issued.token))
    client.get(_path(issued.token, "q", assignment.pk, 1))
    client.post(_path(issued.token, "q", assignment.pk, 1), {"answer": 2})
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert [(e.action, e.object_type) for e in entries] == [
        ("read", "portal_link"),
        ("read", "questionnaire_assignment"),
        ("update", "questionnaire_assignment"),
    ]
    assert {e.patient_id for e in entries} == {world.patient_a.pk}
    assert {e.actor_username for e in entries} == {"patient-portal"}


def test_two_questionnaires_on_one_link_lead_from_one_to_the_next(world):
    phq9 = assignment_row(world.patient_a, "phq9")
    gad7 = assignment_row(world.patient_a, "gad7")
    issued = link_for(world.patient_a, [phq9, gad7])
    client = Client()
    after_first = _answer_all(client, issued.token, phq9, phq9_answers(5))
    assert after_first.status_code == 302 and after_first["Location"] == _path(issued.token)
    home = client.get(_path(issued.token)).content.decode()
    assert "1 of 2 done" in home and "Start GAD-7" in home
    _answer_all(client, issued.token, gad7, [1] * 7)
    assert PortalLink.objects.get(pk=issued.link.pk).used_at is not None


def test_a_patient_writes_a_journal_entry_that_the_therapist_reads(world):
    issued = link_for(
        world.patient_a, purpose="journal", expires_at=timezone.now() + timedelta(days=14)
    )
    client = Client()
    page = client.get(_path(issued.token))
    assert page.status_code == 302 and page["Location"] == _path(issued.token, "journal")
    saved = client.post(_path(issued.token, "journal"), {"body": "I felt lighter after Tuesday."})
    assert saved.status_code == 200 and b"Saved" in saved.content
    entry = JournalEntry.objects.get()
    assert (entry.patient, entry.body) == (world.patient_a, "I felt lighter after Tuesday.")
    # the therapist reads it; a nurse may not (permission table)
    url = f"/outcomes/patients/{world.patient_a.pk}/journal/"
    assert b"I felt lighter" in world.web(world.staff["therapist"]).get(url).content
    assert world.web(world.staff["nurse"]).get(url).status_code == 403
    # and a journal link stays usable for more entries until it expires
    assert client.post(_path(issued.token, "journal"), {"body": "Second."}).status_code == 200


def test_a_questionnaire_link_does_not_open_the_journal(world):
    issued = link_for(world.patient_a, [assignment_row(world.patient_a)])
    response = Client().post(_path(issued.token, "journal"), {"body": "hello"})
    assert response.status_code == 302
    assert not JournalEntry.objects.exists()
