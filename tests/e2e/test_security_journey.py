"""In Chromium: a prescriber signs in with an authenticator code; the CSP stops injected script
and injected style, and the app's own pages trip none of it."""

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from ketacare.accounts.roles import Role
from tests.browser import pass_second_factor, sign_in
from tests.factories import TEST_PASSWORD, ClinicFactory, PatientFactory, member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_prescriber_enrols_an_authenticator_then_signs_in_with_a_totp_code(
    live_server, page: Page, shoot
):
    # given a prescriber without a second factor
    clinic = ClinicFactory(slug="mfa", name="MFA Clinic")
    member(clinic, Role.PRESCRIBER, "mfa.prescriber")
    # when she signs in with her password, she is asked to set up an authenticator
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("mfa.prescriber")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    shoot(page, "01-enrol")
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("The six-digit code the app shows now").fill(
        f"{totp(key, step=30, t0=0, digits=6):06d}"
    )
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    shoot(page, "02-recovery-codes")
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_test_id("active-clinic")).to_have_text("MFA Clinic")
    page.get_by_role("button", name="Sign out").click()
    # then the next sign-in asks for the code, and a wrong one is refused
    page.get_by_label("Username").fill("mfa.prescriber")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your authenticator code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    shoot(page, "03-wrong-code")
    page.wait_for_timeout(1200)  # the throttle's pause after a failure
    pass_second_factor(page, "mfa.prescriber")
    expect(page.get_by_test_id("active-clinic")).to_have_text("MFA Clinic")
    shoot(page, "04-signed-in")


def test_the_content_security_policy_blocks_an_injected_inline_script(
    live_server, page: Page, shoot
):
    # given a nurse, and a patient page into which markup has been injected on its way
    # to the browser (as a stored-XSS payload that escaped escaping would be)
    clinic = ClinicFactory(slug="csp", name="CSP Clinic")
    member(clinic, Role.NURSE, "csp.nurse")
    patient = PatientFactory(clinic=clinic, given_name="Ines", family_name="Okafor")
    sign_in(page, live_server.url, "csp.nurse")
    payload = (
        "<script>window.__injected = 'ran';</script>"
        '<img src="/static/none.png" onerror="window.__handler = \'ran\'">'
        '<p id="injected-style" style="color: rgb(1, 2, 3)">restyled</p>'
        "<style>#injected-style { background-color: rgb(4, 5, 6); }</style>"
    )

    def inject(route):
        answer = route.fetch()
        body = answer.text().replace("</main>", payload + "</main>")
        route.fulfill(response=answer, body=body)

    page.route(f"{live_server.url}/patients/{patient.pk}/", inject)
    refusals = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    # when the page loads
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_test_id("patient-name")).to_have_text("Ines Okafor")
    page.wait_for_timeout(800)
    shoot(page, "01-injected-page")
    # then neither the inline script nor the inline handler ran, and Chromium says why
    assert page.evaluate("window.__injected === undefined && window.__handler === undefined")
    script_refusals = [text for text in refusals if "script-src 'self'" in text]
    style_refusals = [text for text in refusals if "style-src 'self'" in text]
    assert len(script_refusals) >= 2, refusals
    # and neither the style attribute nor the <style> element applied
    injected = page.locator("#injected-style")
    expect(injected).not_to_have_css("color", "rgb(1, 2, 3)")
    expect(injected).not_to_have_css("background-color", "rgb(4, 5, 6)")
    assert len(style_refusals) >= 2, refusals
    assert len(script_refusals) + len(style_refusals) == len(refusals), refusals
    # and the page's own scripts (htmx and ketacare.js from our origin) still run
    assert page.evaluate("typeof window.htmx") == "object"


def test_the_pages_whose_styles_moved_to_stylesheets_trip_no_policy_and_keep_their_look(
    live_server, page: Page, shoot
):
    # given a prescriber (past the second factor) in a clinic with a patient
    clinic = ClinicFactory(slug="strict", name="Strict Clinic")
    member(clinic, Role.PRESCRIBER, "strict.prescriber")
    patient = PatientFactory(clinic=clinic, given_name="Ines", family_name="Okafor")
    refusals = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, live_server.url, "strict.prescriber")
    # when she opens the pages that carried inline style
    for path in [
        "/patients/",
        f"/patients/{patient.pk}/",
        "/schedule/",
        "/sessions/",
        "/outcomes/",
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    # then the chart's wide outcomes panel spans the grid as the attribute made it
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.wait_for_load_state("networkidle")
    shoot(page, "strict-01-patient-chart")
    expect(page.get_by_test_id("outcomes-panel")).to_have_css("grid-column-start", "1")
    # and no page asked the browser for anything the policy refuses
    assert refusals == []
