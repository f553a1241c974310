"""Two journeys in real Chromium, each step by the role that does it.

An IV patient from registration (front desk), intake and screening (nurse), the screening's
signature (prescriber), consent (admin publishes, front desk records), course booking
(prescriber) to a full session: check-in, pre-dose checks, order, verification, infusion,
monitoring with an alarm, an adverse event, observation, discharge and the printed summary.
And an esketamine session: devices with the label's rest, blood pressure at about 40 minutes,
the two-hour observation and the REMS monitoring record.

The nurse works on a tablet-sized page, the prescriber in a second browser. Time is the
session clock's (`ketacare.treatment.clock`): the test moves it forward instead of sleeping,
and the live server sees the move at once.
"""

from collections.abc import Iterator
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from playwright.sync_api import Browser, Page, expect

from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.patients.models import BodyMeasurement
from ketacare.scheduling.models import ClinicSchedule
from ketacare.scheduling.selectors import clinic_zone
from ketacare.treatment.models import SessionStatus, TreatmentSession
from tests.browser import clinic_daytime, sign_in
from tests.factories import TEST_PASSWORD, ClinicFactory, PatientFactory, member
from tests.ledger.support import draw_for, nurse_actor, rems_ready
from tests.scheduling.factories import ChairFactory, appointment_row, course_row, open_every_day

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _real_time_after() -> Iterator[None]:
    clock.reset()
    clinic_daytime()
    yield
    clock.reset()


@pytest.fixture
def prescriber_page(browser: Browser) -> Iterator[Page]:
    """The prescriber's own browser (a laptop between patients)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _quiet_background_polls(page: Page) -> None:
    """On SQLite, answer the pages' background polls (timeline, safety banner) with 204.

    The in-memory SQLite test database locks whole tables between connections, so a poll
    landing while a step is saved fails with "database table is locked". PostgreSQL runs keep
    the polls; the timeline poll itself is tested in tests/treatment/test_pages.py.
    """
    if connection.vendor != "sqlite":
        return
    for pattern in ("**/sessions/*/timeline/**", "**/outcomes/alerts/banner/**"):
        page.route(pattern, lambda route: route.fulfill(status=204, body=""))


def _sign_in(page: Page, base_url: str, username: str) -> None:
    _quiet_background_polls(page)
    sign_in(page, base_url, username)
    expect(page.get_by_test_id("active-clinic")).to_be_visible()


def _clinic_with_patient(protocol_id: str, route: str):
    clinic = ClinicFactory(slug="e2e-sessions", name="Harbour Ketamine Clinic")
    staff = {
        "nurse": member(clinic, Role.NURSE, "e2e.nurse"),
        "prescriber": member(clinic, Role.PRESCRIBER, "e2e.prescriber"),
    }
    patient = PatientFactory(
        clinic=clinic, given_name="Marta", family_name="Lindqvist", sex="female"
    )
    BodyMeasurement.objects.create(
        clinic=clinic,
        patient=patient,
        measured_on=clock.now().date(),
        height_cm=Decimal("168.0"),
        recorded_by=staff["nurse"],
    )
    course = course_row(patient, staff, protocol_id=protocol_id, route=route)
    chair = ChairFactory(clinic=clinic, room="Suite A", label="Chair 2")
    appointment_row(course, chair, clock.now() - timedelta(minutes=5))
    if route == "esketamine":
        rems_ready(clinic, patient)
    return clinic, staff, patient


def _local(clinic, moment) -> str:
    return moment.astimezone(clinic_zone(clinic)).strftime("%Y-%m-%dT%H:%M")


def _check_in_and_pre_check(page: Page, base: str, patient_name: str, shoot, first: int = 1) -> str:
    # The nurse checks the patient in from today's list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today's sessions").click()
    expect(page.get_by_role("heading", name="Today's sessions")).to_be_visible()
    shoot(page, f"{first:02d}-todays-sessions")
    page.get_by_role("button", name=f"Check in {patient_name}").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Checked in")
    # Pre-dose checks: today's weight and vitals, checklist, PHQ-9, C-SSRS.
    page.get_by_label("Today's weight").fill("68.5")
    page.locator("input[name='weight_unit'][value='kg']").check()
    page.get_by_label("Systolic (mmHg)").fill("128")
    page.get_by_label("Diastolic (mmHg)").fill("82")
    page.get_by_label("Heart rate (/min)").fill("74")
    page.get_by_label("Respiratory rate (/min)").fill("14")
    page.get_by_label("SpO2 (%)").fill("98")
    page.locator("input[name='pregnancy_test'][value='negative']").check()
    page.get_by_label("Fasting as instructed").check()
    page.get_by_label("Escort home confirmed").check()
    page.get_by_label("Escort's name").fill("Jonas Lindqvist")
    for item, answer in zip(range(1, 10), [2, 2, 1, 2, 1, 1, 1, 0, 0], strict=True):
        page.locator(f"input[name='phq9_{item}'][value='{answer}']").check()
    for item in range(1, 7):
        page.locator(f"input[name='cssrs_{item}'][value='0']").check()
    shoot(page, f"{first + 1:02d}-pre-dose-checks")
    page.get_by_role("button", name="Record the pre-dose checks").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Pre-dose checks recorded")
    expect(page.get_by_text("Cleared to dose")).to_be_visible()
    return page.url


def _open_session(page: Page, url: str) -> None:
    """Open (or reload) the session page by its address: reloading a refused form's page
    would post the form again."""
    page.goto(url)


def _iv_session_after_pre_checks(
    page: Page, prescriber_page: Page, session_url: str, shoot, n: int
) -> None:
    """Order (the prescriber, signed in), verification, infusion, monitoring with an alarm, an
    adverse event, observation, discharge and the printed summary, each by the role that does it.
    Screenshots are numbered from `n`."""

    def snap(target: Page, name: str) -> None:
        nonlocal n
        n += 1
        shoot(target, f"{n:02d}-{name}")

    # The prescriber orders the dose the core computes from today's weight.
    _open_session(prescriber_page, session_url)
    prescriber_page.get_by_label("Concentration as prepared (mg/mL)").fill("1")
    prescriber_page.get_by_label("Bag or syringe volume (mL)").fill("100")
    # Above the route's ceiling the core's hard stop answers, whatever the reason.
    prescriber_page.get_by_label("Dose (mg/kg)").fill("1.2")
    prescriber_page.get_by_role("button", name="Calculate").click()
    expect(prescriber_page.locator("#dose-plan")).to_contain_text("Hard stop")
    snap(prescriber_page, "hard-stop-above-the-ceiling")
    prescriber_page.get_by_label("Dose (mg/kg)").fill("0.5")
    prescriber_page.get_by_role("button", name="Calculate").click()
    expect(prescriber_page.get_by_test_id("dose")).to_contain_text("34.2 mg")
    expect(prescriber_page.get_by_text("Pump rate")).to_be_visible()
    snap(prescriber_page, "prescriber-calculates")
    prescriber_page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    prescriber_page.get_by_role("button", name="Sign the order").click()
    expect(prescriber_page.get_by_text("You ordered this dose")).to_be_visible()
    snap(prescriber_page, "ordered-awaiting-verification")

    # The nurse verifies it independently.
    _open_session(page, session_url)
    expect(page.get_by_test_id("session-status")).to_have_text("Dose ordered")
    page.get_by_label("I checked the dose, weight and calculation").check()
    snap(page, "nurse-verifies")
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Verify the dose").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Dose verified")

    # Administration: product, lot and the pump as programmed (the dose drawn from a vial first).
    draw_for(TreatmentSession.objects.get(), nurse_actor(TreatmentSession.objects.get().clinic),
             lot="KH-24-0917")  # fmt: skip
    page.get_by_label("Product").fill("Ketamine HCl 50 mg/mL, diluted to 1 mg/mL in 0.9% saline")
    page.get_by_label("Lot number").fill("KH-24-0917")
    page.get_by_label("Concentration (mg/mL)").fill("1")
    page.get_by_label("Volume (mL)").fill("34.2")
    page.get_by_label("Pump rate (mL/h)").fill("51.3")
    snap(page, "administration")
    page.get_by_role("button", name="Start the infusion").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Dosing")
    expect(page.get_by_test_id("due")).to_contain_text("Vital signs every 10 min")

    # Monitoring: a normal reading, then one out of limits that asks for an action.
    monitoring = page.locator("#monitoring")
    clock.travel(timedelta(minutes=10))
    monitoring.get_by_label("Systolic", exact=True).fill("134")
    monitoring.get_by_label("Diastolic", exact=True).fill("86")
    monitoring.get_by_label("Heart rate", exact=True).fill("82")
    monitoring.get_by_label("SpO2 %").fill("97")
    monitoring.get_by_label("MOAA/S").select_option("4")
    monitoring.get_by_label("Dissociation").select_option("mild")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(page.get_by_test_id("reading")).to_have_count(2)
    clock.travel(timedelta(minutes=10))
    monitoring = page.locator("#monitoring")
    monitoring.get_by_label("Systolic", exact=True).fill("146")
    monitoring.get_by_label("Diastolic", exact=True).fill("90")
    monitoring.get_by_label("SpO2 %").fill("89")
    monitoring.get_by_label("MOAA/S").select_option("3")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(page.get_by_test_id("reading")).to_have_count(3)
    expect(page.locator("td.out")).to_contain_text("89%")
    alarm = page.get_by_role("alert").filter(has_text="Action needed")
    expect(alarm).to_contain_text("SpO2 89% is below 92%")
    expect(alarm).to_contain_text("Pause dosing and call the prescriber")
    snap(page, "out-of-limit-reading-prompts-action")
    alarm.get_by_label("Paused dosing").check()
    alarm.get_by_label("Note", exact=True).fill(
        "Chin lift, 2 L O2 by nasal cannula, prescriber informed"
    )
    alarm.get_by_role("button", name="Record action").click()
    expect(page.get_by_role("heading", name="Step 4 · Dosing — infusion paused")).to_be_visible()
    snap(page, "infusion-paused")

    # SpO2 recovers; the infusion resumes with a reason.
    clock.travel(timedelta(minutes=4))
    monitoring = page.locator("#monitoring")
    monitoring.get_by_label("SpO2 %").fill("96")
    monitoring.get_by_label("Heart rate", exact=True).fill("80")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(page.get_by_test_id("reading")).to_have_count(4)
    page.get_by_text("Pause, resume, slow or stop").click()
    page.get_by_label("Resume").check()
    page.get_by_label("Reason").fill("SpO2 96% on 2 L, prescriber agrees to resume")
    page.get_by_role("button", name="Record the change").click()
    expect(page.get_by_role("heading", name="Step 4 · Dosing — infusion running")).to_be_visible()

    # An adverse event.
    page.get_by_text("Record an adverse event").click()
    page.get_by_label("What happened").select_option("nausea_vomiting")
    page.get_by_label("Mild").check()
    page.get_by_label("Intervention").fill("Ondansetron 4 mg orally")
    page.get_by_label("Outcome").select_option("resolved")
    page.get_by_label("Description").fill("Nausea without vomiting")
    snap(page, "adverse-event")
    page.get_by_role("button", name="Record the adverse event").click()
    expect(page.get_by_test_id("adverse-event")).to_contain_text("Nausea or vomiting")

    # The infusion completes; observation starts with its countdown.
    clock.travel(timedelta(minutes=22))
    page.get_by_role("button", name="Infusion complete").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Observation")
    expect(page.get_by_test_id("countdown")).to_contain_text("left")
    for criterion in ("Alert", "Oriented", "Vital signs near baseline", "Walking steadily"):
        page.get_by_label(criterion, exact=True).check()
    page.get_by_label("Escort present").check()
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_role("alert").filter(has_text="Discharge refused")).to_contain_text(
        "of the minimum 30 minutes of observation remain"
    )
    snap(page, "discharge-refused-before-30-minutes")

    # Thirty-one minutes later, with readings, the nurse discharges.
    clock.travel(timedelta(minutes=15))
    _open_session(page, session_url)
    monitoring = page.locator("#monitoring")
    monitoring.get_by_label("Systolic", exact=True).fill("124")
    monitoring.get_by_label("Diastolic", exact=True).fill("80")
    monitoring.get_by_label("MOAA/S").select_option("5")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(page.get_by_test_id("reading")).to_have_count(5)
    clock.travel(timedelta(minutes=16))
    _open_session(page, session_url)
    expect(page.get_by_test_id("countdown")).to_contain_text("complete")
    snap(page, "observation-complete")
    for criterion in ("Alert", "Oriented", "Vital signs near baseline", "Walking steadily"):
        page.get_by_label(criterion, exact=True).check()
    page.get_by_label("Escort present").check()
    page.get_by_label("Escort's name").fill("Jonas Lindqvist")
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Discharged")
    snap(page, "discharged")

    # The printable summary.
    page.get_by_role("link", name="Print the session summary").click()
    expect(page.get_by_role("heading", name="Treatment session summary")).to_be_visible()
    expect(page.get_by_test_id("summary-patient")).to_contain_text("Marta Lindqvist")
    page.emulate_media(media="print")
    snap(page, "printable-summary")


def _as(browser: Browser, base: str, username: str) -> Page:
    """A fresh browser for one member of staff, signed in."""
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, base, username)
    return page


def _intake(page: Page, clinic, shoot) -> None:
    """The nurse completes the intake, step by step."""
    page.get_by_role("link", name="Start intake").click()
    # Registration recorded the demographics: the intake opens at the contacts.
    panel = page.get_by_role("region", name="Contact, emergency contact and escort")
    panel.get_by_label("Emergency contact name").fill("Jonas Lindqvist")
    panel.get_by_label("Emergency contact relationship").fill("Husband")
    panel.get_by_label("Emergency contact phone").fill("555-0142")
    panel.get_by_label("Escort name").fill("Jonas Lindqvist")
    panel.get_by_role("button", name="Save and continue").click()
    panel = page.get_by_role("region", name="Height and weight")
    panel.get_by_label("Height (cm)").fill("168")
    panel.get_by_label("Weight (kg)").fill("69")
    panel.get_by_role("button", name="Save and continue").click()
    panel = page.get_by_role("region", name="Diagnoses")
    panel.get_by_label("ICD-10 code, row 1").fill("F33.2")
    panel.get_by_label("Description, row 1").fill("Major depressive disorder, recurrent, severe")
    panel.get_by_label("Primary, row 1").check()
    shoot(page, "02-intake-diagnoses")
    panel.get_by_role("button", name="Save and continue").click()
    for region, none in (
        ("Psychiatric history", "None of these, and no other history"),
        ("Medical history", "None of these, and no other history"),
        ("Allergies", "No known allergies"),
        ("Current medicines", "Takes no medicines"),
        ("Substance use", "No substance use"),
    ):
        panel = page.get_by_role("region", name=region)
        panel.get_by_label(none).check()
        panel.get_by_role("button", name="Save and continue").click()
    panel = page.get_by_role("region", name="Pregnancy and breastfeeding")
    panel.get_by_label("Pregnant?").select_option(label="No")
    panel.get_by_label("Breastfeeding?").select_option(label="No")
    panel.get_by_role("button", name="Save and continue").click()
    # Two failed adequate trials in this episode: the IV protocol is for treatment-resistant
    # depression, and the episode of each trial is said, not assumed.
    panel = page.get_by_role("region", name="Prior antidepressant trials")
    for row, (drug, outcome) in enumerate(
        (("sertraline", "No response"), ("venlafaxine", "Partial response")), start=1
    ):
        panel.get_by_label(f"Drug, row {row}").fill(drug)
        panel.get_by_label(f"Adequate dose?, row {row}").select_option(label="Yes")
        panel.get_by_label(f"Weeks, row {row}").fill("8")
        panel.get_by_label(f"Outcome, row {row}").select_option(label=outcome)
        panel.get_by_label(f"This episode?, row {row}").select_option(label="Yes")
    panel.get_by_role("button", name="Save and continue").click()
    panel = page.get_by_role("region", name="Baseline vital signs")
    panel.get_by_label("Measured at").fill(_local(clinic, clock.now()))
    panel.get_by_label("Systolic (mmHg)").fill("126")
    panel.get_by_label("Diastolic (mmHg)").fill("80")
    panel.get_by_label("Heart rate (/min)").fill("72")
    panel.get_by_label("SpO₂ (%)").fill("98")
    panel.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Finish intake").click()
    expect(page.get_by_test_id("intake-status")).to_have_text("Complete")
    shoot(page, "03-intake-complete")


def test_an_iv_patient_from_registration_to_the_printed_session_summary(
    live_server, page, prescriber_page, browser, shoot
):
    # The clinic is set up: staff, a chair, opening hours every day.
    clinic = ClinicFactory(slug="e2e-sessions", name="Harbour Ketamine Clinic")
    for role, username in (
        (Role.ADMIN, "e2e.admin"),
        (Role.FRONT_DESK, "e2e.desk"),
        (Role.NURSE, "e2e.nurse"),
        (Role.PRESCRIBER, "e2e.prescriber"),
    ):
        member(clinic, role, username)
    ChairFactory(clinic=clinic, room="Suite A", label="Chair 2")
    open_every_day(clinic)
    ClinicSchedule.objects.filter(clinic=clinic).update(opens_at=time(0, 0), closes_at=time(23, 59))
    base = live_server.url

    # Front desk registers the patient.
    desk = _as(browser, base, "e2e.desk")
    desk.goto(f"{base}/patients/new/")
    desk.get_by_label("Given name").fill("Marta")
    desk.get_by_label("Family name").fill("Lindqvist")
    desk.get_by_label("Date of birth").fill("1979-03-14")
    desk.get_by_label("Sex").select_option("female")
    desk.get_by_label("Phone").fill("555-0199")
    desk.get_by_role("button", name="Save").click()
    expect(desk.get_by_test_id("patient-name")).to_have_text("Marta Lindqvist")
    patient_url = desk.url
    shoot(desk, "01-registered")

    # The nurse takes the intake and runs the screening for the IV protocol.
    _sign_in(page, base, "e2e.nurse")
    page.goto(patient_url)
    _intake(page, clinic, shoot)
    page.get_by_role("link", name="Screening", exact=True).first.click()
    page.get_by_label("Screen the chart for").select_option(
        label="IV ketamine induction series, six infusions (iv)"
    )
    page.get_by_role("button", name="Run screening").click()
    expect(page.get_by_test_id("screening-status")).to_have_text("Eligible")
    screening_url = page.url
    shoot(page, "04-screening-eligible")

    # The prescriber signs the screening.
    _sign_in(prescriber_page, base, "e2e.prescriber")
    prescriber_page.goto(screening_url)
    prescriber_page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    prescriber_page.get_by_role("button", name="Sign screening").click()
    expect(prescriber_page.get_by_text("Signed", exact=False).first).to_be_visible()
    shoot(prescriber_page, "05-screening-signed")

    # The admin publishes the clinic's IV consent; front desk records the patient's signature.
    admin = _as(browser, base, "e2e.admin")
    admin.goto(f"{base}/consent/documents/new/?route=iv")
    admin.get_by_role("button", name="Publish version").click()
    admin.context.close()
    desk.goto(patient_url)
    desk.get_by_role("link", name="Consent", exact=True).first.click()
    desk.get_by_role("link", name="Record consent").first.click()
    desk.get_by_label("Full name, typed by the person signing").fill("Marta Lindqvist")
    desk.get_by_label("Witnessed by").select_option(index=1)
    desk.get_by_label("The patient has read the text").check()
    shoot(desk, "06-consent")
    desk.get_by_role("button", name="Record signature").click()
    desk.context.close()

    # The prescriber books the course: six infusions, the first one in a few minutes.
    prescriber_page.goto(patient_url)
    prescriber_page.get_by_role("link", name="Start a course").click()
    prescriber_page.get_by_label("Protocol").select_option("iv_induction_6x")
    first = clock.now().astimezone(clinic_zone(clinic)) + timedelta(minutes=3)
    prescriber_page.get_by_label("Start on").fill(first.strftime("%Y-%m-%d"))
    prescriber_page.get_by_label("Time of day").fill(first.strftime("%H:%M"))
    shoot(prescriber_page, "07-course-booking")
    prescriber_page.get_by_role("button", name="Start and book all sessions").click()
    expect(prescriber_page.get_by_text("iv_induction_6x").first).to_be_visible()
    shoot(prescriber_page, "08-course-booked")

    # The nurse checks the patient in and runs the session with the prescriber.
    session_url = _check_in_and_pre_check(page, base, "Marta Lindqvist", shoot, first=9)
    _iv_session_after_pre_checks(page, prescriber_page, session_url, shoot, 10)
    assert TreatmentSession.objects.get().status == SessionStatus.DISCHARGED


def test_an_esketamine_session_with_devices_the_40_minute_bp_and_the_rems_record(
    live_server, page, prescriber_page, shoot
):
    clinic, staff, patient = _clinic_with_patient("esketamine_trd", "esketamine")
    base = live_server.url
    _sign_in(page, base, "e2e.nurse")
    session_url = _check_in_and_pre_check(page, base, patient.display_name, shoot)

    # The prescriber orders the label's first dose: 56 mg, two devices.
    _sign_in(prescriber_page, base, "e2e.prescriber")
    _open_session(prescriber_page, session_url)
    prescriber_page.get_by_label("56 mg (2 devices)").check()
    prescriber_page.get_by_role("button", name="Calculate").click()
    expect(prescriber_page.get_by_test_id("dose")).to_contain_text("2 devices, 5 min rest")
    shoot(prescriber_page, "03-prescriber-orders-56-mg")
    prescriber_page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    prescriber_page.get_by_role("button", name="Sign the order").click()
    expect(prescriber_page.get_by_text("You ordered this dose")).to_be_visible()

    # The nurse verifies and supervises the first device.
    _open_session(page, session_url)
    page.get_by_label("I checked the dose, weight and calculation").check()
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Verify the dose").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Dose verified")
    draw_for(TreatmentSession.objects.get(), nurse_actor(clinic), lot="SPR-5521")
    page.get_by_label("Lot number").fill("SPR-5521")
    shoot(page, "04-first-device")
    page.get_by_role("button", name="First device used").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Dosing")
    expect(page.get_by_test_id("next-device")).to_contain_text("5 minutes' rest")

    # Too early for the second device: refused with the time it may be used.
    clock.travel(timedelta(minutes=2))
    page.get_by_role("button", name="Next device used").click()
    expect(page.get_by_role("alert").filter(has_text="rest between devices")).to_be_visible()
    shoot(page, "05-second-device-refused-before-5-minutes")
    clock.travel(timedelta(minutes=3))
    _open_session(page, session_url)
    page.get_by_role("button", name="Next device used").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Observation")
    expect(page.get_by_test_id("due")).to_contain_text("Blood pressure about 40 min")
    shoot(page, "06-devices-done-observation")

    # Blood pressure at about 40 minutes after the dose (half a pressure is sent back, in place).
    clock.travel(timedelta(minutes=35))
    monitoring = page.locator("#monitoring")
    monitoring.get_by_label("Systolic", exact=True).fill("148")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(page.locator("#monitoring").get_by_role("alert")).to_contain_text(
        "Give both systolic and diastolic pressure"
    )
    monitoring = page.locator("#monitoring")
    monitoring.get_by_label("Diastolic", exact=True).fill("92")
    monitoring.get_by_label("Heart rate", exact=True).fill("84")
    monitoring.get_by_label("SpO2 %").fill("97")
    monitoring.get_by_label("MOAA/S").select_option("4")
    monitoring.get_by_label("Dissociation").select_option("moderate")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(page.get_by_test_id("reading")).to_have_count(2)
    shoot(page, "07-bp-at-40-minutes")

    # The two-hour observation from the last device: the countdown, then complete.
    clock.travel(timedelta(minutes=50))
    _open_session(page, session_url)
    expect(page.get_by_test_id("countdown")).to_contain_text("left")
    ready = clock.now()
    monitoring = page.locator("#monitoring")
    monitoring.get_by_label("Systolic", exact=True).fill("128")
    monitoring.get_by_label("Diastolic", exact=True).fill("82")
    monitoring.get_by_label("MOAA/S").select_option("5")
    monitoring.get_by_label("Dissociation").select_option("none")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(page.get_by_test_id("reading")).to_have_count(3)
    shoot(page, "08-observation-countdown")
    clock.travel(timedelta(minutes=36))
    _open_session(page, session_url)
    expect(page.get_by_test_id("countdown")).to_contain_text("complete")
    for criterion in (
        "Sedation resolved",
        "Dissociation resolved",
        "No respiratory depression",
        "Vital signs acceptable",
        "Transport home arranged (no driving until tomorrow)",
    ):
        page.get_by_label(criterion).check()
    page.get_by_label("Clinically ready at").fill(_local(clinic, ready))
    shoot(page, "09-discharge-checklist")
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Discharge").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Discharged")

    # The REMS monitoring record holds what the patient monitoring form asks.
    page.get_by_role("link", name="REMS monitoring record").first.click()
    rems = page.get_by_test_id("rems")
    expect(rems).to_contain_text("56 mg")
    expect(rems).to_contain_text("SPR-5521")
    expect(rems).to_contain_text("148/92")
    expect(page.get_by_test_id("rems-minutes")).not_to_contain_text("under 120")
    page.emulate_media(media="print")
    shoot(page, "10-rems-monitoring-record")
