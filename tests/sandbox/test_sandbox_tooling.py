"""The ways to run the sandbox: SandboxServer (HTTP and HTTPS), the command line and the pytest plugin."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

import pytest
import requests

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.sandbox import (
    DEFAULT_API_KEY,
    SAMPLE_MP4,
    SAMPLE_PNG,
    SandboxServer,
    SandboxSettings,
)
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def test_sample_files_are_small_real_media():
    video = SAMPLE_MP4.read_bytes()
    image = SAMPLE_PNG.read_bytes()

    assert video[4:8] == b"ftyp" and len(video) < 100_000
    assert image[:8] == b"\x89PNG\r\n\x1a\n"


def test_server_picks_a_free_port_and_exposes_its_state():
    settings = SandboxSettings(api_keys=["key-one", "key-two"], credits=7)
    with SandboxServer(settings) as server:
        response = requests.post(
            f"{server.url}/media",
            headers={"X-Api-Key": "key-two"},
            data={"prompt": "x", "duration": "2"},
            timeout=5,
        )
        balance = server.state.balance

    assert server.port > 0
    assert response.status_code == 200
    assert balance == 5


def test_server_serves_https_with_given_certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )

    with SandboxServer(ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        response = requests.get(f"{server.url}/health", verify=str(cert), timeout=5)

    assert server.url.startswith("https://127.0.0.1:")
    assert response.json() == {"status": "ok"}


def test_command_line_runs_until_sigterm():
    command = [
        sys.executable,
        "-m",
        "airflow_provider_vimmerse.sandbox",
        "--port",
        "0",
        "--api-key",
        "cli-key",
    ]
    process = subprocess.Popen(
        [*command, "--job-seconds", "1", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        url = first_line.strip().rsplit(" ", 1)[-1]
        printed = [process.stdout.readline().strip() for _ in range(4)]
        refused = requests.get(f"{url}/media/x", headers={"X-Api-Key": DEFAULT_API_KEY}, timeout=5)
        accepted = requests.get(f"{url}/media/x", headers={"X-Api-Key": "cli-key"}, timeout=5)
        # the printed connection, pasted as a user would: the hook it makes reaches this sandbox with its key
        export = shlex.split(printed[1])
        name, _, value = export[1].partition("=")
        with mock.patch.dict(os.environ, {name: value}):
            ok, message = VimmerseHook().test_connection()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)

    assert url.startswith("http://127.0.0.1:")
    assert (refused.status_code, accepted.status_code) == (401, 404)
    assert process.returncode == 0
    assert export[0] == "export" and name == "AIRFLOW_CONN_VIMMERSE_DEFAULT"
    assert json.loads(value) == {"conn_type": "vimmerse", "host": url, "password": "cli-key"}
    assert ok, message
    add = shlex.split(printed[3])
    assert add[:5] == ["airflow", "connections", "add", "vimmerse_default", "--conn-json"] and add[5] == value


def test_conn_uri_points_airflow_at_the_sandbox():
    conn = json.loads(sandbox_conn_uri("http://127.0.0.1:1234", "k", timeout=3))

    assert conn == {
        "conn_type": "vimmerse",
        "host": "http://127.0.0.1:1234",
        "password": "k",
        "extra": {"timeout": 3, "retries": 3, "web_url": "http://127.0.0.1:1234/app"},
    }


def test_pytest_plugin_gives_each_test_a_reset_sandbox(tmp_path):
    test_file = tmp_path / "test_uses_plugin.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import json
            import os

            import requests


            def test_first(vimmerse_sandbox):
                conn = json.loads(os.environ["AIRFLOW_CONN_VIMMERSE_DEFAULT"])
                assert conn["host"] == vimmerse_sandbox.url
                assert conn["password"] == vimmerse_sandbox.api_key
                headers = {"X-Api-Key": vimmerse_sandbox.api_key}
                url = vimmerse_sandbox.url + "/media"
                response = requests.post(url, headers=headers, data={"prompt": "x"})
                assert response.status_code == 200
                assert len(vimmerse_sandbox.client.jobs()) == 1
                vimmerse_sandbox.client.configure(credits=1)


            def test_second_starts_clean(vimmerse_sandbox):
                assert vimmerse_sandbox.client.jobs() == []
                assert vimmerse_sandbox.state.balance == 1000
                assert vimmerse_sandbox.state.settings.job_seconds == 1.0
            """
        )
    )
    env = subprocess_env()
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "airflow_provider_vimmerse.sandbox.pytest_plugin", str(test_file)]

    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_every_variant_setting_is_a_validated_cli_flag():
    from airflow_provider_vimmerse.sandbox.cli import build_parser
    from airflow_provider_vimmerse.sandbox.state import setting_choices

    args = build_parser().parse_args(
        ["--stale-success-seconds", "0", "--compose-seconds", "1.5", "--media-outputs", "result", "--error-code-field"]
    )

    assert (args.stale_success_seconds, args.compose_seconds, args.media_outputs) == (0.0, 1.5, "result")
    assert args.error_code_field is True and args.story_wrapping == "once"
    for name, choices in setting_choices().items():
        assert getattr(SandboxSettings(), name) in choices
        with pytest.raises(ValueError, match=name):
            SandboxSettings().updated(**{name: "no-such-variant"})
    with pytest.raises(ValueError, match="stale_success_seconds"):
        SandboxSettings().updated(stale_success_seconds=-1)
