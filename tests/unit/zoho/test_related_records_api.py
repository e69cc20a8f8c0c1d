"""The Update Related Records calls: what is refused before any request, which URL each call
uses, and how a request-level answer (no per-item results) becomes one result per item."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.client import ApiResponse
from airflow_provider_zohorel.zoho.errors import CONFIGURATION_CODES, ZohoConfigurationError, ZohoError
from airflow_provider_zohorel.zoho.external_ids import InvalidExternalIds
from airflow_provider_zohorel.zoho.limits import MAX_BATCH
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.values import InvalidValue

IDS = ["111111111111111111", "222222222222222222"]
PARENT = "3652397000000327001"


class RecordingClient:
    """What RelatedRecordsApi needs of a ZohoClient: the API version and ``request``."""

    def __init__(self, api_version: str = "v8", answer: ApiResponse | None = None) -> None:
        self.credentials = type("Credentials", (), {"api_version": api_version})()
        self.requests: list[tuple[str, str, dict]] = []
        self.headers: list[dict | None] = []
        self.answer = answer

    def request(
        self, method: str, path: str, json: dict | None = None, params=None, headers=None
    ) -> ApiResponse:
        self.requests.append((method, path, json if json is not None else params))
        self.headers.append(headers)
        if self.answer is not None:
            code = self.answer.error_code
            if code in CONFIGURATION_CODES:  # as ZohoClient.request does
                body = self.answer.body
                raise ZohoConfigurationError(
                    code, body["message"], http_status=self.answer.status, details=body["details"]
                )
            return self.answer
        data = [
            {"code": "SUCCESS", "details": {"id": item.get("id", "")}, "message": "relation added",
             "status": "success"}
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


@pytest.mark.parametrize("version", ["v2", "v2.1", "v7", "v8"])
def test_one_relation_is_updated_on_its_own_url_with_its_id_in_the_body(version):
    """v8 requires ``id`` in the single-record body (spec updateSpecificRelatedRecord
    ``required: [id]``); v2.1-v7 list it as mandatory; v2 ignores it. So it is always sent."""
    client = RecordingClient(version)
    result = RelatedRecordsApi(client).update_related_record(
        "Price_Books", PARENT, "Products", int(IDS[0]), {"list_price": "50.56"}
    )
    assert result.succeeded
    assert client.requests == [
        ("PUT", f"/Price_Books/{PARENT}/Products/{IDS[0]}", {"data": [{"id": IDS[0], "list_price": 50.56}]})
    ]


def test_a_single_record_id_in_data_must_agree_with_the_url():
    client = RecordingClient()
    api = RelatedRecordsApi(client)
    api.update_related_record("Campaigns", PARENT, "Leads", IDS[0], {"id": IDS[0], "Member_Status": "Sent"})
    with pytest.raises(InvalidValue, match=f"data\\['id'\\] is {IDS[1]} but related_record_id is {IDS[0]}"):
        api.update_related_record("Campaigns", PARENT, "Leads", IDS[0], {"id": IDS[1]})
    assert len(client.requests) == 1


def test_any_related_list_goes_out_as_named_with_unknown_fields_as_given():
    client = RecordingClient()
    results = RelatedRecordsApi(client).update_related_records(
        "Leads", PARENT, "Related_List_Name_2", [{"id": IDS[0], "Custom_Field__c": 3}]
    )
    assert [r.code for r in results] == ["SUCCESS"]
    assert client.requests == [
        ("PUT", f"/Leads/{PARENT}/Related_List_Name_2", {"data": [{"id": IDS[0], "Custom_Field__c": 3}]})
    ]
    assert client.headers == [None]


def test_external_ids_are_sent_as_given_with_the_header():
    """X-EXTERNAL names the sides; the parent's value goes in the URL (quoted), the related
    module's external field replaces ``id`` (v8 update-related-records-ext)."""
    client = RecordingClient()
    api = RelatedRecordsApi(client)
    api.update_related_records(
        "Contacts",
        "ext contact/3",
        "Deals",
        [{"id": "extdeal3", "Contact_Role": "111111000000026002"}],
        external="Contacts.External_Contact_ID,Deals.External_Deal_ID",
    )
    api.update_related_record(
        "Leads", "lead-1", "Campaigns", IDS[0], {"Member_Status": "Sent"}, external="Leads.External_Lead_ID"
    )
    assert client.requests == [
        (
            "PUT",
            "/Contacts/ext%20contact%2F3/Deals",
            {"data": [{"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}]},
        ),
        ("PUT", f"/Leads/lead-1/Campaigns/{IDS[0]}", {"data": [{"id": IDS[0], "Member_Status": "Sent"}]}),
    ]
    assert client.headers == [
        {"X-EXTERNAL": "Contacts.External_Contact_ID,Deals.External_Deal_ID"},
        {"X-EXTERNAL": "Leads.External_Lead_ID"},
    ]


def test_an_external_that_is_not_text_is_refused_before_any_request():
    client = RecordingClient()
    with pytest.raises(InvalidExternalIds, match="external must be an X-EXTERNAL value"):
        RelatedRecordsApi(client).update_related_records(
            "Leads", "lead-1", "Campaigns", [{"id": IDS[0]}], external=["Leads.External_Lead_ID"]
        )
    assert client.requests == []


def test_without_external_a_non_numeric_id_is_still_refused():
    client = RecordingClient()
    with pytest.raises(InvalidValue, match="record_id: 'lead-1' is not a Zoho record id"):
        RelatedRecordsApi(client).update_related_records("Leads", "lead-1", "Campaigns", [{"id": IDS[0]}])
    with pytest.raises(InvalidValue, match=r"records\[0\].id: 'c-1' is not a Zoho record id"):
        RelatedRecordsApi(client).update_related_records(
            "Leads", "lead-1", "Campaigns", [{"id": "c-1"}], external="Leads.External_Lead_ID"
        )
    assert client.requests == []


@pytest.mark.parametrize(
    ("records", "fragment"),
    [
        ([{"id": str(10**17 + i)} for i in range(MAX_BATCH + 1)], f"at most {MAX_BATCH} per call"),
        ([], "records is empty"),
        ({"id": IDS[0]}, "must be a list of dicts"),
        ("[]", "must be a list of dicts"),
        ([IDS[0]], r"records\[0\]: expected a dict, got str"),
        ([{"id": 1.5}], r"records\[0\].id: 1.5 is a float"),
        ([{"id": IDS[0], "Bo gus": 1}], "'Bo gus' is not a valid Zoho field API name"),
    ],
)
def test_what_zoho_would_refuse_is_refused_before_any_request(records, fragment):
    client = RecordingClient()
    with pytest.raises(InvalidValue, match=fragment):
        RelatedRecordsApi(client).update_related_records("Campaigns", PARENT, "Leads", records)
    assert client.requests == []


@pytest.mark.parametrize(
    ("version", "module", "related_list", "body", "hint"),
    [
        (
            "v8",
            "Appointments",
            "Services__s",
            {"code": "INVALID_MODULE", "details": {"resource_path_index": 0},
             "message": "The module name given seems to be invalid", "status": "error"},
            "from API v3 on the module 'Appointments' is named 'Appointments__s'",
        ),
        (
            "v2",
            "Appointments__s",
            "Services__s",
            {"code": "INVALID_MODULE", "details": {}, "message": "invalid module", "status": "error"},
            "Appointments__s exists from API v3 on; the connection uses v2",
        ),
        (
            "v8",
            "Deals",
            "Contacts",
            {"code": "INVALID_DATA", "details": {"resource_path_index": 2},
             "message": "the relation name given seems to be invalid", "status": "error"},
            "Contact_Roles",
        ),
    ],
)  # fmt: skip
def test_a_name_zoho_refuses_fails_with_the_name_it_expects(version, module, related_list, body, hint):
    """Names are sent as given (a custom module may be called Appointments); when Zoho refuses
    one, the error says what the catalog knows (v3 change log: Appointments__s)."""
    client = RecordingClient(version, ApiResponse(400, body, {}))
    with pytest.raises(ZohoConfigurationError, match=body["code"]) as err:
        RelatedRecordsApi(client).update_related_records(module, PARENT, related_list, [{"id": IDS[0]}])
    assert err.value.hint is not None
    assert hint in err.value.hint
    assert hint in str(err.value)
    assert [path for _, path, _ in client.requests] == [f"/{module}/{PARENT}/{related_list}"]


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


# -- get related records and delink ----------------------------------------------------------------


class PagedClient(RecordingClient):
    """Answers GETs from a list of pages (the last answer repeats), and DELETEs with ``answer``."""

    def __init__(self, pages: list[ApiResponse], api_version: str = "v8", answer=None) -> None:
        super().__init__(api_version, answer)
        self.pages = pages

    def request(self, method, path, json=None, params=None, headers=None):
        if method == "GET":
            self.requests.append((method, path, dict(params)))
            self.headers.append(headers)
            return self.pages[min(len(self.requests) - 1, len(self.pages) - 1)]
        return super().request(method, path, json=json, params=params, headers=headers)


def invalid_data(index: int, message: str) -> dict:
    return {
        "code": "INVALID_DATA",
        "details": {"resource_path_index": index},
        "message": message,
        "status": "error",
    }


def page(ids: list[str], more: bool) -> ApiResponse:
    return ApiResponse(200, {"data": [{"id": i} for i in ids], "info": {"more_records": more}}, {})


def test_get_related_records_follows_more_records_200_per_page():
    client = PagedClient([page(IDS[:1], True), page(IDS[1:], False)])
    records = list(
        RelatedRecordsApi(client).get_related_records("Campaigns", PARENT, "Leads", ["Member_Status"])
    )
    assert [r["id"] for r in records] == IDS
    assert client.requests == [
        ("GET", f"/Campaigns/{PARENT}/Leads", {"per_page": 200, "fields": "Member_Status,id", "page": 1}),
        ("GET", f"/Campaigns/{PARENT}/Leads", {"per_page": 200, "fields": "Member_Status,id", "page": 2}),
    ]


def test_get_related_records_204_is_an_empty_list():
    client = PagedClient([ApiResponse(204, None, {})])
    assert list(RelatedRecordsApi(client).get_related_records("Campaigns", PARENT, "Leads")) == []
    assert len(client.requests) == 1


@pytest.mark.parametrize(("version", "sent"), [("v8", "id"), ("v7", None), ("v2", None)])
def test_get_without_fields_asks_for_id_only_where_fields_is_required(version, sent):
    client = PagedClient([page(IDS, False)], api_version=version)
    list(RelatedRecordsApi(client).get_related_records("Campaigns", PARENT, "Leads"))
    assert client.requests[0][2].get("fields") == sent


def test_get_follows_a_page_token_when_zoho_sends_one():
    first = ApiResponse(
        200, {"data": [{"id": IDS[0]}], "info": {"more_records": True, "next_page_token": "tok"}}, {}
    )
    client = PagedClient([first, page(IDS[1:], False)])
    list(RelatedRecordsApi(client).get_related_records("Campaigns", PARENT, "Leads"))
    assert client.requests[1][2] == {"per_page": 200, "fields": "id", "page_token": "tok"}


def test_get_of_an_unknown_parent_raises_zoho_s_code():
    refused = ApiResponse(400, invalid_data(1, "the id given seems to be invalid"), {})
    client = PagedClient([refused])
    with pytest.raises(ZohoError) as caught:
        list(RelatedRecordsApi(client).get_related_records("Campaigns", PARENT, "Leads"))
    assert caught.value.code == "INVALID_DATA"
    assert not isinstance(caught.value, ZohoConfigurationError)


def test_get_of_an_unknown_related_list_is_a_configuration_error():
    refused = ApiResponse(400, invalid_data(2, "the related list name given seems to be invalid"), {})
    with pytest.raises(ZohoConfigurationError):
        list(RelatedRecordsApi(PagedClient([refused])).get_related_records("Campaigns", PARENT, "Leadz"))


def test_delink_sends_the_ids_as_a_query_and_answers_per_id():
    body = {
        "data": [
            {"code": "SUCCESS", "details": {"id": IDS[0]}, "message": "relation removed",
             "status": "success"},
            {"code": "INVALID_DATA", "details": {"id": IDS[1]}, "message": "relation not found",
             "status": "error"},
        ]
    }  # fmt: skip
    client = RecordingClient(answer=ApiResponse(207, body, {}))
    results = RelatedRecordsApi(client).delink_related_records(
        "Campaigns", PARENT, "Leads", [IDS[0], int(IDS[1])]
    )
    assert client.requests == [("DELETE", f"/Campaigns/{PARENT}/Leads", {"ids": ",".join(IDS)})]
    assert [(r.related_id, r.code, r.action) for r in results] == [
        (IDS[0], "SUCCESS", "removed"),
        (IDS[1], "INVALID_DATA", None),
    ]


@pytest.mark.parametrize(
    ("ids", "says"),
    [([], "empty"), ([str(10**17 + n) for n in range(MAX_BATCH + 1)], "at most 100"), ("123", "list"),
     ([1.5], "float")],
)  # fmt: skip
def test_delink_refuses_bad_ids_before_any_call(ids, says):
    client = RecordingClient()
    with pytest.raises(InvalidValue, match=says):
        RelatedRecordsApi(client).delink_related_records("Campaigns", PARENT, "Leads", ids)
    assert client.requests == []


def test_a_sync_s_delink_counts_relation_not_found_as_removed():
    body = {"data": [{"code": "INVALID_DATA", "details": {"id": IDS[0]}, "message": "relation not found",
                      "status": "error"}]}  # fmt: skip
    api = RelatedRecordsApi(RecordingClient(answer=ApiResponse(400, body, {})))
    spec = api.relation("Campaigns", "Leads")
    [plain] = api.delink(spec, PARENT, [IDS[0]])
    [synced] = api.delink(spec, PARENT, [IDS[0]], absent_ok=True)
    assert (plain.code, plain.action) == ("INVALID_DATA", None)
    assert (synced.code, synced.action) == ("SUCCESS", "removed")
