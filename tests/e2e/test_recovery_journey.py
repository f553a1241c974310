"""A patient's record shows an early refill, a lost dose and rising craving: she appears on the
safety-review worklist with the evidence; the prescriber records "pause" with a reason; she writes
a relapse-prevention plan on her phone and the therapist sees it; a Part 2 record is refused to a
role without access and disclosed, with its notice, once a consent is on file."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from ketacare.accounts.roles import Role
from ketacare.errors import Refused
from ketacare.followup.portal import portal_link_issue
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_today
from ketacare.outcomes.models import PortalLinkPurpose, ResponseSource, ScaleResponse
from ketacare.recovery import services as recovery
from ketacare.recovery.models import MisuseDecision, Part2Disclosure, RecoveryPlanVersion
from tests.athome.conftest import signing
from tests.browser import sign_in
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import ClinicFactory, PatientFactory, member
from tests.ledger.factories import as_actor
from tests.scheduling.factories import screening_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _one_request_at_a_time_on_in_memory_sqlite(monkeypatch):
    """In-memory SQLite shares one connection between the live server's threads: serialise."""
    from django.core.servers.basehttp import ServerHandler
    from django.db import connection

    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        return
    lock = threading.Lock()
    original = ServerHandler.run

    def one_at_a_time(self, application):
        with lock:
            return original(self, application)

    monkeypatch.setattr(ServerHandler, "run", one_at_a_time)


def _staff_page(browser: Browser, base_url: str, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base_url, username)
    return page


def _at_home_record(clinic, staff, patient):
    """Enrolled at home: dispensed, one dose reported lost, a refill asked for too early."""
    from ketacare.athome import services as home
    from ketacare.consent.services import consent_document_publish, consent_signature_record
    from ketacare.consent.texts import TITLES, default_body

    admin = as_actor(staff["admin"], clinic, "admin")
    nurse = as_actor(staff["nurse"], clinic, "nurse")
    prescriber = as_actor(staff["prescriber"], clinic, "prescriber")
    version = consent_document_publish(
        actor=admin,
        route="home_programme",
        title=TITLES["home_programme"],
        body=default_body("home_programme"),
        based_on=0,
    )
    consent_signature_record(
        actor=nurse,
        patient=patient,
        document_version_id=version.pk,
        signed_name=patient.display_name,
        signed_at=clock.now(),
        witnessed_by_id=nurse.user.pk,
        idempotency_key="e2e-consent-0001",
    )
    screening_for(
        patient, staff["prescriber"], route="sublingual", protocol_id="sublingual_home"
    )  # the eligible screening enrolment at home rests on
    today = timezone.localdate()
    programme = home.programme_enrol(
        actor=nurse,
        patient_id=patient.pk,
        evaluation_on=today - timedelta(days=1),
        evaluation_modality="audio_video",
        sitter_name="Sam Sitter",
        sitter_phone="555-0100",
        idempotency_key="e2e-enrol-0001",
    )
    home.prescription_issue(
        actor=signing(prescriber),
        programme_id=programme.pk,
        idempotency_key="e2e-rx-0001",
        drug="Ketamine HCl",
        strength_mg="50",
        form="sublingual troche",
        quantity=4,
        directions="One troche under the tongue once a week as planned.",
        refills=2,
        pharmacy="Compounding Pharmacy, 1 Main St",
        visit_modality="audio_video",
        patient_state="CA",
        dea_registration="AB1234563",
        dea_registration_state="CA",
        in_person_evaluation_on=None,
        pdmp_result="no_findings",
        legal_basis="telemedicine_flexibility",
        issued_on=today,
        pdmp_checked_on=today,
    )
    home.supply_dispense(actor=nurse, programme_id=programme.pk, idempotency_key="e2e-disp-0001")
    home.supply_loss_report(
        actor=nurse,
        programme_id=programme.pk,
        units=1,
        note="Says the troche fell in the sink",
        idempotency_key="e2e-lost-0001",
    )
    with pytest.raises(Refused):
        home.refill_release(
            actor=prescriber, programme_id=programme.pk, idempotency_key="e2e-refill-01"
        )


def test_signals_reach_the_worklist_the_prescriber_pauses_the_plan_and_part2_is_guarded(
    live_server, browser, phone_page, shoot
):
    # given a patient at home with a lost dose, an early refill request and rising craving
    clinic = ClinicFactory(slug="e2e-recovery", name="Lakeside Ketamine Clinic")
    staff = {
        role: member(clinic, Role(role), f"e2e.{role}")
        for role in ("prescriber", "nurse", "therapist", "front_desk", "admin")
    }
    patient = PatientFactory(clinic=clinic, given_name="Maren", family_name="Olsen")
    _at_home_record(clinic, staff, patient)
    for days_ago, total in ((21, 2), (1, 7)):
        ScaleResponse.objects.create(
            clinic=clinic,
            patient=patient,
            instrument_id="craving_nrs",
            answers=[total],
            total=total,
            band="rating (no validated cut-points)",
            alerts=[],
            source=ResponseSource.STAFF,
            recorded_at=clock.now() - timedelta(days=days_ago),
        )
    prescriber_actor = as_actor(staff["prescriber"], clinic, "prescriber")
    recovery.programme_start(
        actor=prescriber_actor,
        patient_id=patient.pk,
        substance="ketamine",
        started_on=timezone.localdate(),
    )
    recovery.use_day_mark(
        actor=prescriber_actor, patient_id=patient.pk, day=timezone.localdate(), used=False
    )

    # when the prescriber reassesses and opens the safety-review worklist
    prescriber = _staff_page(browser, live_server.url, "e2e.prescriber")
    prescriber.goto(f"{live_server.url}/recovery/")
    prescriber.get_by_role("button", name="Reassess every patient now").click()
    row = prescriber.get_by_test_id("worklist-row").filter(has_text="Maren")
    # then she is there, severe, with the evidence of each signal
    expect(row).to_contain_text("reported lost or missing")
    expect(row).to_contain_text("Refill asked for before")
    expect(row).to_contain_text("craving 2")
    expect(row.get_by_test_id("severe")).to_be_visible()
    assert_no_serious_violations(prescriber, "the safety-review worklist")
    shoot(prescriber, "01-worklist")

    # when the prescriber records "pause" with a reason
    row.get_by_role("link", name=patient.display_name).click()
    expect(prescriber.get_by_test_id("signal")).to_have_count(3)
    prescriber.get_by_label("Pause treatment").check()
    prescriber.get_by_label("Reason").fill(
        "Lost dose and early refill with rising craving: pause, see Friday."
    )
    prescriber.get_by_role("button", name="Record the decision").click()
    # then the decision is on record with its reason
    expect(prescriber.get_by_test_id("decision-row").first).to_contain_text("Pause treatment")
    assert MisuseDecision.objects.get(patient=patient).decision == "pause"
    shoot(prescriber, "02-decision")

    # when the patient writes her relapse-prevention plan on her phone
    issued = portal_link_issue(
        actor=None,
        patient=patient,
        purpose=PortalLinkPurpose.JOURNAL,
        assignments=[],
        channel="qr",
        expires_at=clock.now() + timedelta(days=14),
        now=clock.now(),
    )
    phone_page.goto(f"{live_server.url}/portal/{issued.token}/plan/")
    phone_page.get_by_label("My triggers").fill("Payday evenings; the old crowd at the bar")
    phone_page.get_by_label("My warning signs").fill("Skipping meals, not answering Sam")
    phone_page.get_by_label("What I do to cope").fill("Walk the dog, call Sam, urge surfing")
    phone_page.get_by_label("People and groups I can call").fill("Sam; Tuesday SMART group")
    phone_page.get_by_role("button", name="Save my plan").click()
    expect(phone_page.get_by_test_id("plan-saved")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_no_serious_violations(phone_page, "the portal plan")
    shoot(phone_page, "03-plan-on-phone")
    assert RecoveryPlanVersion.objects.get(patient=patient).written_by_patient

    # and marks today on her use calendar from the same link (her mark replaces the clinic's)
    phone_page.goto(f"{live_server.url}/portal/{issued.token}/calendar/")
    phone_page.get_by_label("Day", exact=True).fill(clinic_today(clinic).isoformat())
    phone_page.get_by_label("Used", exact=True).check()
    phone_page.get_by_label("How much (if you used)").fill("half a troche")
    phone_page.get_by_role("button", name="Save this day").click()
    expect(phone_page.get_by_test_id("day-saved")).to_be_visible()
    expect(phone_page.get_by_test_id("use-calendar")).to_contain_text("half a troche")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_no_serious_violations(phone_page, "the portal use calendar")
    shoot(phone_page, "03b-calendar-on-phone")

    # then the therapist sees it, with a review due, and reviews it
    therapist = _staff_page(browser, live_server.url, "e2e.therapist")
    therapist.goto(f"{live_server.url}/recovery/patients/{patient.pk}/plan/")
    expect(therapist.get_by_test_id("plan")).to_contain_text("urge surfing")
    expect(therapist.get_by_test_id("review-due")).to_be_visible()
    therapist.get_by_label("Review note").fill("Went through it together; add a crisis line.")
    therapist.get_by_role("button", name="Record the review").click()
    expect(therapist.get_by_test_id("review-due")).to_have_count(0)
    shoot(therapist, "04-therapist-plan")

    # when the front desk asks for the Part 2 programme record: refused
    desk = _staff_page(browser, live_server.url, "e2e.front_desk")
    answer = desk.goto(f"{live_server.url}/recovery/patients/{patient.pk}/programme/")
    assert answer is not None and answer.status == 403
    shoot(desk, "05-part2-refused")

    # and the prescriber cannot disclose it before a consent is on file
    prescriber.goto(f"{live_server.url}/recovery/patients/{patient.pk}/part2/")
    expect(prescriber.get_by_test_id("no-consent")).to_be_visible()
    form = prescriber.get_by_test_id("disclose-form")
    form.get_by_label("Purpose").select_option("treatment")
    form.get_by_label("Recipient").fill("Dr Ada Lee, addiction medicine")
    form.get_by_role("button", name="Disclose with the notice").click()
    expect(prescriber.get_by_test_id("disclose-form")).to_contain_text("No current consent")
    assert not Part2Disclosure.objects.exists()

    # when the patient's consent for treatment, payment and operations is recorded
    prescriber.get_by_text("Record a consent the patient signed").click()
    consent = prescriber.get_by_test_id("consent-form")
    for purpose in ("Treatment", "Payment", "Operations"):
        consent.get_by_label(purpose).check()
    consent.get_by_label("Signed on").fill(timezone.localdate().isoformat())
    consent.get_by_role("button", name="Record the consent").click()
    form = prescriber.get_by_test_id("disclose-form")
    form.get_by_label("Purpose").select_option("treatment")
    form.get_by_label("Recipient").fill("Dr Ada Lee, addiction medicine")
    form.get_by_role("button", name="Disclose with the notice").click()
    # then the records go out with the notice against redisclosure, and it is accounted for
    expect(prescriber.get_by_test_id("redisclosure-notice")).to_contain_text("42 CFR part 2")
    assert_no_serious_violations(prescriber, "the disclosure")
    shoot(prescriber, "06-disclosed-with-notice")
    prescriber.goto(f"{live_server.url}/recovery/patients/{patient.pk}/part2/accounting/")
    expect(prescriber.get_by_test_id("disclosure-row")).to_contain_text("Dr Ada Lee")
    assert Part2Disclosure.objects.get(patient=patient).purpose == "treatment"
