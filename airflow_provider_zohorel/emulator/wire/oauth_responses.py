"""HTTP face of the Accounts server: ``POST /oauth/v2/token`` and ``POST /oauth/v2/token/revoke``.

Parameters may come in the query string or a form body (urlencoded or multipart), and client
credentials may come as HTTP Basic auth, as Zoho Accounts accepts (research 1.2). Every answer,
errors included, is HTTP 200 with a JSON body.
"""

from __future__ import annotations

from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.wire import asgi_io as http_io
from airflow_provider_zohorel.emulator.wire.asgi_io import Reply, Scope, json_reply


def _params(scope: Scope, body: bytes) -> dict[str, str]:
    params = http_io.query_params(scope)
    params.update(http_io.form_params(scope, body))
    credentials = http_io.basic_auth(scope)
    if credentials is not None:
        params.setdefault("client_id", credentials[0])
        params.setdefault("client_secret", credentials[1])
    return params


def handle_oauth(state: EmulatorState, scope: Scope, body: bytes, revoke: bool = False) -> Reply:
    """Answer the token endpoint, or (``revoke``) the revocation endpoint."""
    if scope["method"] != "POST":
        return json_reply(405, {"error": "invalid_request", "error_description": "use POST"})
    params = _params(scope, body)
    if revoke:
        token = params.get("token", "")
        if not token:
            return json_reply(200, {"error": "invalid_request"})
        # Like RFC 7009, unknown tokens are "revoked" too: the caller's goal is reached.
        state.accounts.revoke(token)
        return json_reply(200, {"status": "success"})
    api_domain = state.config.public_url or http_io.base_url(scope)
    return json_reply(200, state.accounts.token_request(params, api_domain.rstrip("/")))
