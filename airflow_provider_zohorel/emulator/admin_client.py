"""Typed Python client for the admin API (``/__emulator__/``), built on requests.

One method per admin endpoint, plus two conveniences for tests: ``create_credentials`` (user,
client and refresh token in one call) and ``access_token`` (mint through the real OAuth path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import requests

from airflow_provider_zohorel.emulator.model.accounts import secret_label
from airflow_provider_zohorel.emulator.model.seed import BUNDLED_SEEDS

__all__ = ["Credentials", "EmulatorAdmin", "EmulatorAdminError", "RelationRow", "secret_label"]

RecordId = str | int


class EmulatorAdminError(RuntimeError):
    """The admin API refused a request (HTTP status and its ``error`` message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class RelationRow(NamedTuple):
    """One stored link, in the relation's fixed orientation (Campaigns/Products/Appointments first)."""

    relation: str
    first_module: str
    first_id: str
    second_module: str
    second_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Credentials:
    """What a DAG's Zoho connection needs: client id/secret and a refresh token (plus who it is)."""

    client_id: str
    client_secret: str
    refresh_token: str
    user_id: str
    scopes: tuple[str, ...]


#: Scopes of ``create_credentials``: records, the connection test's user and org, and the
#: metadata the official SDK reads (settings.related_lists, settings.fields; research 2.2).
DEFAULT_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.settings.related_lists.READ",
    "ZohoCRM.settings.fields.READ",
)


class EmulatorAdmin:
    """Client for one emulator's admin API.

    ``token`` is the emulator's admin token (``ZOHO_EMULATOR_ADMIN_TOKEN``), sent as ``Authorization:
    Bearer`` on admin requests only. Every request that changes something goes out as JSON (the
    admin API refuses anything else, so a web page cannot forge one).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        session: requests.Session | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    # --- plumbing -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        if body is None and method != "GET":
            body = {}  # an empty JSON object: the admin API takes nothing else for a change
        response = self.session.request(
            method,
            f"{self.base_url}/__emulator__/{path}",
            json=body,
            params=params,
            headers=self._headers,
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            try:
                message = str(response.json().get("error", response.text))
            except ValueError:
                message = response.text
            raise EmulatorAdminError(response.status_code, message)
        return response.json()

    @staticmethod
    def _drop_none(**values: Any) -> dict[str, Any]:
        return {k: v for k, v in values.items() if v is not None}

    # --- lifecycle and configuration ------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET health``."""
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def summary(self) -> dict[str, Any]:
        """``GET summary``: record counts per module, relations, users, clients, refresh tokens."""
        result: dict[str, Any] = self._call("GET", "summary")
        return result

    def reset(self, seed: str | Path | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST reset``: empty state, startup config, no faults, zero counters; then ``seed``: a
        bundled seed name (``"demo"``), a seed file path (read here and sent), or a seed document."""
        sent: str | dict[str, Any] | None
        if isinstance(seed, Path) or (isinstance(seed, str) and seed not in BUNDLED_SEEDS):
            sent = msgspec.json.decode(Path(seed).read_bytes())
        else:
            sent = dict(seed) if isinstance(seed, Mapping) else seed
        result: dict[str, Any] = self._call("POST", "reset", {"seed": sent})
        return result

    def get_config(self) -> dict[str, Any]:
        """``GET config``."""
        result: dict[str, Any] = self._call("GET", "config")
        return result

    def patch_config(self, **changes: Any) -> dict[str, Any]:
        """``PATCH config``: e.g. ``patch_config(latency_ms=200, concurrency_limit=10)``."""
        result: dict[str, Any] = self._call("PATCH", "config", changes)
        return result

    def advance_clock(self, seconds: float) -> float:
        """``POST clock/advance``: move emulator time forward; returns the total offset."""
        return float(self._call("POST", "clock/advance", {"seconds": seconds})["offset_s"])

    def load_seed(self, seed: str | Path | Mapping[str, Any]) -> dict[str, Any]:
        """``POST seed``: a bundled seed name (``"demo"``), a seed file path, or a seed document."""
        result: dict[str, Any]
        if isinstance(seed, str) and seed in BUNDLED_SEEDS:
            result = self.load_seed_by_name(seed)
        elif isinstance(seed, (str, Path)):
            response = self.session.post(
                f"{self.base_url}/__emulator__/seed",
                data=Path(seed).read_bytes(),
                headers={"content-type": "application/json", **self._headers},
                timeout=self.timeout,
            )
            if response.status_code >= 400:
                raise EmulatorAdminError(response.status_code, response.json().get("error", response.text))
            result = response.json()
        else:
            result = self._call("POST", "seed", dict(seed))
        return result

    def load_seed_by_name(self, name: str) -> dict[str, Any]:
        """``POST seed?name=``: a bundled seed, or a file the emulator reads from its seed
        directory (``--seed-dir``; a name outside it is refused)."""
        result: dict[str, Any] = self._call("POST", "seed", params={"name": name})
        return result

    # --- users and OAuth ------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str | None = None,
        *,
        email: str | None = None,
        full_name: str | None = None,
        profile: str | None = None,
        role: str | None = None,
        permissions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST users``: create or update a user; returns it (with its ``id``)."""
        body = self._drop_none(
            id=user_id,
            email=email,
            full_name=full_name,
            profile=profile,
            role=role,
            permissions=dict(permissions) if permissions is not None else None,
        )
        result: dict[str, Any] = self._call("POST", "users", body)
        return result

    def list_users(self) -> list[dict[str, Any]]:
        """``GET users``."""
        result: list[dict[str, Any]] = self._call("GET", "users")["users"]
        return result

    def set_permissions(
        self,
        user_id: str,
        *,
        update_related: bool = True,
        read_related: bool = True,
        delink_related: bool = True,
        related_privilege: bool = True,
        modules_denied: Sequence[str] = (),
    ) -> dict[str, Any]:
        """``PUT users/{id}/permissions``: replace a user's permissions."""
        body = {
            "update_related": update_related,
            "read_related": read_related,
            "delink_related": delink_related,
            "related_privilege": related_privilege,
            "modules_denied": list(modules_denied),
        }
        result: dict[str, Any] = self._call("PUT", f"users/{user_id}/permissions", body)
        return result

    def add_client(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        scopes: Sequence[str] = ("ZohoCRM.modules.ALL",),
        user_id: str | None = None,
        refresh_tokens: Sequence[str] = (),
    ) -> dict[str, Any]:
        """``POST clients``: register a client; returns client_id, client_secret, scopes, user_id,
        refresh_tokens."""
        body = self._drop_none(client_id=client_id, client_secret=client_secret, user_id=user_id)
        body["scopes"] = list(scopes)
        body["refresh_tokens"] = list(refresh_tokens)
        result: dict[str, Any] = self._call("POST", "clients", body)
        return result

    def list_clients(self) -> list[dict[str, Any]]:
        """``GET clients``: id, scopes, user and ``client_secret_label`` (the secret itself is never
        listed; compare with :func:`secret_label`)."""
        result: list[dict[str, Any]] = self._call("GET", "clients")["clients"]
        return result

    def add_refresh_token(
        self,
        client_id: str,
        refresh_token: str | None = None,
        *,
        scopes: Sequence[str] | None = None,
        user_id: str | None = None,
    ) -> str:
        """``POST refresh_tokens``: issue a refresh token (generated unless given); returns it."""
        body = self._drop_none(
            client_id=client_id,
            refresh_token=refresh_token,
            scopes=list(scopes) if scopes is not None else None,
            user_id=user_id,
        )
        return str(self._call("POST", "refresh_tokens", body)["refresh_token"])

    def add_grant_code(
        self,
        client_id: str,
        code: str | None = None,
        *,
        scopes: Sequence[str] | None = None,
        user_id: str | None = None,
    ) -> str:
        """``POST grant_codes``: issue a single-use authorization code; returns it."""
        body = self._drop_none(
            client_id=client_id,
            code=code,
            scopes=list(scopes) if scopes is not None else None,
            user_id=user_id,
        )
        return str(self._call("POST", "grant_codes", body)["code"])

    def expire_tokens(self, refresh_token: str | None = None) -> int:
        """``POST tokens/expire``: expire all live access tokens (or one refresh token's); returns
        how many."""
        return int(
            self._call("POST", "tokens/expire", self._drop_none(refresh_token=refresh_token))["expired"]
        )

    def revoke_refresh_token(self, refresh_token: str) -> bool:
        """``POST tokens/revoke``: revoke a refresh token and its access tokens."""
        return bool(self._call("POST", "tokens/revoke", {"refresh_token": refresh_token})["revoked"])

    def revoke_access_token(self, access_token: str) -> bool:
        """``POST tokens/revoke``: revoke one access token (it then answers INVALID_OAUTHTOKEN)."""
        return bool(self._call("POST", "tokens/revoke", {"access_token": access_token})["revoked"])

    def revoke_access_tokens(self, refresh_token: str | None = None) -> int:
        """``POST tokens/revoke_access``: revoke every live access token (or one refresh token's),
        keeping the refresh tokens; returns how many. Use it to revoke the token a client holds
        without knowing it."""
        body = self._drop_none(refresh_token=refresh_token)
        return int(self._call("POST", "tokens/revoke_access", body)["revoked"])

    def fail_auth(
        self, count: int, code: str = "INVALID_TOKEN", message: str | None = None
    ) -> dict[str, Any]:
        """Answer the next ``count`` CRM requests 401 with ``code`` (any string), tokens untouched."""
        return self.set_faults(auth_errors_next=count, auth_error_code=code, auth_error_message=message)

    # --- records, notes, relations --------------------------------------------------------------

    def add_records(
        self,
        module: str,
        ids: Sequence[RecordId] | None = None,
        *,
        count: int | None = None,
        id_range: tuple[RecordId, RecordId] | None = None,
        fields: Mapping[str, Any] | None = None,
        external: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """``POST records``: exactly one of ``ids``, ``count`` (generated) or ``id_range``
        (inclusive); returns the ids. ``external`` gives them values of an external field:
        ``{"field": "External_Lead_ID", "values": [...]}`` or ``{"field": ..., "prefix": "ext"}``."""
        body = self._drop_none(
            module=module,
            ids=list(ids) if ids is not None else None,
            count=count,
            range=list(id_range) if id_range is not None else None,
            fields=dict(fields) if fields is not None else None,
            external=dict(external) if external is not None else None,
        )
        result: list[str] = self._call("POST", "records", body)["ids"]
        return result

    def list_records(self, module: str) -> list[str]:
        """``GET records?module=M``: ids of one module."""
        result: list[str] = self._call("GET", "records", params={"module": module})["ids"]
        return result

    def get_record(self, record_id: RecordId) -> dict[str, Any]:
        """``GET records/{id}``: ``{"id", "module", "fields"}``."""
        result: dict[str, Any] = self._call("GET", f"records/{record_id}")
        return result

    def add_notes(
        self,
        parent_module: str,
        parent_id: RecordId,
        ids: Sequence[RecordId] | None = None,
        *,
        count: int | None = None,
        id_range: tuple[RecordId, RecordId] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """``POST notes``: notes under a seeded parent; returns their ids."""
        body = self._drop_none(
            parent_module=parent_module,
            parent_id=parent_id,
            ids=list(ids) if ids is not None else None,
            count=count,
            range=list(id_range) if id_range is not None else None,
            fields=dict(fields) if fields is not None else None,
        )
        result: list[str] = self._call("POST", "notes", body)["ids"]
        return result

    def list_notes(self, parent_id: RecordId | None = None) -> list[dict[str, Any]]:
        """``GET notes[?parent_id=X]``: notes with their fields (``id``, ``Note_Title``, ...)."""
        params = {"parent_id": str(parent_id)} if parent_id is not None else None
        result: list[dict[str, Any]] = self._call("GET", "notes", params=params)["notes"]
        return result

    def add_relation(
        self,
        module: str,
        record_id: RecordId,
        related_list: str,
        related_id: RecordId,
        fields: Mapping[str, Any] | None = None,
    ) -> bool:
        """``POST relations``: create or update a link directly; True when new."""
        body = {
            "module": module,
            "id": record_id,
            "related_list": related_list,
            "related_id": related_id,
            "fields": dict(fields or {}),
        }
        return bool(self._call("POST", "relations", body)["added"])

    def add_related_list(
        self,
        module: str,
        api_name: str,
        related_module: str,
        *,
        fields: Mapping[str, str] | None = None,
        mandatory: Sequence[str] = (),
        linking_module: str | None = None,
        reverse_api_name: str | None = None,
        relation: str | None = None,
        display_label: str | None = None,
    ) -> None:
        """``POST related_lists``: a custom, linking-module or renamed related list (``fields``
        maps junction field names to text, number, boolean, contact_role or any)."""
        body = self._drop_none(
            module=module,
            api_name=api_name,
            related_module=related_module,
            linking_module=linking_module,
            reverse_api_name=reverse_api_name,
            relation=relation,
            display_label=display_label,
        )
        body["fields"] = dict(fields or {})
        body["mandatory"] = list(mandatory)
        self._call("POST", "related_lists", body)

    def add_contact_role(self, name: str, role_id: str | None = None) -> str:
        """``POST contact_roles``: add a contact role; returns its id."""
        return str(self._call("POST", "contact_roles", self._drop_none(name=name, id=role_id))["id"])

    def relations_of(self, record_id: RecordId, related_module: str | None = None) -> list[dict[str, Any]]:
        """``GET relations?id=X[&related=M]``: ``[{"relation", "module", "id", "fields"}]`` of a
        record, whichever side it was related from."""
        params = self._drop_none(id=str(record_id), related=related_module)
        result: list[dict[str, Any]] = self._call("GET", "relations", params=params)["relations"]
        return result

    def export_relations(self, relation: str | None = None) -> list[RelationRow]:
        """``GET relations/export[?relation=Campaigns-Leads]``: every stored link."""
        response = self.session.get(
            f"{self.base_url}/__emulator__/relations/export",
            params={"relation": relation} if relation else None,
            headers=self._headers,
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            raise EmulatorAdminError(response.status_code, response.text)
        # msgspec decodes a 100k-row export several times faster than the stdlib.
        payload = msgspec.json.decode(response.content)
        return [RelationRow(*row) for row in payload["rows"]]

    # --- observation and faults -----------------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        """``GET counters``: requests by endpoint/status, tokens, in-flight/peak, credits, 429s,
        loop lag, faults injected. Per-refresh-token figures are keyed by :func:`secret_label`."""
        result: dict[str, Any] = self._call("GET", "counters")
        return result

    def reset_counters(self) -> dict[str, Any]:
        """``POST counters/reset``."""
        result: dict[str, Any] = self._call("POST", "counters/reset")
        return result

    def get_faults(self) -> dict[str, Any]:
        """``GET faults``."""
        result: dict[str, Any] = self._call("GET", "faults")
        return result

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """``PUT faults``: merge into the plan, e.g. ``set_faults(error_500_next=2)``,
        ``set_faults(random={"probability": 0.1, "seed": 7})``, ``set_faults(failing_ids=[...])``."""
        result: dict[str, Any] = self._call("PUT", "faults", faults)
        return result

    def clear_faults(self) -> dict[str, Any]:
        """``DELETE faults``."""
        result: dict[str, Any] = self._call("DELETE", "faults")
        return result

    # --- conveniences ---------------------------------------------------------------------------

    def create_credentials(
        self,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        permissions: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Credentials:
        """A new user (admin unless ``permissions``), client and refresh token."""
        user = self.add_user(user_id, permissions=permissions)
        client = self.add_client(scopes=scopes, user_id=user["id"])
        token = self.add_refresh_token(client["client_id"])
        return Credentials(client["client_id"], client["client_secret"], token, user["id"], tuple(scopes))

    def token_response(self, client_id: str, client_secret: str, refresh_token: str) -> dict[str, Any]:
        """``POST /oauth/v2/token`` (grant_type=refresh_token), the way a client calls it."""
        response = self.session.post(
            f"{self.base_url}/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": client_id,
                "client_secret": client_secret,
                "refresh_token": refresh_token,
            },
            timeout=self.timeout,
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def access_token(self, credentials: Credentials) -> str:
        """Mint an access token for ``credentials`` (counts against the mint limit)."""
        body = self.token_response(
            credentials.client_id, credentials.client_secret, credentials.refresh_token
        )
        if "access_token" not in body:
            raise EmulatorAdminError(200, f"token endpoint answered {body}")
        return str(body["access_token"])
