"""Keyset cursors (`after=`) are client input: whatever is sent, a list answers its first page
or the page after a cursor, never a server error, and never another clinic's rows."""

import base64
import json

import pytest

from ketacare.pagination import _decode, _encode
from ketacare.patients.models import Patient

pytestmark = pytest.mark.django_db

# The keyset-paged lists, with the sort keys each one's cursor carries.
LISTS = {
    "/patients/": ("name", "name", "id"),
    "/audit/": ("at", "seq"),
    "/outcomes/overdue/": ("at", "id"),
    "/outcomes/alerts/": ("at", "id"),
}
SAMPLES = {
    "name": ["Okafor", "", "a\x00b", "x" * 5000, 7, None, True],
    "id": [1, 0, -1, -(2**63), 2**63, 2**70, 10**400, 1.5, 1e308, "1", "abc", None],
    "seq": [1, -1, 2**63, 2**70, "seq"],
    "at": [
        "2026-01-01T00:00:00+00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2026-01-01T00:00:00",
        "2026-02-30T00:00:00+00:00",
        "0000-00-00",
        "now",
        2**70,
    ],
}


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursors(keys: tuple[str, ...]) -> list[str]:
    """Malformed, wrongly shaped, negative, huge and out-of-range cursors for these keys."""
    cursors = [
        "",
        "!!!",
        "a",
        "====",
        "%00",
        "\u00e9\u00e9",
        _raw("not json"),
        _raw("{}"),
        _raw("[]"),
        _raw("[1]"),
        _raw(json.dumps([1] * (len(keys) + 1))),
        _raw(json.dumps([[1]] * len(keys))),
        _raw(json.dumps([{"a": 1}] * len(keys))),
        "A" * 20_000,
    ]
    cursors.append(_raw("[" + ", ".join(["Infinity"] * len(keys)) + "]"))
    cursors.append(_raw("[" + ", ".join(["NaN"] * len(keys)) + "]"))
    baseline = [SAMPLES[k][0] for k in keys]
    for i, key in enumerate(keys):
        for value in SAMPLES[key]:
            values = list(baseline)
            values[i] = value
            cursors.append(_raw(json.dumps(values)))
    return cursors


@pytest.mark.parametrize("url", list(LISTS))
def test_no_cursor_makes_a_keyset_list_answer_a_server_error(world, url):
    # given a member of clinic A whose role may see the list
    clients = (world.web(user) for user in world.staff.values())
    client = next(c for c in clients if c.get(url).status_code == 200)
    statuses: dict[int, int] = {}
    # when each probe cursor is sent as `after`
    for cursor in _cursors(LISTS[url]):
        response = client.get(url, {"after": cursor})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        # then the list answers (its first page, or the page after the cursor) or refuses
        assert response.status_code < 500, (url, cursor[:120], response.status_code)
    assert set(statuses) <= {200, 400}, statuses


def test_a_cursor_from_another_clinics_list_shows_only_this_clinics_patients(world):
    # given a cursor made from clinic B's patient (its last row)
    theirs = world.patient_b
    cursor = _encode([theirs.family_name, theirs.given_name, theirs.pk])
    # when clinic A's nurse pages on from it
    response = world.web(world.staff["nurse"]).get("/patients/", {"after": cursor})
    # then the page holds clinic A's patients only, and never clinic B's
    assert response.status_code == 200
    shown = [p.pk for p in response.context["page"]]
    assert theirs.pk not in shown
    assert all(Patient.objects.get(pk=pk).clinic_id == world.clinic_a.pk for pk in shown)


@pytest.mark.parametrize(
    "values",
    [
        ["Okafor", "Ines", 2**70],
        ["Okafor", "Ines", -(2**63)],
        ["Oka\x00for", "Ines", 1],
        ["Okafor", "Ines", float("inf")],
    ],
)
def test_a_cursor_the_database_could_not_compare_is_not_ours(values):
    cursor = _raw(json.dumps(values))
    assert _decode(Patient, ("family_name", "given_name", "id"), cursor) is None


def test_a_cursor_of_a_time_with_no_utc_instant_is_not_ours():
    from ketacare.audit.models import AuditEntry

    cursor = _raw(json.dumps(["0001-01-01T00:00:00+14:00", 1]))
    assert _decode(AuditEntry, ("at", "seq"), cursor) is None
    naive = _raw(json.dumps(["2026-01-01T00:00:00", 1]))
    assert _decode(AuditEntry, ("at", "seq"), naive) is None
