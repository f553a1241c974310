"""Headers and sessions: CSP on every page, no-store on patient data, the 12-hour cap."""

import re
import time
from pathlib import Path

import pytest
from django.test import Client

import ketacare

pytestmark = pytest.mark.django_db


def test_every_page_carries_a_content_security_policy_without_inline_script(world):
    client = world.web(world.staff["nurse"])
    for url in ["/", "/patients/", f"/patients/{world.patient_a.pk}/", "/login/"]:
        policy = client.get(url, follow=True).headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in policy
            and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        )
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_the_policy_allows_no_inline_style(world):
    policy = world.web(world.staff["nurse"]).get("/patients/").headers["Content-Security-Policy"]
    style_src = policy.split("style-src")[1].split(";")[0]
    assert style_src.strip() == "'self'"


STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^<>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


@pytest.mark.django_db(databases=[])
def test_no_template_has_a_style_attribute_or_a_style_element():
    # given every template the app ships (the CSP forbids inline style, so it would be ignored)
    templates = sorted(Path(ketacare.__file__).parent.rglob("*.html"))
    assert len(templates) > 100
    # then none carries a style attribute or a <style> element; styles live in static files
    offenders = [
        f"{path.relative_to(Path(ketacare.__file__).parent)}: {match.group(0)[:80]}"
        for path in templates
        for pattern in (STYLE_ATTRIBUTE, STYLE_ELEMENT)
        for match in pattern.finditer(path.read_text())
    ]
    assert offenders == []


def test_pages_rendered_with_generated_markup_carry_no_inline_style(world):
    # the QR code (segno's SVG) and the outcome charts are generated, not written in a template
    client = world.web(world.staff["prescriber"])
    for url in ["/", "/patients/", f"/patients/{world.patient_a.pk}/", "/mfa/enrol/"]:
        response = client.get(url, follow=True)
        html = response.content.decode()
        assert not STYLE_ATTRIBUTE.search(html) and not STYLE_ELEMENT.search(html), url


def test_no_page_has_inline_script_or_inline_event_handlers(world):
    client = world.web(world.staff["prescriber"])
    for url in ["/", "/patients/", f"/patients/{world.patient_a.pk}/"]:
        html = client.get(url).content.decode()
        assert "<script>" not in html and " onclick=" not in html and "hx-on" not in html


def test_api_answers_with_patient_data_are_not_stored(world):
    response = world.api(world.staff["nurse"]).get(f"/api/v1/patients/{world.patient_a.pk}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = world.web(world.staff["nurse"]).get(f"/patients/{world.patient_a.pk}/")
    assert page.headers["Cache-Control"] == "no-store"


def test_the_api_docs_load_only_vendored_assets_and_only_for_signed_in_users(world):
    assert Client().get("/api/v1/docs").status_code == 302
    docs = world.web(world.staff["nurse"]).get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "http://" not in html and "https://" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html


def test_a_session_ends_twelve_hours_after_sign_in_even_when_used_all_along(world):
    # given a nurse active a minute ago, who signed in 12 hours and a minute ago
    client = world.web(world.staff["nurse"])
    assert client.get("/patients/").status_code == 200
    session = client.session
    session["signed_in_at"] = int(time.time()) - 12 * 3600 - 60
    session["last_activity"] = int(time.time()) - 60
    session.save()
    # then the next request is sent to sign in
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_session_eleven_hours_old_still_works(world):
    client = world.web(world.staff["nurse"])
    client.get("/patients/")
    session = client.session
    session["signed_in_at"] = int(time.time()) - 11 * 3600
    session.save()
    assert client.get("/patients/").status_code == 200
