"""Typed errors of the Zoho client, with the resolutions from Zoho's reference page.

Every message built here goes through :func:`quote_body`, so a Zoho error body quoted in a task
log is size-limited and cannot inject extra log lines. No exception ever carries a header, a
token or a secret: callers pass only Zoho's ``code``/``message``/``details``.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Request-level errors that no retry can fix: stop the run at once (DESIGN.md, public contract).
CONFIGURATION_CODES = frozenset(
    {
        "INVALID_MODULE",
        "NOT_SUPPORTED",
        "INVALID_URL_PATTERN",
        "OAUTH_SCOPE_MISMATCH",
        "NO_PERMISSION",
        "AUTHORIZATION_FAILED",
        "INVALID_REQUEST_METHOD",
        "LIMIT_EXCEEDED",
        "FEATURE_NOT_SUPPORTED",
        "INVALID_HOST",
    }
)

#: 401 codes that mean "the access token is no good". The list documents what Zoho sends (an
#: evicted or revoked token: INVALID_OAUTHTOKEN, research/zoho-api.md 3.1 and 6); the client replaces
#: the token on *every* 401 except a configuration code such as OAUTH_SCOPE_MISMATCH, so an unknown
#: 401 code is treated as a token problem too.
TOKEN_CODES = frozenset(
    {"INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE", "AUTHENTICATION_FAILED"}
)

#: Resolutions quoted from the Update Related Records reference page (seeds/), plus the ones the
#: research notes document for codes the page does not list.
RESOLUTIONS: dict[str, str] = {
    "INVALID_MODULE": "Specify a valid module API name. The module may be misspelt, removed, not "
    "supported in the API (Documents, Projects) or the user may lack tab permission on it.",
    "NOT_SUPPORTED": "The module is not supported in the API. Specify a valid module API name.",
    "INVALID_URL_PATTERN": "The request URL is incorrect: check the module, record id, related list "
    "API name and API version.",
    "OAUTH_SCOPE_MISMATCH": "The client lacks the ZohoCRM.modules.{module}.UPDATE scope (or "
    "ZohoCRM.modules.ALL). Generate a new refresh token with a valid scope.",
    "NO_PERMISSION": "The user does not have permission to update related records. Contact your "
    "Zoho CRM administrator.",
    "AUTHORIZATION_FAILED": "The user does not have sufficient privilege to update related records "
    "data. Contact your Zoho CRM administrator.",
    "INVALID_REQUEST_METHOD": "The HTTP method is not valid for this URL; Update Related Records uses PUT.",
    "INTERNAL_ERROR": "Unexpected error on Zoho's side. Retry later; contact Zoho support if it persists.",
    "INVALID_DATA": "The parent or related record id is invalid, or the related list name is not a "
    "relation of this module. Check the ids with the Get Records API.",
    "MANDATORY_NOT_FOUND": "A mandatory field is missing (every item needs `id`; price books need "
    "`list_price`).",
    "LIMIT_EXCEEDED": "At most 100 related records per call.",
    "TOO_MANY_REQUESTS": "API credits for the rolling 24 h window are used up, or more calls ran at "
    "once than the edition's concurrency limit allows. Lower max_concurrency or wait for credits.",
    "INVALID_TOKEN": "The access token was rejected even after a refresh; check that the refresh "
    "token belongs to this data centre and has not been revoked.",
    "INVALID_HOST": "Vertical Solutions orgs must be called on https://<org>.zohoplatform.com: set "
    "api_domain in the connection.",
}

# C0 and C1 controls (NEL \x85 and the 8-bit CSI \x9b included) and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
MAX_QUOTE = 300
#: Zoho codes are short upper-case words; anything else in a code position is quoted this short.
MAX_CODE = 64


def quote_body(value: Any, limit: int = MAX_QUOTE) -> str:
    """Render a value from a Zoho response for a log line or error: one line, at most ``limit`` chars."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            text = repr(value)
    text = _CONTROL.sub(" ", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


class ZohoError(Exception):
    """Base class: a Zoho answer (or the lack of one) the caller must handle."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        self.code = quote_body(code, MAX_CODE)
        self.zoho_message = quote_body(message)
        self.http_status = http_status
        self.details = details or {}
        #: What the client knows about this particular refusal (e.g. the name Zoho expects).
        self.hint = hint
        super().__init__(self._render())

    @property
    def resolution(self) -> str | None:
        return RESOLUTIONS.get(self.code)

    def _render(self) -> str:
        status = f" (HTTP {self.http_status})" if self.http_status else ""
        text = f"Zoho {self.code}{status}: {self.zoho_message}"
        if self.details:
            text += f" details={quote_body(self.details, 200)}"
        if self.hint:
            text += f". Hint: {self.hint}"
        if self.resolution:
            text += f". Resolution: {self.resolution}"
        return text


class ZohoConfigurationError(ZohoError):
    """A request-level error no retry can fix (wrong module, scope, permission, URL). Stop the run."""


class ZohoAuthError(ZohoError):
    """The accounts server refused to mint a token (wrong client, secret, region, revoked token)."""


class ZohoAuthUnavailable(ZohoAuthError):
    """No token for now: the mint throttle or an unreachable accounts server outlasted the wait.
    The run stops (every call would wait the same way), but a later retry of the task can work."""


class ZohoTokenRejected(ZohoAuthUnavailable):
    """Zoho kept rejecting freshly minted tokens on first use. Probably the configuration (a refresh
    token of another data centre), but a retry of the task can work, so it is not final."""


class ZohoTransientError(ZohoError):
    """429, 5xx, a timeout or a dropped connection that outlived the retry budget."""


class ConnectionConfigError(ValueError):
    """A connection field is missing or malformed; the message names the field, never its secret value."""
