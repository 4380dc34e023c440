"""The OpenAPI document says what the server does: timestamps with their offset, every status it
answers (issue 12, item 9). The fuzz run over every operation is test_security_api_fuzz.py."""

from datetime import UTC, datetime

import pytest

SPEC = "/api/openapi.json"


def test_timestamps_carry_their_utc_offset_as_documented(client, shop):
    ada = shop.shopper()
    product = shop.product()
    order = shop.order(ada, {product["id"]: 1}).json()
    for stamp in (product["created_at"], order["created_at"], order["transitions"][0]["at"]):
        assert stamp.endswith("+00:00"), stamp
        assert datetime.fromisoformat(stamp).tzinfo == UTC
    spec = client.get(SPEC).json
    assert spec["components"]["schemas"]["OrderOut"]["properties"]["created_at"]["format"] == "date-time"


@pytest.mark.parametrize("status", ["400", "413", "414", "429", "500", "503"])
def test_every_operation_documents_the_statuses_any_request_can_meet(client, status):
    spec = client.get(SPEC).json
    missing = [
        f"{verb.upper()} {path}"
        for path, operations in spec["paths"].items()
        for verb, operation in operations.items()
        if status not in operation["responses"]
    ]
    assert missing == []
    assert spec["paths"]["/api/accounts/login"]["post"]["responses"][status]["content"][
        "application/json"
    ] == {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
