"""The controlled-substance ledger and the SPRAVATO REMS in real Chromium, each step by its role.

An IV walk: a box of vials received; a session draws, gives the delivered dose and wastes the
rest before a witness; the balance shows on the container; a shift count with a variance opens
a discrepancy that blocks the container; the 1304.22(c) record lists the dose.
An esketamine walk: the first dose refused until enrolment; after the session the monitoring
form is filled from the record, signed and marked submitted; the queue shows it.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.patients.models import ChartSection
from ketacare.rems.models import SettingCertification
from ketacare.treatment.models import TreatmentSession
from tests.browser import clinic_daytime, sign_in
from tests.factories import TEST_PASSWORD, ClinicFactory, PatientFactory, member
from tests.ledger.factories import stock_for
from tests.treatment.factories import (
    Team,
    check_in,
    course_of,
    discharge,
    fresh,
    key,
    reading,
    start,
    todays_appointment,
    walk_to,
)
from tests.treatment.factories import _end_dosing as end_dosing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _real_time_after() -> Iterator[None]:
    clock.reset()
    clinic_daytime()
    yield
    clock.reset()


def _as(browser: Browser, base: str, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    for pattern in ("**/sessions/*/timeline/**", "**/outcomes/alerts/banner/**"):
        page.route(pattern, lambda route: route.fulfill(status=204, body=""))
    sign_in(page, base, username)  # with the authenticator code a prescriber's role needs
    expect(page.get_by_test_id("active-clinic")).to_be_visible()
    return page


def _clinic():
    clinic = ClinicFactory(slug="e2e-ledger", name="Harbour Ketamine Clinic")
    staff = {
        role.value: member(clinic, role, f"e2e.{role.value}")
        for role in (Role.ADMIN, Role.NURSE, Role.PRESCRIBER)
    }
    patient = PatientFactory(
        clinic=clinic, given_name="Marta", family_name="Lindqvist", sex="female"
    )
    ChartSection.objects.create(
        clinic=clinic, patient=patient, section="contact", updated_at=timezone.now(),
        updated_by=staff["nurse"],
        data={"address": "12 Quay Road, Portsmouth NH 03801", "emergency_contact_name": "Jo",
              "emergency_contact_phone": "555-0100"},
    )  # fmt: skip
    return clinic, staff, patient


def test_a_vial_received_drawn_given_wasted_counted_and_reported(live_server, browser, shoot):
    clinic, staff, patient = _clinic()
    stock = stock_for(clinic, staff)
    base = live_server.url

    # The nurse receives a box of five vials.
    nurse = _as(browser, base, "e2e.nurse")
    nurse.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Controlled substances"
    ).click()
    nurse.get_by_role("link", name="Receive").click()
    form = nurse.get_by_test_id("receive-form")
    form.get_by_label("Product").select_option(label=str(stock.vial))
    form.get_by_label("Lot number").fill("KH-24-0917")
    form.get_by_label("Lot expiry").fill((timezone.localdate() + timedelta(days=300)).isoformat())
    form.get_by_label("Number of containers").fill("5")
    form.get_by_label("Label containers as (prefix)").fill("KV")
    form.get_by_label("Supplier name").fill("Acme Wholesale")
    form.get_by_label("Supplier address").fill("1 Supply Way, Newark NJ")
    form.get_by_label("Supplier DEA number").fill("RA1234563")
    form.get_by_label("Invoice").fill("INV-5512")
    shoot(nurse, "01-receive-a-box-of-vials")
    form.get_by_role("button", name="Receive").click()
    expect(nurse.get_by_test_id("container-row")).to_have_count(5)
    expect(nurse.get_by_test_id("stock-balance")).to_have_text("2500 mg")
    shoot(nurse, "02-five-vials-on-the-shelf")

    # An IV session reaches its verified dose (35 mg); the nurse draws 50 mg from the first vial.
    team = Team.of(clinic, staff)
    session = walk_to(team, check_in(team, patient, staff), "verified")
    nurse.goto(f"{base}/sessions/{session.pk}/")
    nurse.get_by_test_id("ledger-link").get_by_role("link").click()
    draw_form = nurse.get_by_test_id("draw-form")
    draw_form.get_by_label("Container").select_option(index=0)
    draw_form.get_by_label("Quantity drawn").fill("50")
    shoot(nurse, "03-draw-for-the-dose")
    draw_form.get_by_role("button", name="Draw").click()
    expect(nurse.get_by_test_id("draw")).to_contain_text("50 mg")

    # The infusion runs (the dose given is the delivered 35 mg, recorded from the session).
    start(team, session, lot="KH-24-0917", draw=False)
    from tests.treatment.factories import complete

    complete(team, fresh(session))
    nurse.goto(f"{base}/sessions/{session.pk}/")
    nurse.get_by_test_id("ledger-waste-link").click()
    expect(nurse.get_by_test_id("draw-state")).to_contain_text("Given 35")

    # A witness who drew is refused; the prescriber witnesses the waste of the 15 mg left.
    waste = nurse.get_by_test_id("waste-form")
    waste.get_by_label("Quantity wasted").fill("15")
    waste.get_by_label("Witness (user name)").fill("e2e.nurse")
    waste.get_by_label("Witness's password").fill(TEST_PASSWORD)
    waste.get_by_role("button", name="Record the waste").click()
    expect(nurse.get_by_role("alert").first).to_contain_text("cannot witness")
    shoot(nurse, "04-the-drawer-cannot-witness")
    nurse.get_by_label("Quantity wasted").fill("15")
    nurse.get_by_label("Witness (user name)").fill("e2e.prescriber")
    nurse.get_by_label("Witness's password").fill(TEST_PASSWORD)
    nurse.get_by_role("button", name="Record").click()
    expect(nurse.get_by_test_id("draw-state")).to_contain_text("accounted for")
    shoot(nurse, "05-draw-accounted-for")

    # The balance shows on the container: 500 - 50 = 450 mg.
    nurse.get_by_test_id("draw").get_by_role("link").first.click()
    expect(nurse.get_by_test_id("container-balance")).to_have_text("450 mg")
    expect(nurse.get_by_test_id("entry-row")).to_have_count(4)
    shoot(nurse, "06-container-balance-and-entries")

    # A shift count by two people finds 440 mg in that vial: a discrepancy blocks it.
    nurse.get_by_role("link", name="Count").click()
    count = nurse.get_by_test_id("count-form")
    count.get_by_label("Kind").select_option("shift")
    count.get_by_label("KV-001 (mg)").fill("440")
    for n in range(2, 6):
        count.get_by_label(f"KV-00{n} (mg)").fill("500")
    count.get_by_label("Second counter (user name)").fill("e2e.prescriber")
    count.get_by_label("Second counter's password").fill(TEST_PASSWORD)
    shoot(nurse, "07-shift-count")
    count.get_by_role("button", name="Record the count").click()
    expect(nurse.get_by_test_id("discrepancy-row")).to_have_count(1)
    shoot(nurse, "08-variance-opens-a-discrepancy")
    nurse.get_by_test_id("discrepancy-row").get_by_role("link").first.click()
    expect(nurse.get_by_test_id("container-blocked")).to_be_visible()
    shoot(nurse, "09-container-blocked")

    # The prescriber opens the 1304.22(c) record: the dose with the patient's name and address.
    prescriber = _as(browser, base, "e2e.prescriber")
    prescriber.goto(f"{base}/ledger/reports/dispensing/")
    table = prescriber.get_by_test_id("report-table")
    expect(table).to_contain_text("Marta Lindqvist")
    expect(table).to_contain_text("12 Quay Road, Portsmouth NH 03801")
    expect(table).to_contain_text("35 mg")
    expect(table).to_contain_text("Administration")
    shoot(prescriber, "10-dispensing-record")
    with prescriber.expect_download() as download:
        prescriber.get_by_test_id("report-csv").click()
    assert "Marta Lindqvist" in download.value.path().read_text()
    prescriber.get_by_test_id("report-print").click()
    expect(prescriber.get_by_role("heading", level=1)).to_contain_text("1304.22(c)")
    shoot(prescriber, "11-dispensing-record-printable")


def test_an_esketamine_patient_enrolled_then_the_monitoring_form_submitted(
    live_server, browser, shoot
):
    clinic, staff, patient = _clinic()
    stock = stock_for(clinic, staff)
    stock.receive(stock.device, count=4, prefix="SD", lot="SPR-5521")
    SettingCertification.objects.create(
        clinic=clinic, certification_id="HCS-445566", location="Harbour, 1 Quay",
        authorised_representative="Ada Admin",
        certified_on=timezone.localdate() - timedelta(days=9),
        status="certified", recorded_by=staff["admin"], recorded_at=timezone.now(),
    )  # fmt: skip
    base = live_server.url
    team = Team.of(clinic, staff)
    from ketacare.treatment import services as treatment

    appointment = todays_appointment(course_of(patient, staff, "esketamine_trd"))
    session = treatment.session_check_in(
        actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
    )
    walk_to(team, session, "verified")

    # The nurse draws two devices, then the first device is refused: the patient is not enrolled.
    nurse = _as(browser, base, "e2e.nurse")
    nurse.goto(f"{base}/ledger/sessions/{session.pk}/")
    for _ in range(2):
        form = nurse.get_by_test_id("draw-form")
        form.get_by_label("Container").select_option(index=0)
        form.get_by_label("Quantity drawn").fill("1")
        form.get_by_role("button", name="Draw").click()
    expect(nurse.get_by_test_id("draw")).to_have_count(2)
    nurse.goto(f"{base}/sessions/{session.pk}/")
    nurse.get_by_label("Product").fill("SPRAVATO 28 mg device")
    nurse.get_by_label("Lot number").fill("SPR-5521")
    nurse.get_by_role("button", name="First device used").click()
    expect(nurse.get_by_role("alert").filter(has_text="not enrolled")).to_be_visible()
    shoot(nurse, "01-first-dose-refused-until-enrolled")

    # The nurse enrols the patient (form signed by the patient and the prescriber).
    nurse.goto(f"{base}/rems/patients/{patient.pk}/enrol/")
    enrol = nurse.get_by_test_id("enrol-form")
    enrol.get_by_label("REMS patient id").fill("RP-0098123")
    enrol.get_by_label("The patient signed the enrolment form").check()
    enrol.get_by_label("Prescriber who signed").select_option(index=0)
    shoot(nurse, "02-enrolment")
    enrol.get_by_role("button", name="Enrol").click()
    expect(nurse.get_by_test_id("enrolled")).to_contain_text("RP-0098123")

    # Now the devices are given, BP at 40 minutes and before discharge, two hours observed.
    nurse.goto(f"{base}/sessions/{session.pk}/")
    nurse.get_by_label("Product").fill("SPRAVATO 28 mg device")
    nurse.get_by_label("Lot number").fill("SPR-5521")
    nurse.get_by_role("button", name="First device used").click()
    expect(nurse.get_by_test_id("session-status")).to_have_text("Dosing")
    end_dosing(team, session)  # the second device after the label's rest
    for minutes, (systolic, diastolic) in ((40, (142, 88)), (85, (128, 80))):
        clock.travel(timedelta(minutes=minutes))
        reading(team, session, systolic=systolic, diastolic=diastolic, heart_rate=80, spo2=97)
    discharge(team, session)

    # After the session: the form is in the queue, due in 7 calendar days.
    nurse.goto(f"{base}/rems/")
    expect(nurse.get_by_test_id("pmf-state")).to_have_text("due")
    shoot(nurse, "03-queue-form-due")
    nurse.get_by_test_id("pmf-row").get_by_role("link").click()
    nurse.get_by_test_id("pmf-fill").click()
    expect(nurse.get_by_test_id("pmf-dose")).to_have_text("56 mg")
    expect(nurse.get_by_test_id("pmf-lot")).to_have_text("SPR-5521")
    expect(nurse.get_by_test_id("pmf-bp_at_40")).to_have_text("142/88")
    expect(nurse.get_by_test_id("pmf-rems_patient_id")).to_have_text("RP-0098123")
    shoot(nurse, "04-form-filled-from-the-record")
    nurse.get_by_test_id("pmf-sign").click()
    expect(nurse.get_by_test_id("pmf-signed")).to_be_visible()
    pdf = nurse.request.get(base + nurse.get_by_test_id("pmf-pdf").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    submit = nurse.get_by_test_id("pmf-submit-form")
    submit.get_by_label("Method").select_option("portal")
    submit.get_by_label("Confirmation number").fill("PMF-20481")
    shoot(nurse, "05-form-signed-record-the-submission")
    submit.get_by_role("button", name="Record the submission").click()
    expect(nurse.get_by_test_id("pmf-submitted")).to_contain_text("PMF-20481")

    # The queue shows it submitted.
    nurse.goto(f"{base}/rems/")
    expect(nurse.get_by_test_id("pmf-state")).to_have_text("submitted")
    shoot(nurse, "06-queue-form-submitted")
    assert TreatmentSession.objects.get().status == "discharged"
