"""Ways to start the emulator: the CLI's ready line, ``ZohoEmulator`` in both modes."""

from __future__ import annotations

import subprocess
import sys

import msgspec
import pytest
import requests

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    EmulatorStartError,
    ZohoEmulator,
    connections_add_command,
)
from airflow_provider_zohorel.emulator.cli import build_parser, settings_from_args, start_up_text
from airflow_provider_zohorel.emulator.model.config import EmulatorConfig
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.settings import EmulatorSettings, settings_from_json, settings_to_json


def test_cli_prints_the_ready_line_first_then_how_to_connect():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_zohorel.emulator", "--port", "0", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("zoho-emulator listening on http://127.0.0.1:")
        base_url = line.split(" on ", 1)[1].strip()
        port = int(base_url.rsplit(":", 1)[1])
        assert port > 0
        assert requests.get(f"{base_url}/__emulator__/health", timeout=10).json()["status"] == "ok"
        assert requests.get(f"{base_url}/__emulator__/summary", timeout=10).json()["records"]["Leads"] == 49
        # The rest of the text came in the same write; read it from the same buffer.
        text = [process.stdout.readline().rstrip("\n") for _ in range(6)]
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert all(rest.startswith("  ") for rest in text)  # nothing else looks like a ready line
    assert f"  demo client id:     {DEMO_CLIENT_ID}" in text
    assert f"  demo client secret: {DEMO_CLIENT_SECRET}" in text
    assert f"  demo refresh token: {DEMO_REFRESH_TOKEN}" in text
    [command] = [row.strip() for row in text if row.strip().startswith("airflow connections add")]
    assert command == connections_add_command(base_url)


def test_start_up_text_without_a_seeded_client_says_how_to_get_one():
    text = start_up_text(EmulatorState(), "http://127.0.0.1:1")
    assert "no client with a refresh token is seeded" in text
    assert "airflow connections add" not in text


def test_cli_refuses_a_bad_seed():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow_provider_zohorel.emulator",
            "--port",
            "0",
            "--seed",
            "/nonexistent.json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "nonexistent" in result.stderr


def test_context_manager_subprocess_stops_the_process_on_error():
    seen: dict[str, object] = {}

    def use_and_fail():
        with ZohoEmulator(seed="demo", latency_ms=1) as emulator:
            seen["clients"] = emulator.admin.summary()["clients"]
            seen["latency_ms"] = emulator.admin.get_config()["latency_ms"]
            seen["process"] = emulator._process
            seen["port"] = emulator.port
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        use_and_fail()
    assert (seen["clients"], seen["latency_ms"]) == (1, 1)
    process = seen["process"]
    assert isinstance(process, subprocess.Popen)
    assert process.poll() is not None  # stopped, not leaked
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{seen['port']}/__emulator__/health", timeout=2)


def test_start_failure_quotes_stderr():
    with pytest.raises(EmulatorStartError, match="neither a bundled seed nor a file"):
        ZohoEmulator(seed="no-such-seed").start()


def test_in_thread_mode():
    with ZohoEmulator(in_thread=True, seed="demo") as emulator:
        assert emulator.pid is None
        assert emulator.app is not None
        assert emulator.admin.summary()["records"]["Campaigns"] == 3
        assert emulator.app.state.records.get("3652397000000327001") is not None
        port = emulator.port
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/__emulator__/health", timeout=2)


def test_library_settings_reach_the_app_directly_in_both_modes():
    """Keyword arguments become typed settings (no CLI round trip); ``config`` sets any field."""
    for in_thread in (True, False):
        with ZohoEmulator(in_thread=in_thread, latency_ms=2, config={"unknown_parent_status": 404}) as emu:
            config = emu.admin.get_config()
            assert (config["latency_ms"], config["unknown_parent_status"]) == (2, 404)
    with pytest.raises(msgspec.ValidationError):
        ZohoEmulator(config={"no_such_setting": 1})


def test_settings_json_round_trip_and_cli_flags_fill_the_same_settings():
    settings = EmulatorSettings(port=0, seeds=["demo"], config=EmulatorConfig(latency_ms=5))
    assert settings_from_json(settings_to_json(settings)) == settings
    args = build_parser().parse_args(["--port", "0", "--seed", "demo", "--latency-ms", "5"])
    assert settings_from_args(args) == settings
