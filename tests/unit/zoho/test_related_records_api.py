"""The Update Related Records calls: what is refused before any request, which URL each call
uses, and how a request-level answer (no per-item results) becomes one result per item."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.client import ApiResponse
from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError
from airflow_provider_zohorel.zoho.limits import MAX_BATCH
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.relation_catalog import UnsupportedRelation
from airflow_provider_zohorel.zoho.values import InvalidValue

IDS = ["111111111111111111", "222222222222222222"]
PARENT = "3652397000000327001"


class RecordingClient:
    """What RelatedRecordsApi needs of a ZohoClient: the API version and ``request``."""

    def __init__(self, api_version: str = "v8") -> None:
        self.credentials = type("Credentials", (), {"api_version": api_version})()
        self.requests: list[tuple[str, str, dict]] = []

    def request(self, method: str, path: str, json: dict) -> ApiResponse:
        self.requests.append((method, path, json))
        data = [
            {"code": "SUCCESS", "details": {"id": item["id"] if "id" in item else path.rsplit("/", 1)[1]},
             "message": "relation added", "status": "success"}
            for item in json["data"]
        ]  # fmt: skip
        return ApiResponse(200, {"data": data}, {})


def test_a_batch_goes_to_the_parent_s_related_list_with_converted_fields():
    client = RecordingClient()
    results = RelatedRecordsApi(client).update_related_records(
        "campaigns", int(PARENT), "LEADS", [{"id": IDS[0], "Member_Status": "Active"}, {"id": int(IDS[1])}]
    )
    assert [r.code for r in results] == ["SUCCESS", "SUCCESS"]
    assert client.requests == [
        (
            "PUT",
            f"/Campaigns/{PARENT}/Leads",
            {"data": [{"id": IDS[0], "Member_Status": "Active"}, {"id": IDS[1]}]},
        )
    ]


def test_one_relation_is_updated_on_its_own_url():
    client = RecordingClient()
    result = RelatedRecordsApi(client).update_related_record(
        "Price_Books", PARENT, "Products", IDS[0], {"list_price": "50.56"}
    )
    assert result.succeeded
    assert client.requests == [
        ("PUT", f"/Price_Books/{PARENT}/Products/{IDS[0]}", {"data": [{"id": IDS[0], "list_price": 50.56}]})
    ]


@pytest.mark.parametrize(
    ("records", "fragment"),
    [
        ([{"id": str(10**17 + i)} for i in range(MAX_BATCH + 1)], f"at most {MAX_BATCH} per call"),
        ([], "records is empty"),
        ({"id": IDS[0]}, "must be a list of dicts"),
        ("[]", "must be a list of dicts"),
        ([IDS[0]], r"records\[0\]: expected a dict, got str"),
        ([{"id": 1.5}], r"records\[0\].id: 1.5 is a float"),
        ([{"id": IDS[0], "Bogus": 1}], "'Bogus' is not a field"),
    ],
)
def test_what_zoho_would_refuse_is_refused_before_any_request(records, fragment):
    client = RecordingClient()
    with pytest.raises(InvalidValue, match=fragment):
        RelatedRecordsApi(client).update_related_records("Campaigns", PARENT, "Leads", records)
    assert client.requests == []


def test_a_relation_the_api_version_lacks_is_refused_before_any_request():
    client = RecordingClient(api_version="v2")
    with pytest.raises(UnsupportedRelation, match="needs API version v3"):
        RelatedRecordsApi(client).update_related_records("Appointments", PARENT, "Services", [{"id": IDS[0]}])
    assert client.requests == []


def test_unknown_parent_fails_every_item_with_its_code():
    body = {
        "code": "INVALID_DATA",
        "details": {"resource_path_index": 1},
        "message": "the id given seems to be invalid",
        "status": "error",
    }
    for status in (400, 404):
        results = RelatedRecordsApi.interpret(IDS, ApiResponse(status, body, {}))
        assert [(r.code, r.succeeded) for r in results] == [("INVALID_DATA", False)] * 2


def test_bad_relation_name_is_a_configuration_error():
    body = {
        "code": "INVALID_DATA",
        "details": {"resource_path_index": 2},
        "message": "the relation name given seems to be invalid",
        "status": "error",
    }
    with pytest.raises(ZohoConfigurationError, match="relation name"):
        RelatedRecordsApi.interpret(IDS, ApiResponse(400, body, {}))


def test_non_json_answers_fail_every_item_with_the_status():
    results = RelatedRecordsApi.interpret(IDS, ApiResponse(418, None, {}))
    assert {r.code for r in results} == {"HTTP_418"}
