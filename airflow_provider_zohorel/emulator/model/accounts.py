"""Zoho Accounts (OAuth 2.0): clients, refresh tokens, access tokens and their limits.

Behaviour follows research sections 1.2-1.4: every token-endpoint answer is HTTP 200 (errors
are an ``error`` key), at most ``mint_limit`` access tokens per refresh token per window ("Access
Denied" afterwards), at most ``max_live_tokens`` live access tokens per refresh token (minting
one more silently invalidates the oldest), expiry after ``token_ttl_s``, and revocation that
kills a refresh token together with its access tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.model.clock import Clock
from airflow_provider_zohorel.emulator.model.config import EmulatorConfig

GRANT_TYPES = ("refresh_token", "authorization_code", "client_credentials")


def new_token_value() -> str:
    """A token shaped like Zoho's: ``1000.<32 hex>.<32 hex>``."""
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def secret_label(secret: str) -> str:
    """A name for a secret that does not reveal it (``sha256:`` and 12 hex digits), so the admin
    API can say which client secret or refresh token a figure belongs to without listing it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def new_client_id() -> str:
    """A client id shaped like Zoho's: ``1000.`` and 30 upper-case letters/digits."""
    alphabet = string.ascii_uppercase + string.digits
    return "1000." + "".join(secrets.choice(alphabet) for _ in range(30))


@dataclass(slots=True)
class Client:
    """A registered OAuth client (Self Client or server-based) acting for one user."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    user_id: str

    def to_dict(self, *, reveal_secret: bool = False) -> dict[str, Any]:
        """Admin-API view; the secret only when ``reveal_secret`` (the answer to whoever just set
        or generated it), otherwise its :func:`secret_label`."""
        view: dict[str, Any] = {"client_id": self.client_id}
        if reveal_secret:
            view["client_secret"] = self.client_secret
        else:
            view["client_secret_label"] = secret_label(self.client_secret)
        view.update(scopes=list(self.scopes), user_id=self.user_id)
        return view


@dataclass(slots=True, eq=False)
class AccessToken:
    """One minted access token; ``alive`` turns False on eviction or revocation."""

    value: str
    grant: TokenGrant
    scopes: frozenset[str]
    expires_at: float
    alive: bool = True


#: Why a dead access token no longer works, as the CRM answers it: pushed out by the 16th live
#: token or revoked -> ``evicted_token_code`` (INVALID_OAUTHTOKEN, v8 token-validity page and
#: the Accounts FAQ on deleted tokens); its refresh token revoked -> INVALID_TOKEN ("its access
#: tokens -> invalid_token", v2 token-validity page, research 1.4).
EVICTED = "evicted"
REFRESH_REVOKED = "refresh_revoked"
#: At most this many dead tokens are remembered (older ones then read as unknown tokens).
DEAD_TOKENS_KEPT = 10_000


@dataclass(slots=True, eq=False)
class TokenGrant:
    """What access tokens are minted from: a refresh token, or a client's client-credentials grant.

    Mint throttling and the live-token cap are counted per grant.
    """

    key: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    is_refresh_token: bool
    revoked: bool = False
    minted: int = 0
    mint_times: deque[float] = field(default_factory=deque)
    live: deque[AccessToken] = field(default_factory=deque)


@dataclass(slots=True)
class GrantCode:
    """A single-use authorization code."""

    code: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float


class AccountsError(ValueError):
    """An admin-API request that cannot be honoured (unknown client, conflicting token)."""


class Accounts:
    """State and rules of the Accounts server."""

    def __init__(
        self,
        clock: Clock,
        settings: Callable[[], EmulatorConfig],
        deny_next_mint: Callable[[], bool],
    ) -> None:
        self._clock = clock
        self._settings = settings
        self._deny_next_mint = deny_next_mint
        self.clients: dict[str, Client] = {}
        self.grants: dict[str, TokenGrant] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        #: Dead access token value -> why (EVICTED, REFRESH_REVOKED), oldest first.
        self.dead: dict[str, str] = {}
        self.codes: dict[str, GrantCode] = {}
        self._refresh_by_user_client: dict[tuple[str, str], deque[TokenGrant]] = {}
        self.minted_total = 0
        self.mints_denied = 0

    # --- admin ----------------------------------------------------------------------------------

    def add_client(
        self,
        user_id: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Sequence[str] = ("ZohoCRM.modules.ALL",),
    ) -> Client:
        """Register (or update) a client."""
        cid = client_id or new_client_id()
        client = Client(cid, client_secret or secrets.token_hex(21), tuple(scopes), user_id)
        self.clients[cid] = client
        return client

    def add_refresh_token(
        self,
        client_id: str,
        value: str | None = None,
        scopes: Sequence[str] | None = None,
        user_id: str | None = None,
    ) -> TokenGrant:
        """Issue a refresh token for a client (its scopes and user unless given)."""
        client = self.clients.get(client_id)
        if client is None:
            raise AccountsError(f"unknown client_id {client_id!r}")
        token = value or new_token_value()
        existing = self.grants.get(token)
        if existing is not None and existing.client_id != client_id:
            raise AccountsError("refresh token already issued to another client")
        if existing is not None:
            self._drop_grant(existing)
        grant = TokenGrant(
            key=token,
            client_id=client_id,
            user_id=user_id or client.user_id,
            scopes=tuple(scopes) if scopes is not None else client.scopes,
            is_refresh_token=True,
        )
        self.grants[token] = grant
        family = self._refresh_by_user_client.setdefault((grant.user_id, client_id), deque())
        family.append(grant)
        while len(family) > self._settings().max_refresh_tokens:
            oldest = family.popleft()
            self._kill_tokens(oldest, REFRESH_REVOKED)
            self.grants.pop(oldest.key, None)
        return grant

    def add_grant_code(
        self,
        client_id: str,
        code: str | None = None,
        scopes: Sequence[str] | None = None,
        user_id: str | None = None,
    ) -> GrantCode:
        """Issue a single-use authorization code for ``grant_type=authorization_code``."""
        client = self.clients.get(client_id)
        if client is None:
            raise AccountsError(f"unknown client_id {client_id!r}")
        value = code or f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        grant_code = GrantCode(
            value,
            client_id,
            user_id or client.user_id,
            tuple(scopes) if scopes is not None else client.scopes,
            self._clock.now() + self._settings().grant_code_ttl_s,
        )
        self.codes[value] = grant_code
        return grant_code

    def expire_tokens(self, refresh_token: str | None = None) -> int:
        """Expire every live access token (or those of one refresh token) now; returns how many."""
        now = self._clock.now()
        count = 0
        for grant in list(self.grants.values()):
            if refresh_token is not None and grant.key != refresh_token:
                continue
            for token in grant.live:
                if token.alive and token.expires_at > now:
                    count += 1
            self._kill_tokens(grant, None)
        return count

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and its access tokens) or a single access token."""
        grant = self.grants.get(token)
        if grant is not None and grant.is_refresh_token:
            grant.revoked = True
            self._kill_tokens(grant, REFRESH_REVOKED)
            return True
        access = self.access_tokens.get(token)
        if access is not None:
            self._kill(access, EVICTED)
            return True
        return False

    def revoke_access_tokens(self, refresh_token: str | None = None) -> int:
        """Revoke every live access token (or those of one refresh token), keeping the refresh
        tokens: later calls with them answer INVALID_OAUTHTOKEN. Returns how many."""
        count = 0
        for grant in list(self.grants.values()):
            if refresh_token is not None and grant.key != refresh_token:
                continue
            count += sum(1 for token in grant.live if token.alive)
            self._kill_tokens(grant, EVICTED)
        return count

    def reset_counters(self) -> None:
        """Zero the mint counters; tokens, grants and the throttle windows stay as they are."""
        self.minted_total = 0
        self.mints_denied = 0
        for grant in self.grants.values():
            grant.minted = 0

    def stats(self) -> dict[str, Any]:
        """Token counters for the admin API."""
        now = self._clock.now()
        live_by: dict[str, int] = {}
        minted_by: dict[str, int] = {}
        for grant in self.grants.values():
            label = secret_label(grant.key)
            minted_by[label] = grant.minted
            live_by[label] = sum(1 for t in grant.live if t.alive and t.expires_at > now)
        return {
            "tokens_minted": self.minted_total,
            "tokens_minted_by_refresh_token": minted_by,
            "live_tokens": sum(live_by.values()),
            "live_tokens_by_refresh_token": live_by,
            "token_mints_denied": self.mints_denied,
        }

    # --- CRM side -------------------------------------------------------------------------------

    def authenticate(self, value: str) -> AccessToken | None:
        """The live access token with this value, or None (unknown, expired, evicted, revoked)."""
        token = self.access_tokens.get(value)
        if token is None:
            return None
        if not token.alive or token.expires_at <= self._clock.now():
            self.access_tokens.pop(value, None)
            return None
        return token

    def why_dead(self, value: str) -> str | None:
        """EVICTED or REFRESH_REVOKED for a token that was killed; None if unknown or expired."""
        return self.dead.get(value)

    # --- token endpoint -------------------------------------------------------------------------

    def token_request(self, params: Mapping[str, str], api_domain: str) -> dict[str, Any]:
        """Answer ``POST /oauth/v2/token``; the result is always sent with HTTP 200."""
        grant_type = params.get("grant_type", "")
        if grant_type not in GRANT_TYPES:
            return {"error": errors.OAUTH_UNSUPPORTED_GRANT}
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            return {"error": errors.OAUTH_INVALID_CLIENT}
        if params.get("client_secret") != client.client_secret:
            return {"error": errors.OAUTH_INVALID_CLIENT_SECRET}
        if grant_type == "refresh_token":
            grant = self.grants.get(params.get("refresh_token", ""))
            if grant is None or grant.revoked or grant.client_id != client.client_id:
                return {"error": errors.OAUTH_INVALID_CODE}
            return self._mint_response(grant, grant.scopes, api_domain)
        if grant_type == "authorization_code":
            code = self.codes.pop(params.get("code", ""), None)
            if code is None or code.client_id != client.client_id or code.expires_at <= self._clock.now():
                return {"error": errors.OAUTH_INVALID_CODE}
            grant = self.add_refresh_token(client.client_id, scopes=code.scopes, user_id=code.user_id)
            body = self._mint_response(grant, grant.scopes, api_domain)
            if "access_token" in body:
                body["refresh_token"] = grant.key
            return body
        # client_credentials (Self Client): soid=ZohoCRM.<org_id> names the org.
        soid = params.get("soid", "")
        if soid != f"ZohoCRM.{self._settings().org_id}":
            return {"error": errors.OAUTH_MISSING_ORG}
        requested = tuple(s for s in params.get("scope", "").replace(",", " ").split() if s)
        key = f"client_credentials:{client.client_id}"
        grant = self.grants.get(key) or TokenGrant(key, client.client_id, client.user_id, (), False)
        self.grants[key] = grant
        body = self._mint_response(grant, requested or client.scopes, api_domain)
        if "access_token" in body:
            body["scope"] = " ".join(requested or client.scopes)
        return body

    def _mint_response(self, grant: TokenGrant, scopes: Sequence[str], api_domain: str) -> dict[str, Any]:
        config = self._settings()
        now = self._clock.now()
        if self._deny_next_mint() or self._throttled(grant, config, now):
            self.mints_denied += 1
            if config.throttle_wording == "reuse":
                return {"error_description": errors.THROTTLE_REUSE, "error": errors.OAUTH_ACCESS_DENIED}
            return {
                "error_description": errors.THROTTLE_CONTINUOUS,
                "error": errors.OAUTH_ACCESS_DENIED,
                "status": "failure",
            }
        # Forget expired tokens, then evict the oldest live ones beyond the cap.
        live = grant.live
        if any(not t.alive or t.expires_at <= now for t in live):
            for token in live:
                if token.alive and token.expires_at <= now:
                    self.access_tokens.pop(token.value, None)
            grant.live = live = deque(t for t in live if t.alive and t.expires_at > now)
        while len(live) >= config.max_live_tokens:
            self._kill(live.popleft(), EVICTED)
        token = AccessToken(
            new_token_value(), grant, frozenset(s.lower() for s in scopes), now + config.token_ttl_s
        )
        live.append(token)
        self.access_tokens[token.value] = token
        grant.mint_times.append(now)
        grant.minted += 1
        self.minted_total += 1
        body: dict[str, Any] = {
            "access_token": token.value,
            "api_domain": api_domain,
            "token_type": "Bearer",
            "expires_in": config.token_ttl_s,
        }
        if config.legacy_expiry_shape:
            body["expires_in_sec"] = config.token_ttl_s
            body["expires_in"] = config.token_ttl_s * 1000
        return body

    @staticmethod
    def _throttled(grant: TokenGrant, config: EmulatorConfig, now: float) -> bool:
        if config.mint_limit is None:
            return False
        times = grant.mint_times
        horizon = now - config.mint_window_s
        while times and times[0] <= horizon:
            times.popleft()
        return len(times) >= config.mint_limit

    def _kill(self, token: AccessToken, reason: str | None) -> None:
        """End one access token; ``reason`` None forgets it (it then reads as unknown/expired)."""
        token.alive = False
        self.access_tokens.pop(token.value, None)
        if reason is not None:
            dead = self.dead
            dead[token.value] = reason
            if len(dead) > DEAD_TOKENS_KEPT:
                del dead[next(iter(dead))]

    def _kill_tokens(self, grant: TokenGrant, reason: str | None) -> None:
        for token in grant.live:
            if token.alive:
                self._kill(token, reason)
        grant.live.clear()

    def _drop_grant(self, grant: TokenGrant) -> None:
        self._kill_tokens(grant, REFRESH_REVOKED)
        self.grants.pop(grant.key, None)
        family = self._refresh_by_user_client.get((grant.user_id, grant.client_id))
        if family is not None and grant in family:
            family.remove(grant)
