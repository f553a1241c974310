"""Walk every page and API route as each role of clinic A and as each role of clinic B."""

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts.permissions import Permission, role_may
from ketacare.accounts.roles import Role
from tests.routes import PUBLIC_PAGES, outsider_path_values, page_routes, path_values

pytestmark = pytest.mark.django_db

ALLOWED_PAGE_STATUSES = {200, 302, 405}


def _api_operations(client: Client) -> list[tuple[str, str, str]]:
    schema = client.get("/api/v1/openapi.json").json()
    operations = []
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            operations.append((method.upper(), path, spec.get("x-permission", "")))
    return operations


def _fill(path: str, values: dict[str, int | str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, f"add a value for the parameters of {path} to tests/routes.py"
    return path


def test_every_page_names_a_permission_from_the_table():
    # given every named page
    unguarded = [
        r.name
        for r in page_routes()
        if r.name not in PUBLIC_PAGES
        and not isinstance(getattr(r.view, "required_permission", None), Permission)
    ]
    # then each one is guarded by a permission
    assert unguarded == []


def test_every_page_answers_each_role_as_the_permission_table_says(world):
    values = path_values(world)
    for route in page_routes():
        if route.name in PUBLIC_PAGES:
            continue
        url = reverse(route.name, kwargs={p: values[p] for p in route.parameters})
        for role, user in world.staff.items():
            response = world.web(user).get(url)
            if role_may(role, route.view.required_permission):
                assert response.status_code in ALLOWED_PAGE_STATUSES, (
                    url,
                    role,
                    response.status_code,
                )
            else:
                assert response.status_code == 403, (url, role, response.status_code)


def test_every_page_with_a_record_answers_404_to_other_clinics(world):
    values = path_values(world)
    for route in page_routes():
        if not route.parameters:
            continue
        url = reverse(route.name, kwargs={p: values[p] for p in route.parameters})
        for role, outsider in world.outsiders.items():
            client = world.web(outsider)
            for method in (client.get, client.post):
                response = method(url)
                expected = 404 if role_may(role, route.view.required_permission) else 403
                assert response.status_code == expected, (url, role, response.status_code)


def test_pages_send_anonymous_visitors_to_sign_in(world):
    values = path_values(world)
    for route in page_routes():
        if route.name in PUBLIC_PAGES:
            continue
        url = reverse(route.name, kwargs={p: values[p] for p in route.parameters})
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_every_api_operation_publishes_its_permission(world):
    operations = _api_operations(Client())
    assert operations, "the OpenAPI document lists no operations"
    assert [op for op in operations if op[2] not in Permission._value2member_map_] == []


def test_every_api_operation_refuses_unauthenticated_calls_with_401(world):
    client = Client()
    for method, path, _ in _api_operations(client):
        response = client.generic(
            method, _fill(path, path_values(world)), "{}", content_type="application/json"
        )
        assert response.status_code == 401, (method, path, response.status_code)
        assert response["WWW-Authenticate"] == "Bearer"


def test_every_api_operation_answers_each_role_as_the_permission_table_says(world):
    for method, path, permission in _api_operations(Client()):
        url = _fill(path, path_values(world))
        for role, user in world.staff.items():
            response = world.api(user).generic(method, url, "{}", content_type="application/json")
            if role_may(role, Permission(permission)):
                # An empty body is refused by validation, never by permission.
                assert response.status_code in {200, 201, 422}, (
                    method,
                    url,
                    role,
                    response.content,
                )
            else:
                assert response.status_code == 403, (method, url, role, response.status_code)


def test_every_api_operation_on_a_record_answers_404_to_other_clinics(world):
    for method, path, permission in _api_operations(Client()):
        if "{" not in path:
            continue
        url = _fill(path, path_values(world))
        for role, outsider in world.outsiders.items():
            # A body valid enough to reach the lookup: the record must still not exist.
            body = "" if method in {"GET", "DELETE"} else '{"version": 1}'
            response = world.api(outsider).generic(
                method, url, body, content_type="application/json"
            )
            expected = {404} if role_may(Role(role), Permission(permission)) else {403}
            assert response.status_code in expected, (method, url, role, response.status_code)


def test_outsider_ids_are_real_records_of_the_other_clinic(world):
    # guard against a vacuous walk: the 404s above are for records that exist in clinic B
    theirs, ours = outsider_path_values(world), path_values(world)
    assert all(theirs[name] != ours[name] for name in ours)
    response = world.api(world.outsiders["nurse"]).get(f"/api/v1/patients/{theirs['patient_id']}")
    assert response.status_code == 200


def test_a_post_with_a_bad_body_to_another_clinics_record_is_still_404(world):
    # given a nurse of clinic B and clinic A's patient
    outsider = world.outsiders["nurse"]
    url = f"/api/v1/patients/{world.patient_a.pk}"
    # when she sends a body that would fail validation
    response = world.api(outsider).patch(url, '{"shoe_size": 9}', content_type="application/json")
    # then the record simply does not exist for her
    assert response.status_code == 404


def test_every_path_parameter_is_registered_with_the_tenancy_guard():
    from ketacare.accounts.tenancy import PATH_OBJECTS

    parameters = {p for route in page_routes() for p in route.parameters if p.endswith("_id")}
    assert parameters <= set(PATH_OBJECTS)


# --- the FHIR base (/fhir/r4/): bearer tokens, scopes, OperationOutcomes -------------------------


def _fhir_client(world, user):
    token = world.token_for(user) if user is not None else None
    return Client(headers={"Authorization": f"Bearer {token}"} if token else {})


def _fhir_urls(values):
    from ketacare.fhir.registry import REGISTRY
    from tests.fhir.path_values import fhir_ids

    ids = fhir_ids(str(values["fhir_record"]))
    assert set(ids) == set(REGISTRY), "every served type needs a record in the walk"
    for name, resource_type in sorted(REGISTRY.items()):
        yield resource_type, f"/fhir/r4/{name}", f"/fhir/r4/{name}/{ids[name]}"


def _fhir_may(role, resource_type):
    # Types not scoped to a clinic (Questionnaire definitions) are the same for everyone.
    return role_may(role, resource_type.permission)


def test_every_fhir_type_answers_each_role_as_the_permission_table_says(world):
    values = path_values(world)
    for resource_type, search_url, read_url in _fhir_urls(values):
        for role, user in world.staff.items():
            client = _fhir_client(world, user)
            for url in (search_url, read_url):
                response = client.get(url)
                expected = 200 if _fhir_may(role, resource_type) else 403
                assert response.status_code == expected, (url, role, response.status_code)
                assert response["Content-Type"].startswith("application/fhir+json")


def test_every_fhir_record_answers_404_to_other_clinics(world):
    values = path_values(world)
    for resource_type, _, read_url in _fhir_urls(values):
        if not resource_type.clinic_scoped:
            continue
        for role, outsider in world.outsiders.items():
            response = _fhir_client(world, outsider).get(read_url)
            expected = 404 if _fhir_may(role, resource_type) else 403
            assert response.status_code == expected, (read_url, role, response.status_code)
            assert response.json()["resourceType"] == "OperationOutcome"


def test_fhir_answers_anonymous_callers_401_except_the_capability_statement(world):
    values = path_values(world)
    client = Client()
    assert client.get("/fhir/r4/metadata").status_code == 200
    for _, search_url, read_url in _fhir_urls(values):
        for url in (search_url, read_url):
            response = client.get(url)
            assert response.status_code == 401, url
            assert response["WWW-Authenticate"] == "Bearer"


def test_fhir_bulk_export_answers_each_role_and_the_other_clinic(world, settings, tmp_path):
    settings.KETACARE_EXPORT_DIR = str(tmp_path)
    async_headers = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}
    kickoffs = ["/fhir/r4/$export", "/fhir/r4/Patient/$export", "/fhir/r4/Group/all/$export"]
    status_urls = []
    for role, user in world.staff.items():
        for url in kickoffs:
            response = _fhir_client(world, user).get(url, **async_headers)
            expected = 202 if role_may(role, Permission.FHIR_BULK_EXPORT) else 403
            assert response.status_code == expected, (url, role, response.status_code)
            if response.status_code == 202:
                status_urls.append(response["Content-Location"])
    assert status_urls
    for role, outsider in {**world.outsiders, "nurse-a": world.staff["nurse"]}.items():
        for url in status_urls:
            response = _fhir_client(world, outsider).get(url)
            assert response.status_code == 404, (url, role, response.status_code)
    for url in kickoffs + status_urls:
        assert Client().get(url, **async_headers).status_code == 401
