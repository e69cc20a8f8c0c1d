"""Every error example of Zoho's v8 spec for related records, reproduced by the emulator.

One test per file ``v8.0/related_records/operations/<operationId>/examples/response-<status>-<name>.md``
of Zoho's OpenAPI specification (public repository ``zoho/crm-oas``). Each case provokes the
situation the example describes and checks the emulator's answer: HTTP status, code, message and
details. The example's facts are written here as our own expectations (nothing is copied from the
spec's files); each is also checked against our JSON Schema of the operation (``tests/contract``),
so the schemas accept what Zoho documents.

Messages compare case-insensitively: Zoho's observed answers start lower-case ("invalid oauth
token", research 2.5) where the examples capitalise. Where the emulator words a message otherwise
on purpose, the case says so (``deviation``) with the source it follows, and the emulator's words
are asserted instead. Examples the emulator cannot reproduce are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from airflow_provider_zohorel.emulator import Credentials, ZohoEmulator
from tests.contract.zoho_contract import ContractChecker
from tests.emulator.conftest import Crm, World

UNKNOWN_ID = "3652397000099999999"
BAD_TOKEN = "1000.00000000000000000000000000000000.00000000000000000000000000000000"


@dataclass(frozen=True)
class Situation:
    """What a case may use to provoke its example."""

    emu: ZohoEmulator
    creds: Credentials
    crm: Crm
    world: World


@dataclass(frozen=True)
class Example:
    """One documented error example and how to make the emulator answer it."""

    #: ``operationId/response-<status>-<name>``, the example's path under operations/.
    name: str
    status: int
    code: str
    message: str
    details: dict[str, Any]
    provoke: Callable[[Situation], requests.Response] | None
    #: The example's answer sits in a per-item ``data`` array rather than at the top level.
    bulk: bool = False
    #: (the emulator's message, why it differs from the example's) when it does on purpose.
    deviation: tuple[str, str] | None = None
    #: Why the emulator cannot reproduce the example (the case is skipped).
    unreproducible: str | None = None
    #: The details to expect when the example's hold a placeholder (an id it made up).
    expected_details: Callable[[Situation], dict[str, Any]] | None = None

    @property
    def operation(self) -> str:
        return self.name.split("/", 1)[0]

    def body(self) -> dict[str, Any]:
        """The example's answer, rebuilt from its facts."""
        envelope = {"code": self.code, "details": self.details, "message": self.message, "status": "error"}
        return {"data": [envelope]} if self.bulk else envelope


def _v8(s: Situation, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
    return s.crm.call(method, path, body, version="v8", **kwargs)


def _lead_campaigns(s: Situation) -> str:
    return f"Leads/{s.world.leads[0]}/Campaigns"


def _no_related_privilege(s: Situation) -> None:
    s.emu.admin.set_permissions(s.creds.user_id, related_privilege=False)


def _unknown_parent_is_404(s: Situation) -> None:
    s.emu.admin.patch_config(unknown_parent_status=404)


def _put_leads_campaign(s: Situation) -> requests.Response:
    return _v8(s, "PUT", _lead_campaigns(s), {"data": [{"id": s.world.campaigns[0]}]})


def _update_authorization_failed(s: Situation) -> requests.Response:
    _no_related_privilege(s)
    return _put_leads_campaign(s)


def _update_no_permission(s: Situation) -> requests.Response:
    s.emu.admin.set_permissions(s.creds.user_id, update_related=False)
    return _put_leads_campaign(s)


def _price_book_without_list_price(s: Situation) -> requests.Response:
    pb, product = s.world.price_books[0], s.world.products[0]
    return _v8(s, "PUT", f"Price_Books/{pb}/Products", {"data": [{"id": product}]})


def _single_price_book_without_list_price(s: Situation) -> requests.Response:
    pb, product = s.world.price_books[0], s.world.products[0]
    return _v8(s, "PUT", f"Price_Books/{pb}/Products/{product}", {"data": [{"id": product}]})


def _scope_for_campaigns_only(s: Situation) -> requests.Response:
    narrow = s.emu.admin.create_credentials(scopes=["ZohoCRM.modules.campaigns.READ"])
    token = s.emu.admin.access_token(narrow)
    path = f"{_lead_campaigns(s)}/{s.world.campaigns[0]}?fields=id"
    return _v8(s, "GET", path, token=token)


def _linked(s: Situation) -> str:
    """A Lead with its first campaign linked; returns the single-record path."""
    assert _put_leads_campaign(s).status_code == 200
    return f"{_lead_campaigns(s)}/{s.world.campaigns[0]}"


def _internal_error(
    method: str, path: Callable[[Situation], str]
) -> Callable[[Situation], requests.Response]:
    def provoke(s: Situation) -> requests.Response:
        target = path(s)
        s.emu.admin.set_faults(error_500_next=1)
        return _v8(s, method, target)

    return provoke


def _delink_single_authorization_failed(s: Situation) -> requests.Response:
    path = _linked(s)
    _no_related_privilege(s)
    return _v8(s, "DELETE", path)


def _delink_single_no_permission(s: Situation) -> requests.Response:
    path = _linked(s)
    s.emu.admin.set_permissions(s.creds.user_id, delink_related=False)
    return _v8(s, "DELETE", path)


def _unknown_parent(method: str, query: str) -> Callable[[Situation], requests.Response]:
    def provoke(s: Situation) -> requests.Response:
        _unknown_parent_is_404(s)
        return _v8(s, method, f"Leads/{UNKNOWN_ID}/Campaigns?{query}")

    return provoke


NOT_A_DELETE_BODY = (
    "A DELETE has no body, so no field such as list_price can be missing: the example repeats "
    "updateSpecificRelatedRecord's MandatoryNotFound details under delinkSpecificRelatedRecord."
)
NO_DELETED_RECORDS = (
    "The emulator does not serve getDeletedRelatedRecord (GET /{module}/deleted/{id}/{list}): the "
    "provider never calls it, and it keeps no recycle bin."
)
OBSERVED_SCOPE_WORDING = (
    "invalid oauth scope to access this URL",
    "Zoho's observed wording (research 2.5: D-URR7, 3P-airbyte23484) over the example's generated one",
)
RELATION_NAME_WORDING = (
    "the relation name given seems to be invalid",
    "the update-related-records docs (D-URR7) and v8.0/deal_contact_roles.json InvalidRelationNameError "
    "say 'relation name'; the related_records examples say 'related name'",
)

EXAMPLES = [
    # --- updateRelatedRecords -------------------------------------------------------------------
    Example(
        "updateRelatedRecords/response-400-authorizationfailed",
        400,
        "AUTHORIZATION_FAILED",
        "User does not have sufficient privilege to update related records data",
        {},
        _update_authorization_failed,
    ),
    Example(
        "updateRelatedRecords/response-400-mandatorynotfoundbulk",
        400,
        "MANDATORY_NOT_FOUND",
        "required field not found",
        {"api_name": "list_price", "json_path": "$.data[0].list_price"},
        _price_book_without_list_price,
        bulk=True,
    ),
    Example(
        "updateRelatedRecords/response-400-notsupported",
        400,
        "INVALID_MODULE",
        "The given module is not supported in API",
        {"resource_path_index": 0},
        lambda s: _v8(
            s, "PUT", f"Documents/{UNKNOWN_ID}/Campaigns", {"data": [{"id": s.world.campaigns[0]}]}
        ),
    ),
    Example(
        "updateRelatedRecords/response-400-relationnotfoundbulk",
        400,
        "INVALID_DATA",
        "the id given seems to be invalid",
        {"api_name": "id", "json_path": "$.data[0].id"},
        lambda s: _v8(s, "PUT", _lead_campaigns(s), {"data": [{"id": UNKNOWN_ID}]}),
        bulk=True,
    ),
    Example(
        "updateRelatedRecords/response-403-nopermission",
        403,
        "NO_PERMISSION",
        "Permission denied to read related records",
        {"permissions": ["Crm_Implied_View_Leads"]},
        _update_no_permission,
    ),
    # --- updateSpecificRelatedRecord -----------------------------------------------------------
    Example(
        "updateSpecificRelatedRecord/response-400-mandatorynotfound",
        400,
        "MANDATORY_NOT_FOUND",
        "Required field not found",
        {"api_name": "list_price", "json_path": "$.data[0].list_price"},
        _single_price_book_without_list_price,
    ),
    Example(
        "updateSpecificRelatedRecord/response-401-invalidtoken",
        401,
        "INVALID_TOKEN",
        "Invalid OAuth token",
        {},
        lambda s: _v8(
            s, "PUT", f"{_lead_campaigns(s)}/{s.world.campaigns[0]}", {"data": [{}]}, token=BAD_TOKEN
        ),
    ),
    # --- getRelatedRecords ---------------------------------------------------------------------
    Example(
        "getRelatedRecords/response-400-invalidrequestmethod",
        400,
        "INVALID_REQUEST_METHOD",
        "The http request method type is not a valid one",
        {},
        lambda s: _v8(s, "POST", _lead_campaigns(s), {"data": [{"id": s.world.campaigns[0]}]}),
    ),
    Example(
        "getRelatedRecords/response-400-notsupported",
        400,
        "NOT_SUPPORTED",
        "The given module is not supported in API",
        {"resource_path_index": 0},
        lambda s: _v8(s, "GET", f"Documents/{UNKNOWN_ID}/Campaigns?fields=id"),
    ),
    Example(
        "getRelatedRecords/response-400-requiredparammissing",
        400,
        "REQUIRED_PARAM_MISSING",
        "One of the expected parameter is missing",
        {"param_name": "fields"},
        lambda s: _v8(s, "GET", _lead_campaigns(s)),
    ),
    Example(
        "getRelatedRecords/response-404-recordnotfound",
        404,
        "INVALID_DATA",
        "The record does not exist",
        {},
        _unknown_parent("GET", "fields=id"),
    ),
    # --- getRelatedRecord ----------------------------------------------------------------------
    Example(
        "getRelatedRecord/response-401-oauthscopemismatch",
        401,
        "OAUTH_SCOPE_MISMATCH",
        "The access token you have used to make this API call does not have the required scope.",
        {},
        _scope_for_campaigns_only,
        deviation=OBSERVED_SCOPE_WORDING,
    ),
    Example(
        "getRelatedRecord/response-404-recordnotfound",
        404,
        "INVALID_DATA",
        "The record does not exist",
        {},
        lambda s: _v8(s, "GET", f"{_lead_campaigns(s)}/{UNKNOWN_ID}?fields=id"),
    ),
    Example(
        "getRelatedRecord/response-500-internalerror",
        500,
        "INTERNAL_ERROR",
        "Unexpected and unhandled exception in Server",
        {},
        _internal_error("GET", lambda s: f"{_linked(s)}?fields=id"),
    ),
    # --- delinkRelatedRecords ------------------------------------------------------------------
    Example(
        "delinkRelatedRecords/response-400-invaliddataerror",
        400,
        "INVALID_DATA",
        "The related id given seems to be invalid",
        {"resource_path_index": 1},
        lambda s: _v8(s, "DELETE", f"Leads/{UNKNOWN_ID}/Campaigns?ids={s.world.campaigns[0]}"),
    ),
    Example(
        "delinkRelatedRecords/response-400-invalidmodule",
        400,
        "INVALID_MODULE",
        "The module name given seems to be invalid",
        {"resource_path_index": 0},
        lambda s: _v8(s, "DELETE", f"Widgets/{UNKNOWN_ID}/Campaigns?ids={s.world.campaigns[0]}"),
    ),
    Example(
        "delinkRelatedRecords/response-400-limitexceeded",
        400,
        "LIMIT_EXCEEDED",
        "Limit Exceeded, You cannot give more than 100 record ids",
        {"limit": "100", "param_name": "ids"},
        lambda s: _v8(s, "DELETE", f"{_lead_campaigns(s)}?ids={','.join(str(n) for n in range(1, 102))}"),
    ),
    Example(
        "delinkRelatedRecords/response-400-mandatorynotfound",
        400,
        "MANDATORY_NOT_FOUND",
        "One of the expected parameter is missing",
        {"param_name": "ids"},
        lambda s: _v8(s, "DELETE", _lead_campaigns(s)),
    ),
    Example(
        "delinkRelatedRecords/response-400-relationnotfound",
        400,
        "INVALID_DATA",
        "relation not found",
        {"id": "36547"},
        lambda s: _v8(s, "DELETE", f"{_lead_campaigns(s)}?ids={s.world.campaigns[1]}"),
        bulk=True,
        expected_details=lambda s: {"id": s.world.campaigns[1]},  # the id asked for
    ),
    Example(
        "delinkRelatedRecords/response-400-unabletoparsedatatype",
        400,
        "UNABLE_TO_PARSE_DATA_TYPE",
        "Either the request body or parameters is in wrong format",
        {},
        lambda s: _v8(s, "DELETE", f"{_lead_campaigns(s)}?ids=not-a-number"),
    ),
    Example(
        "delinkRelatedRecords/response-404-invalidurlpattern",
        404,
        "INVALID_URL_PATTERN",
        "Please check if the URL trying to access is a correct one",
        {},
        lambda s: _v8(s, "DELETE", f"{_lead_campaigns(s)}/{s.world.campaigns[0]}/extra?ids=1"),
    ),
    Example(
        "delinkRelatedRecords/response-404-recordnotfound",
        404,
        "INVALID_DATA",
        "The record does not exist",
        {},
        _unknown_parent("DELETE", "ids=1"),
    ),
    # --- delinkSpecificRelatedRecord -----------------------------------------------------------
    Example(
        "delinkSpecificRelatedRecord/response-400-authorizationfailed",
        400,
        "AUTHORIZATION_FAILED",
        "User does not have sufficient privilege to delete related records data",
        {},
        _delink_single_authorization_failed,
    ),
    Example(
        "delinkSpecificRelatedRecord/response-400-invaliddatarelationnameerror",
        400,
        "INVALID_DATA",
        "The related name given seems to be invalid",
        {"resource_path_index": 2},
        lambda s: _v8(s, "DELETE", f"Leads/{s.world.leads[0]}/No_Such_List/{s.world.campaigns[0]}"),
        deviation=RELATION_NAME_WORDING,
    ),
    Example(
        "delinkSpecificRelatedRecord/response-400-mandatorynotfound",
        400,
        "MANDATORY_NOT_FOUND",
        "One of the expected parameter is missing",
        {"api_name": "list_price", "json_path": "$.data[0].list_price"},
        None,
        unreproducible=NOT_A_DELETE_BODY,
    ),
    Example(
        "delinkSpecificRelatedRecord/response-401-invalidtoken",
        401,
        "INVALID_TOKEN",
        "Invalid OAuth token",
        {},
        lambda s: _v8(s, "DELETE", f"{_lead_campaigns(s)}/{s.world.campaigns[0]}", token=BAD_TOKEN),
    ),
    Example(
        "delinkSpecificRelatedRecord/response-403-nopermission",
        403,
        "NO_PERMISSION",
        "Permission denied to delete records",
        {"permissions": ["Crm_Implied_View_Leads"]},
        _delink_single_no_permission,
    ),
    Example(
        "delinkSpecificRelatedRecord/response-404-recordnotfound",
        404,
        "INVALID_DATA",
        "The record does not exist",
        {},
        lambda s: _v8(s, "DELETE", f"{_lead_campaigns(s)}/{s.world.campaigns[0]}"),
    ),
    Example(
        "delinkSpecificRelatedRecord/response-500-internalerror",
        500,
        "INTERNAL_ERROR",
        "Unexpected and unhandled exception in Server",
        {},
        _internal_error("DELETE", _linked),
    ),
    # --- getDeletedRelatedRecord: an operation the emulator does not serve ------------------------
    *(
        Example(
            f"getDeletedRelatedRecord/response-{name}",
            status,
            code,
            "",
            {},
            None,
            unreproducible=NO_DELETED_RECORDS,
        )
        for name, status, code in (
            ("400-authorizationfailed", 400, "AUTHORIZATION_FAILED"),
            ("400-invaliddataerror", 400, "INVALID_DATA"),
            ("400-invalidmodule", 400, "INVALID_MODULE"),
            ("401-oauthscopemismatch", 401, "OAUTH_SCOPE_MISMATCH"),
            ("403-nopermission", 403, "NO_PERMISSION"),
        )
    ),
]


@pytest.fixture(scope="module")
def contract() -> ContractChecker:
    return ContractChecker()


def test_every_example_of_the_spec_has_a_case():
    """The 34 error examples under v8.0/related_records/operations/*/examples/, each once."""
    names = [example.name for example in EXAMPLES]
    assert len(names) == len(set(names)) == 34


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_spec_error_example(example, emu, creds, crm, world, contract):
    if example.unreproducible:
        pytest.skip(example.unreproducible)
    # Our schema of the operation accepts the example itself.
    assert contract.validate(example.operation, f"response-{example.status}", example.body()) is None
    assert example.provoke is not None
    situation = Situation(emu, creds, crm, world)
    response = example.provoke(situation)
    assert response.status_code == example.status, response.text
    body = response.json()
    if example.bulk:
        assert set(body) == {"data"}, body
        assert len(body["data"]) == 1, body
        answer = body["data"][0]
    elif set(body) == {"data"}:
        # The spec documents this error both at the top level (this example) and inside 'data'
        # (the same operation's MandatoryNotFoundBulk example); the emulator answers per item.
        [answer] = body["data"]
    else:
        answer = body
    assert answer["status"] == "error"
    assert answer["code"] == example.code
    if example.deviation is not None:
        assert answer["message"] == example.deviation[0]
    else:
        assert answer["message"].casefold() == example.message.casefold()
    expected = example.details if example.expected_details is None else example.expected_details(situation)
    assert answer["details"] == expected
