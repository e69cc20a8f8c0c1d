"""ZohoCRMHook: an Airflow Connection turned into a resilient Zoho CRM client.

Airflow glue only: read and validate the connection, register secrets with the masker, pick the
token cache, and expose the calls of :mod:`airflow_provider_zohorel.zoho` under the names of the
public contract (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow_provider_zohorel._compat import BaseHook, mask_secret
from airflow_provider_zohorel.hooks import connection_fields
from airflow_provider_zohorel.hooks.connection_fields import EXTRA_FIELDS, read_extras
from airflow_provider_zohorel.zoho.client import ClientSettings, ZohoClient
from airflow_provider_zohorel.zoho.concurrency_budget import (
    ConcurrencyBudget,
    RedisConcurrencyBudget,
    budget_name,
)
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ConnectionConfigError, ZohoError
from airflow_provider_zohorel.zoho.limits import DEFAULT_MAX_CONCURRENCY, parse_cap
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.token_cache import (
    PROCESS_CACHE,
    FileTokenCache,
    TokenCache,
    TokenCacheError,
)
from airflow_provider_zohorel.zoho.values import InvalidValue


def _quote_setting(setting: str) -> str:
    """A bad cache setting, quoted only when it cannot be a URL carrying a password."""
    return "a URL of another scheme" if "://" in setting else repr(setting[:40])


class ZohoCRMHook(BaseHook):
    """Interact with Zoho CRM's Update Related Records API.

    :param zoho_conn_id: a connection of type ``zoho_crm``: login = client id, password = client
        secret, extras ``refresh_token`` (required), ``region`` or ``accounts_url``, ``mint_url`` (the
        full token URL where it is not ``{accounts_url}/oauth/v2/token``, e.g. a Vertical Solutions
        portal), ``api_domain``, ``api_version``, ``cache_backend`` (``file``, the default, ``memory``
        or a ``redis://`` URL; also read as ``token_cache``, its earlier name), ``concurrency_budget`` (a
        ``redis://`` URL: one budget of concurrent calls for the whole deployment) and
        ``concurrency_cap`` (its size: a number or an edition).
    :param max_concurrency: most calls in flight at once; keep it at or below your edition's cap.
    :param retry: retry budget per call (attempts, backoff, deadline).
    :param token_cache: where access tokens are shared; overrides the connection's ``cache_backend``.
    :param validate_related_list: check each related list name against Zoho's metadata
        (``GET /settings/related_lists?module=X``, once per module for this hook) before the first
        call, and fail with the valid names when it is not one of them. Needs the
        ``ZohoCRM.settings.related_lists.READ`` scope. Off by default: any list name is sent as is.
    """

    conn_name_attr = "zoho_conn_id"
    default_conn_name = "zoho_crm_default"
    conn_type = connection_fields.CONN_TYPE
    hook_name = connection_fields.HOOK_NAME

    def __init__(
        self,
        zoho_conn_id: str = default_conn_name,
        *,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        token_cache: TokenCache | None = None,
        validate_related_list: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.zoho_conn_id = zoho_conn_id
        self.validate_related_list = validate_related_list
        self.settings = ClientSettings(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=retry or RetryPolicy(),
            max_concurrency=max_concurrency,
        )
        self._token_cache = token_cache

    # -- connection --------------------------------------------------------------------------

    @cached_property
    def _extras(self) -> dict[str, Any]:
        conn = self.get_connection(self.zoho_conn_id)
        if conn.conn_type not in (None, "", self.conn_type):
            self.log.warning(
                "Connection %s has type %r, expected %r", self.zoho_conn_id, conn.conn_type, self.conn_type
            )
        extra = conn.extra_dejson
        if not isinstance(extra, dict):
            raise ConnectionConfigError(f"Connection {self.zoho_conn_id!r}: extra must be a JSON object.")
        fields = read_extras(extra)
        fields["_login"], fields["_password"] = conn.login, conn.password
        return fields

    @cached_property
    def credentials(self) -> ZohoCredentials:
        """Validated credentials; the client secret and refresh token are masked from here on."""
        fields = self._extras
        mask_secret(fields["_password"])
        for field in EXTRA_FIELDS:
            if field.secret:
                mask_secret(fields[field.name])
        try:
            return ZohoCredentials.from_fields(
                client_id=fields["_login"], client_secret=fields["_password"], extra=fields
            )
        except ConnectionConfigError as exc:
            raise ConnectionConfigError(f"Connection {self.zoho_conn_id!r}: {exc}") from None

    def _choose_token_cache(self) -> TokenCache:
        if self._token_cache is not None:
            return self._token_cache
        setting = str(self._extras.get("cache_backend") or "file").strip()
        choice = setting.lower()
        if choice == "memory":
            return PROCESS_CACHE
        if choice.startswith(("redis://", "rediss://", "unix://")):
            mask_secret(setting)  # the URL may carry a Redis password
            from airflow_provider_zohorel.zoho.token_cache_redis import RedisTokenCache

            return RedisTokenCache.from_url(setting)
        if choice != "file":
            raise ConnectionConfigError(
                f"Connection {self.zoho_conn_id!r}: extra 'cache_backend' (Access Token Cache) must be "
                f"file, memory or a redis:// URL, not {_quote_setting(setting)}."
            )
        try:
            return FileTokenCache()
        except TokenCacheError as exc:
            self.log.warning("Zoho token cache: %s; sharing tokens within this process only", exc)
            return PROCESS_CACHE

    def _choose_budget(self) -> ConcurrencyBudget | None:
        """The deployment-wide concurrency budget of ``concurrency_budget`` (a Redis URL), sized by
        ``concurrency_cap``; None without one (each task is then bounded by ``max_concurrency``)."""
        setting = str(self._extras.get("concurrency_budget") or "").strip()
        if not setting:
            return None
        if not setting.lower().startswith(("redis://", "rediss://", "unix://")):
            raise ConnectionConfigError(
                f"Connection {self.zoho_conn_id!r}: extra 'concurrency_budget' must be a redis:// URL "
                "(or empty for no shared budget)."
            )
        mask_secret(setting)  # the URL may carry a Redis password
        try:
            cap = parse_cap(self._extras.get("concurrency_cap") or "standard")
        except InvalidValue as exc:
            raise ConnectionConfigError(
                f"Connection {self.zoho_conn_id!r}: extra 'concurrency_cap': {exc}"
            ) from None
        credentials = self.credentials
        return RedisConcurrencyBudget.from_url(
            setting, cap, budget_name(credentials.client_id, credentials.accounts_url)
        )

    # -- client ------------------------------------------------------------------------------

    def get_conn(self) -> ZohoClient:
        """The shared, thread-safe client (one pooled session, one token provider)."""
        return self.client

    @cached_property
    def client(self) -> ZohoClient:
        return ZohoClient(
            self.credentials,
            settings=self.settings,
            token_cache=self._choose_token_cache(),
            on_token=mask_secret,
            budget=self._choose_budget(),
        )

    @cached_property
    def api(self) -> RelatedRecordsApi:
        return RelatedRecordsApi(self.client, validate_related_list=self.validate_related_list)

    def get_access_token(self) -> str:
        """A valid access token (shared, minted only if no sharer has one); masked in logs."""
        return self.client.tokens.get().value

    def update_related_records(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        records: Sequence[Mapping[str, Any]],
        external: str | None = None,
    ) -> list[ItemResult]:
        """Relate up to 100 records to one parent: ``PUT /crm/{v}/{module}/{record_id}/{related_list}``.

        ``related_list`` is any related-list API name (Zoho's own, custom, linking-module lists,
        ``Contact_Roles``). ``external`` is the ``X-EXTERNAL`` header value (``"Leads.External_Lead_ID"``,
        or two comma-separated): the sides it names are then given by external values, sent as
        given, not record ids. Returns one :class:`ItemResult` per record, in input order,
        whatever the HTTP status.
        """
        return self.api.update_related_records(module, record_id, related_list, records, external)

    def update_related_record(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        related_record_id: Any,
        data: Mapping[str, Any],
        external: str | None = None,
    ) -> ItemResult:
        """Relate (or update the relation to) one record: ``PUT .../{related_list}/{related_record_id}``
        with ``{"data": [{"id": related_record_id, **data}]}``; ``external`` as above."""
        return self.api.update_related_record(
            module, record_id, related_list, related_record_id, data, external
        )

    def get_related_records(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        fields: Sequence[str] | str | None = None,
        external: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every record in a parent's related list: ``GET /crm/{v}/{module}/{record_id}/{list}``,
        200 per page until ``more_records`` is false (204: none). ``fields``: the field API names
        to read (v8 requires some: without them only ``id`` is read; earlier versions return all)."""
        return self.api.get_related_records(module, record_id, related_list, fields, external)

    def delink_related_records(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        ids: Sequence[Any],
        external: str | None = None,
    ) -> list[ItemResult]:
        """Remove up to 100 records from a parent's related list: ``DELETE .../{related_list}?ids=...``.
        Returns one :class:`ItemResult` per id, in input order ("relation removed" on success)."""
        return self.api.delink_related_records(module, record_id, related_list, ids, external)

    def test_connection(self) -> tuple[bool, str]:
        """Mint a token and call ``GET /users?type=CurrentUser``; never raises, never shows a secret.

        The messages do not name the connection: the UI and REST API test a copy under a random
        temporary id (``Connection 'onhlEfCu': ...`` would name no connection the user knows), and
        the user knows which one they are testing.
        """
        try:
            token = self.client.tokens.get()
        except (ZohoError, ConnectionConfigError) as exc:
            return False, self._without_conn_id(str(exc))
        except Exception as exc:
            return False, f"Could not reach Zoho Accounts: {type(exc).__name__}"
        where = f"{self.credentials.api_domain or token.api_domain} (API {self.credentials.api_version})"
        try:
            response = self.client.request("GET", "/users", params={"type": "CurrentUser"})
        except ZohoError as exc:
            if exc.code == "OAUTH_SCOPE_MISMATCH":
                return True, (
                    f"Access token minted for {where}. The token has no ZohoCRM.users.READ scope, so the "
                    "user could not be shown; related-records calls need only ZohoCRM.modules scopes."
                )
            return False, f"Token minted, but Zoho CRM at {where} refused the test call: {exc}"
        except Exception as exc:
            return False, f"Token minted, but Zoho CRM at {where} did not answer: {type(exc).__name__}"
        users = response.body.get("users") if isinstance(response.body, dict) else None
        if response.status != 200 or not users:
            return False, f"Zoho CRM at {where} answered HTTP {response.status} to the test call."
        user = users[0] if isinstance(users[0], dict) else {}
        who = user.get("email") or user.get("full_name") or "the token's user"
        return True, f"Connected to Zoho CRM at {where} as {who}."

    def _without_conn_id(self, message: str) -> str:
        return message.removeprefix(f"Connection {self.zoho_conn_id!r}: ")

    # -- Airflow < 3.2 connection form (3.2+ reads conn-fields from get_provider_info) ---------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return connection_fields.hook_ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return connection_fields.hook_form_widgets()
