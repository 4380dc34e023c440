"""The OpenAPI document matches the server: a bounded schemathesis run over every service, as a shopper
and as the operator, finds no server error and no answer the document does not describe (issue 12, 9)."""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 8
# The whole run's budget, per role: it stops generating (and says so) rather than outgrow it.
BUDGET_SECONDS = 60

pytestmark = pytest.mark.slow


def fuzz(operation, headers: dict) -> list[str]:
    """Up to EXAMPLES_PER_OPERATION generated requests to one operation; what the checks refused."""
    problems: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except BaseException as failure:  # noqa: BLE001  one operation's failures are reported with the rest
            problems.append(f"{operation.label}: {_summary(failure)}")

    run()
    return problems


def _summary(failure: BaseException) -> str:
    failures = getattr(failure, "exceptions", None) or [failure]
    return "; ".join(f"{type(f).__name__}: {' '.join(str(f).split())[:400]}" for f in failures)


@pytest.mark.parametrize("role", ["shopper", "operator"])
def test_every_operation_answers_as_its_document_says(live_api, app, shoppers, operator, role):
    member = operator if role == "operator" else shoppers.verified()
    headers = {"Authorization": f"Bearer {member.access_token}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    problems, deadline = [], time.monotonic() + BUDGET_SECONDS
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30  # every service's operations, not an empty document
    for operation in operations:
        if time.monotonic() > deadline:
            pytest.fail(f"the run outgrew its {BUDGET_SECONDS} s budget at {operation.label}")
        problems += fuzz(operation, headers)
    assert not problems, "\n".join(problems)
