"""Run-time settings of the emulator: Zoho's limits and every point where Zoho's docs disagree.

Each field is one knob; defaults follow the current Zoho CRM docs (research section 0). The
admin API reads and patches this object while the server runs; unknown keys and wrong types
are refused so a typo in a test cannot silently leave a default in place.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Positive = Annotated[float, msgspec.Meta(gt=0)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]


class EmulatorConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """All configurable behaviour. Durations are seconds unless the name says ``_ms``."""

    # --- Accounts (OAuth) -------------------------------------------------------------------
    #: Access-token lifetime (``expires_in``).
    token_ttl_s: PositiveInt = 3600
    #: Send the legacy shape ``expires_in_sec: ttl`` plus ``expires_in: ttl*1000`` (ms).
    legacy_expiry_shape: bool = False
    #: Access tokens that may be minted per refresh token per ``mint_window_s``; None = no limit.
    mint_limit: PositiveInt | None = 10
    mint_window_s: Positive = 600.0
    #: Wording of the "Access Denied" throttle: CRM docs ("continuous") or Accounts page ("reuse").
    throttle_wording: Literal["continuous", "reuse"] = "continuous"
    #: Live access tokens per refresh token; minting one more silently evicts the oldest.
    max_live_tokens: PositiveInt = 15
    #: Refresh tokens per (user, client); the next one deletes the oldest and its access tokens.
    max_refresh_tokens: PositiveInt = 20
    #: Lifetime of a grant (authorization) code.
    grant_code_ttl_s: PositiveInt = 180

    # --- CRM authentication --------------------------------------------------------------------
    #: Also accept ``Authorization: Bearer <token>`` (Zoho documents only ``Zoho-oauthtoken``).
    accept_bearer: bool = False
    #: Code for an unknown or expired token; Zoho answers both (research 1.6).
    bad_token_code: Literal["INVALID_TOKEN", "AUTHENTICATION_FAILURE"] = "INVALID_TOKEN"  # noqa: S105
    #: Code for a token pushed out by the 16th live one, or revoked: "When an invalid access
    #: token is used, INVALID_OAUTHTOKEN exception will be thrown" (v8 token-validity page,
    #: zohohelp.com/crm/developer/docs/api/v8/token-validity.html; Accounts FAQ "Why am I getting
    #: INVALID_OAUTHTOKEN": deleted tokens, tokens of another DC).
    evicted_token_code: str = "INVALID_OAUTHTOKEN"  # noqa: S105
    #: The org's own API domain (``https://{solution}.zohoplatform.com`` for a Vertical Solutions
    #: org, VS v6 docs). When set, CRM calls that reach the emulator under another host are
    #: answered 401 ``evicted_token_code``, as a token used at another domain's API is (Accounts
    #: FAQ, point 1). None = any host.
    org_api_domain: str | None = None
    #: Accept module names in any letter case. Off: Zoho's docs give module API names with exact
    #: case and never say otherwise (the spec's pattern is case-sensitive).
    case_insensitive_modules: bool = False

    # --- Update Related Records ---------------------------------------------------------------
    #: A field that is not a junction field of the list fails the item. Off (ignored) by default:
    #: the v8 request schema allows additional properties in each item (v8.0/related_records.yaml,
    #: updateRelatedRecords requestBody ``additionalProperties: true``).
    strict_fields: bool = False
    #: Code for a module pair or related list the API does not support.
    unsupported_relation_code: Literal["INVALID_DATA", "INVALID_MODULE"] = "INVALID_DATA"
    #: HTTP status (and wording) for an unknown parent record: 400 or 404 (both documented).
    unknown_parent_status: Literal[400, 404] = 400

    # --- API limits ----------------------------------------------------------------------------
    #: Concurrent CRM calls per (user, client_id); Zoho editions use 5/10/15/20/25. None = off.
    concurrency_limit: PositiveInt | None = None
    #: CRM calls (1 credit each) allowed per rolling ``credit_window_s``. None = off.
    credit_limit: PositiveInt | None = None
    credit_window_s: Positive = 86400.0
    #: Send ``X-API-CREDITS-REMAINING`` once half of ``credit_limit`` is used.
    credits_remaining_header: bool = True
    #: ``Retry-After`` seconds on 429; None = no header (Zoho documents none).
    retry_after_s: NonNegativeInt | None = None

    # --- Latency --------------------------------------------------------------------------------
    #: Processing time added to every admitted CRM request: latency + uniform(0, jitter).
    latency_ms: NonNegative = 0.0
    jitter_ms: NonNegative = 0.0
    #: Test control, not a Zoho behaviour: CRM requests received after the first N wait, inside
    #: the concurrency window, until this is set back to None. A test can then stop or kill a
    #: client at a known point instead of racing it with latency. None = off.
    hold_after_requests: NonNegativeInt | None = None

    # --- Identity -------------------------------------------------------------------------------
    #: ``api_domain`` of token responses; None = the base URL the client used to reach us.
    public_url: str | None = None
    #: Org id returned by ``GET /crm/{v}/org`` and expected in ``soid=ZohoCRM.<org_id>``.
    org_id: str = "3652397000000000001"


def config_to_dict(config: EmulatorConfig) -> dict[str, Any]:
    """JSON-ready view of a configuration."""
    result: dict[str, Any] = msgspec.to_builtins(config)
    return result


def patched(config: EmulatorConfig, changes: dict[str, Any]) -> EmulatorConfig:
    """A copy of ``config`` with ``changes`` applied; raises ``msgspec.ValidationError`` if invalid."""
    merged = config_to_dict(config)
    merged.update(changes)
    return msgspec.convert(merged, EmulatorConfig)
