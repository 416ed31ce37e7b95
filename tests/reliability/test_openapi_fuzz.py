"""schemathesis over every service's OpenAPI document: generated requests (valid and invalid) to the
running service processes, authenticated for the province; no answer may be a 5xx.

Examples per operation: the hypothesis profile (tests/reliability/conftest.py)."""

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from tests.conftest import bearer
from tests.reliability.support import SERVICES, openapi_of

pytestmark = pytest.mark.integration
PROVINCE = "72"


def calls_without_server_errors(service: str):
    schema = schemathesis.openapi.from_dict(openapi_of(service))

    @schema.parametrize()
    def test(case, stack):
        if "province_code" in (case.path_parameters or {}):
            case.path_parameters["province_code"] = (
                PROVINCE  # the token's province, so calls get past the door
            )
        # integration routes take the integration role; everything else the department's (every role it may)
        role = "integration" if "/integration/" in case.path else "department"
        token = bearer(role, PROVINCE if role == "integration" else None)
        case.call_and_validate(
            base_url=stack.url(service), headers=dict(token), checks=[not_a_server_error], timeout=30
        )

    return test


for _service in SERVICES:
    globals()[f"test_{_service}_api_answers_no_5xx"] = calls_without_server_errors(_service)
