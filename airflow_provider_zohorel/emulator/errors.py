"""Zoho's error envelopes, codes and messages, worded as the docs and observed responses word them.

CRM errors share one shape, ``{"code", "details", "message", "status": "error"}``, both at the
top level (request errors) and inside ``data`` (per-item errors). Request handlers raise
:class:`ZohoError`; the ASGI layer turns it into a response.
"""

from __future__ import annotations

from typing import Any

# Messages, verbatim from the reference page or from observed responses (research section 2.5).
MSG_INVALID_MODULE = "The module name given seems to be invalid"
MSG_MODULE_NOT_SUPPORTED = "The given module is not supported in API"
MSG_INVALID_URL_PATTERN = "Please check if the URL trying to access is a correct one"
MSG_SCOPE_MISMATCH = "invalid oauth scope to access this URL"
MSG_INVALID_TOKEN = "invalid oauth token"  # noqa: S105
MSG_AUTHENTICATION_FAILURE = "Authentication failed"
MSG_NO_PERMISSION = "Permission denied to update records"
MSG_AUTHORIZATION_FAILED = "User does not have sufficient privilege to update related records data"
MSG_INTERNAL_ERROR = "Internal Server Error"
MSG_INVALID_METHOD = "The http request method type is not a valid one"
MSG_INVALID_RELATION = "the relation name given seems to be invalid"
MSG_INVALID_PARENT_400 = "the id given seems to be invalid"
MSG_INVALID_RELATED_ID = "the related id given seems to be invalid"
MSG_INVALID_DATA = "invalid data"
MSG_MANDATORY_NOT_FOUND = "required field not found"
MSG_LIMIT_EXCEEDED = "Limit Exceeded, You cannot give more than {limit} records"
MSG_INVALID_JSON = "the request body is not valid JSON"
# v8 OpenAPI spec (zoho/crm-oas v8.0/related_records/related_records.yaml and the examples under
# v8.0/related_records/operations/*/examples/).
MSG_INVALID_ID = "the id given seems to be invalid"  # RelationNotFoundBulk (a bad related id)
MSG_RECORD_NOT_FOUND = "The record does not exist"  # RecordNotFound, 404
MSG_INTERNAL_ERROR_V8 = "Unexpected and unhandled exception in Server"  # InternalError examples
# A parent id that names no record, resource_path_index 1 (InvalidDataError example; the same
# words in v8.0/deal_contact_roles.json InvalidRelatedIdExample).
MSG_INVALID_PARENT_V8 = "the related id given seems to be invalid"
MSG_PARAM_MISSING = "One of the expected parameter is missing"  # REQUIRED_PARAM_MISSING, delink ids
MSG_RELATION_REMOVED = "relation removed"  # delinkRelatedRecords 207 example, deal_contact_roles.json
MSG_RELATION_NOT_FOUND = "relation not found"  # delinkRelatedRecords 400 relationnotfound example
MSG_IDS_LIMIT = "Limit Exceeded, You cannot give more than {limit} record ids"  # delink limitexceeded
MSG_UNABLE_TO_PARSE = "Either the request body or parameters is in wrong format"  # UnableToParseDataType
MSG_NO_PERMISSION_READ = "Permission denied to read related records"  # 403 NoPermission example
MSG_NO_PERMISSION_DELETE = "Permission denied to delete records"  # delink 403 example
MSG_AUTHORIZATION_FAILED_READ = "User does not have sufficient privilege to read related records data"
MSG_AUTHORIZATION_FAILED_DELETE = "User does not have sufficient privilege to delete related records data"
# RECORD_LOCKED, as help.zoho.com's announcement "The New Error Codes in CRM API - RECORD_LOCKED
# and NOT_APPROVED" shows it (details id and action zia_vision_processing).
MSG_RECORD_LOCKED = "Cannot update record that is not approved yet"
#: Zoho's words for the 401 codes a client may meet (research 1.6; the v8 token-validity page
#: names INVALID_OAUTHTOKEN without a message, so it shares INVALID_TOKEN's observed wording).
AUTH_MESSAGES = {
    "INVALID_TOKEN": "invalid oauth token",
    "INVALID_OAUTHTOKEN": "invalid oauth token",
    "AUTHENTICATION_FAILURE": "Authentication failed",
    "OAUTH_SCOPE_MISMATCH": "invalid oauth scope to access this URL",
}
MSG_TOO_MANY_REQUESTS = (
    "Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user "
    "for the app is exceeded"
)

# OAuth (accounts) error values; these are sent with HTTP 200.
OAUTH_INVALID_CLIENT = "invalid_client"
OAUTH_INVALID_CLIENT_SECRET = "invalid_client_secret"  # noqa: S105
OAUTH_INVALID_CODE = "invalid_code"
OAUTH_UNSUPPORTED_GRANT = "unsupported_grant_type"
OAUTH_MISSING_ORG = "missing_org_info"
OAUTH_ACCESS_DENIED = "Access Denied"
THROTTLE_CONTINUOUS = "You have made too many requests continuously. Please try again after some time."
THROTTLE_REUSE = "Token creation throttle limit reached. Please reuse the valid tokens you currently have."


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build Zoho's error envelope (used at the top level and per item)."""
    return {
        "code": code,
        "details": {} if details is None else details,
        "message": message,
        "status": "error",
    }


class ZohoError(Exception):
    """A request-level CRM error: HTTP status plus Zoho's envelope."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = {} if details is None else details

    def body(self) -> dict[str, Any]:
        """The JSON body Zoho sends for this error."""
        return envelope(self.code, self.message, self.details)


def invalid_url_pattern() -> ZohoError:
    """Wrong path shape or unknown API version."""
    return ZohoError(404, "INVALID_URL_PATTERN", MSG_INVALID_URL_PATTERN)


def invalid_module(message: str = MSG_INVALID_MODULE, index: int = 0) -> ZohoError:
    """Unknown, unsupported or hidden module (``resource_path_index`` says which path part)."""
    return ZohoError(400, "INVALID_MODULE", message, {"resource_path_index": index})


def invalid_request_method() -> ZohoError:
    """A method other than the documented one on a known URL."""
    return ZohoError(400, "INVALID_REQUEST_METHOD", MSG_INVALID_METHOD)


def scope_mismatch() -> ZohoError:
    """The token lacks the scope the URL needs."""
    return ZohoError(401, "OAUTH_SCOPE_MISMATCH", MSG_SCOPE_MISMATCH)


def internal_error(spec_v8: bool = False) -> ZohoError:
    """An injected server failure: "Internal Server Error" (update-related-records docs, v2 to
    v7), "Unexpected and unhandled exception in Server" in v8 (spec InternalError examples)."""
    return ZohoError(500, "INTERNAL_ERROR", MSG_INTERNAL_ERROR_V8 if spec_v8 else MSG_INTERNAL_ERROR)


def too_many_requests() -> ZohoError:
    """Credit budget or concurrency cap exceeded; Zoho does not say which."""
    return ZohoError(429, "TOO_MANY_REQUESTS", MSG_TOO_MANY_REQUESTS)


def item_field_error(code: str, message: str, index: int, api_name: str, **extra: Any) -> dict[str, Any]:
    """A per-item error pointing at one field of ``data[index]``."""
    details: dict[str, Any] = {"api_name": api_name, "json_path": f"$.data[{index}].{api_name}"}
    details.update(extra)
    return envelope(code, message, details)


def unauthorized(code: str, message: str | None = None) -> ZohoError:
    """A 401 with any token code (Zoho's wording for the known ones)."""
    return ZohoError(401, code, message or AUTH_MESSAGES.get(code, "invalid oauth token"))


def record_not_found() -> ZohoError:
    """404 INVALID_DATA "The record does not exist" (v8 spec RecordNotFound examples)."""
    return ZohoError(404, "INVALID_DATA", MSG_RECORD_NOT_FOUND)


def required_param_missing(param: str) -> ZohoError:
    """400 REQUIRED_PARAM_MISSING for a missing query parameter (v8 getRelatedRecords example)."""
    return ZohoError(400, "REQUIRED_PARAM_MISSING", MSG_PARAM_MISSING, {"param_name": param})


def success(details: dict[str, Any], message: str) -> dict[str, Any]:
    """A per-item success envelope."""
    return {"code": "SUCCESS", "details": details, "message": message, "status": "success"}
