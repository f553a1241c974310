"""Property-based API testing (schemathesis): no server error, no answer the document denies.

Every operation of the OpenAPI document is called with generated valid and invalid input as
a signed-in clinic admin and prescriber of one clinic. A bounded run (a few examples per
operation, no shrinking) keeps it to about two minutes inside `make test`. A deeper probe
sets `KETACARE_FUZZ_EXAMPLES` (say 25, a few thousand cases; about a quarter hour).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS

from ketacare.config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS_RUN = [
    CHECKS.get_by_names(["not_a_server_error"])[0],
    CHECKS.get_by_names(["status_code_conformance"])[0],
    CHECKS.get_by_names(["response_schema_conformance"])[0],
    CHECKS.get_by_names(["content_type_conformance"])[0],
]


@pytest.fixture
def token(world):
    return world.token_for(world.staff["prescriber"])


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("KETACARE_FUZZ_EXAMPLES", "3")),
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case, token):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    response = case.call()
    case.validate_response(response, checks=CHECKS_RUN)
