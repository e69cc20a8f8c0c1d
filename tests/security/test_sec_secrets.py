"""Secrets (client secret, refresh token, every access token minted) never appear in task logs,
exception text, XCom, the rendered-template view (RenderedTaskInstanceFields in the metadata DB)
or a token cache another OS user can read; the cache is owner-only and refuses a directory that
another user owns or can write to.

Each test uses fresh random credentials, so a leak is found by plain substring search.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import traceback
from pathlib import Path

import pytest

from airflow_provider_zohorel.zoho.errors import ZohoError
from airflow_provider_zohorel.zoho.token_cache import PROCESS_CACHE, FileTokenCache, TokenCacheError
from tests.security.sec_support import SECRETS, connection_json

pytestmark = pytest.mark.integration

C = "3652397000000327001"
LEADS = [f"36523970000018290{n:02d}" for n in range(3, 23)]
UNKNOWN_LEAD = "3652397000001829999"


def conf(leads):
    return {
        "module": "Campaigns",
        "related_list": "Leads",
        "records": [{"record_id": C, "id": lead, "Member_Status": "Active"} for lead in leads],
    }


def assert_clean(where: str, text: str) -> None:
    hits = SECRETS.scan(where, text)
    assert not hits, f"secrets found: {hits}"


def metadata_rows(run_ids: list[str]) -> list[tuple[str, str]]:
    """XCom values and rendered template fields of these runs, as text."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    rows = []
    with create_session() as session:
        for x in session.query(XComModel).filter(XComModel.run_id.in_(run_ids)):
            rows.append((f"xcom {x.run_id}/{x.task_id}/{x.key}", json.dumps(x.value, default=str)))
        for r in session.query(RenderedTaskInstanceFields).filter(
            RenderedTaskInstanceFields.run_id.in_(run_ids)
        ):
            rows.append(
                (f"rendered fields {r.run_id}/{r.task_id}", json.dumps(r.rendered_fields, default=str))
            )
    return rows


@pytest.mark.e2e
def test_no_secret_in_logs_xcom_or_rendered_fields_of_dag_runs(world, run_dag):
    """Four real DAG runs: success; tokens expired (a second token minted); per-item failures; the
    refresh token revoked (the task fails on an auth error). None of them shows a secret."""
    runs = [run_dag("sec_run", conf(LEADS[:10]))]
    world.admin.expire_tokens()
    runs.append(run_dag("sec_run", conf(LEADS[5:])))
    runs.append(run_dag("sec_run", conf([*LEADS[:3], UNKNOWN_LEAD])))
    world.admin.revoke_refresh_token(world.credentials.refresh_token)
    world.admin.expire_tokens()
    runs.append(run_dag("sec_run", conf(LEADS[:2])))

    assert [r.tasks["relate"]["state"] for r in runs] == ["success", "success", "failed", "failed"]
    assert world.admin.counters()["tokens_minted"] == 2  # both access tokens are among the secrets
    assert "invalid_code" in runs[3].output  # the auth error was logged...
    for i, run in enumerate(runs):
        assert_clean(f"output of run {i}", run.output)  # ...without a secret
    rows = metadata_rows([r.run_id for r in runs])
    assert any(where.startswith("rendered fields") for where, _ in rows)
    assert any(where.startswith("xcom") for where, _ in rows)
    for where, text in rows:
        assert_clean(where, text)


def execute(**kwargs):
    from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

    class TI:
        dag_id = task_id = run_id = "security"
        try_number = 1
        pushed: dict = {}

        def xcom_push(self, key, value):
            self.pushed[key] = value

    ti = TI()
    operator = UpdateRelatedRecordsOperator(
        task_id="relate", module="Campaigns", related_list="Leads", **kwargs
    )
    try:
        return operator.execute({"ti": ti}), None
    except Exception as exc:
        return ti.pushed.get("return_value"), exc


def exception_text(exc: BaseException) -> str:
    return repr(exc) + "\n" + "".join(traceback.format_exception(exc))


@pytest.mark.parametrize("broken", ["client secret", "refresh token", "revoked", "client id"])
def test_no_secret_in_exception_text(world, monkeypatch, broken):
    creds = world.credentials
    if broken == "client secret":
        creds = type(creds)(
            creds.client_id, creds.client_secret + "x", creds.refresh_token, creds.user_id, creds.scopes
        )
    elif broken == "refresh token":
        creds = type(creds)(
            creds.client_id, creds.client_secret, creds.refresh_token + "x", creds.user_id, creds.scopes
        )
    elif broken == "client id":
        creds = type(creds)(
            "1000.UNKNOWN", creds.client_secret, creds.refresh_token, creds.user_id, creds.scopes
        )
    else:
        world.admin.revoke_refresh_token(creds.refresh_token)
    SECRETS.add(creds.client_secret, creds.refresh_token)
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", connection_json(world.emulator.base_url, creds))
    summary, exc = execute(records=conf(LEADS[:3])["records"])
    assert exc is not None
    assert_clean(f"operator exception ({broken})", exception_text(exc))
    assert_clean(f"summary ({broken})", json.dumps(summary))

    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    hook = ZohoCRMHook()
    ok, message = hook.test_connection()
    assert not ok
    assert_clean(f"test_connection ({broken})", message)
    assert_clean(f"credentials repr ({broken})", repr(hook.credentials))
    with pytest.raises(ZohoError) as raised:
        hook.get_access_token()
    assert_clean(f"get_access_token exception ({broken})", exception_text(raised.value))


def test_no_secret_in_the_repr_of_tokens_and_clients(world):
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    hook = ZohoCRMHook()
    token = hook.client.tokens.get()
    assert token.value in SECRETS.values
    for where, text in [
        ("access token repr", repr(token)),
        ("credentials repr", repr(hook.credentials)),
        ("client settings", repr(hook.client.settings)),
        ("client stats", repr(hook.client.stats)),
    ]:
        assert_clean(where, text)


def test_the_token_cache_holds_only_the_access_token_owner_only(world):
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    hook = ZohoCRMHook()
    assert isinstance(hook.client.tokens.cache, FileTokenCache)
    token = hook.client.tokens.get()
    assert stat.S_IMODE(world.token_dir.stat().st_mode) == 0o700
    files = sorted(p for p in world.token_dir.iterdir() if p.suffix == ".json")
    assert len(files) == 1
    for path in world.token_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path.name} is readable by others"
        assert path.stat().st_uid == os.getuid()
    text = files[0].read_text()
    assert token.value in text  # the one thing it is for
    for secret in (world.credentials.client_secret, world.credentials.refresh_token):
        assert secret not in text
        assert secret not in files[0].name


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another OS user")
def test_another_os_user_cannot_read_the_token_cache(world, monkeypatch):
    """As ``nobody``: the cache directory (0700) cannot be entered, and even with the directory
    opened up (0711) the token file itself (0600) cannot be read."""
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    base = Path(tempfile.mkdtemp(prefix="zohorel-cache-"))
    try:
        base.chmod(0o755)  # /tmp/zohorel-cache-*/tokens: the other user can reach the cache directory
        monkeypatch.setenv("ZOHOREL_TOKEN_CACHE_DIR", str(base / "tokens"))
        token = ZohoCRMHook().client.tokens.get()
        path = next((base / "tokens").glob("*.json"))

        def read_as_nobody():
            return subprocess.run(
                ["cat", str(path)], user=65534, group=65534, capture_output=True, text=True, check=False
            )

        denied = read_as_nobody()
        assert (denied.returncode, denied.stdout) == (1, "")
        assert "Permission denied" in denied.stderr
        (base / "tokens").chmod(0o711)
        denied = read_as_nobody()
        assert (denied.returncode, denied.stdout) == (1, "")
        assert token.value not in denied.stdout + denied.stderr
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand a directory to another OS user")
def test_a_cache_directory_owned_by_another_user_is_refused(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    with pytest.raises(TokenCacheError, match="belongs to another user"):
        FileTokenCache(foreign)


@pytest.mark.parametrize("mode", [0o777, 0o755, 0o770])
def test_a_cache_directory_others_can_enter_is_refused(tmp_path, mode):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    with pytest.raises(TokenCacheError, match="accessible by other users"):
        FileTokenCache(shared)


def test_the_hook_falls_back_to_memory_rather_than_an_unsafe_cache(world, monkeypatch):
    world.token_dir.mkdir()
    world.token_dir.chmod(0o777)
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    hook = ZohoCRMHook()
    assert hook.client.tokens.cache is PROCESS_CACHE
    hook.client.tokens.get()
    assert list(world.token_dir.iterdir()) == []  # nothing written where others could read it
