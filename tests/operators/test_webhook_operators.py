"""
The job operators with ``[vimmerse] webhooks`` on, run with ``dag.test()`` against the sandbox.

What a task sends (the signed ``webhook_url``) and what it does where webhooks cannot work. The whole
path (delivery, receiver, hint, trigger) runs in a real Airflow in ``tests/native/test_webhooks.py``.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_vimmerse.api.webhooks import RECEIVER_PATH, WebhookTarget
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.webhooks import SUBMIT_ALLOWANCE_SECONDS, airflow_lacks_hints
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import logged

SECRET = "operator-tests-webhook-secret-of-32-bytes-and-more"
BASE = "https://airflow.example.com"


@pytest.fixture
def webhooks_on(monkeypatch):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOKS", "True")
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_BASE_URL", BASE)
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_SECRET", SECRET)


def sent_webhook_url(sandbox) -> str:
    (job,) = sandbox.state.media.values()
    return job.webhook_url


def run_one(tmp_path, dag_id: str, **kwargs):
    dag = new_dag(dag_id, tmp_path)
    VimmerseCreateMediaOperator(task_id="make", prompt="a lighthouse", deferrable=True, dag=dag, **kwargs)
    return run_dag(dag, tmp_path)


def test_the_operator_fills_a_signed_url_naming_its_task_or_says_why_not(
    airflow_db, vimmerse_sandbox, webhooks_on, tmp_path, capsys, caplog
):
    vimmerse_sandbox.client.configure(job_seconds=1)
    started = time.time()
    result = run_one(tmp_path, "webhook_fill", poll_interval=0.3, timeout=600)
    assert result.states == {"make": "success"}, "the safety net (here poll_interval) ends the wait anyway"
    url = sent_webhook_url(vimmerse_sandbox)
    if airflow_lacks_hints() is not None:  # Airflow 2.11: no receiver, no hint reading
        assert url == "", "no webhook_url is sent where it cannot wake anything"
        text = logged(capsys, caplog)
        assert "cannot wake a wait by webhook" in text and "the wait polls the job's status instead" in text
        return
    assert url.startswith(f"{BASE}{RECEIVER_PATH}?")
    params = dict(parse_qsl(urlsplit(url).query))
    target = WebhookTarget.from_query(params, SECRET)
    assert (target.kind, target.dag_id, target.task_id, target.map_index) == ("media", "webhook_fill", "make", -1)
    assert SECRET not in url
    # it belongs to this try and expires with the wait (timeout=600), signed with the rest
    assert target.try_number == 1 and params["try"] == "1"
    assert started + 600 <= target.expires_at <= time.time() + 600 + SUBMIT_ALLOWANCE_SECONDS + 1
    assert int(params["exp"]) == target.expires_at


@pytest.mark.parametrize("weak", ["x", "   ", "s3cret", "a" * 31], ids=["x", "spaces", "short", "31 bytes"])
def test_a_weak_secret_fails_the_task_before_any_request(
    airflow_db, vimmerse_sandbox, webhooks_on, tmp_path, monkeypatch, capsys, caplog, weak
):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_SECRET", weak)
    result = run_one(tmp_path, "webhook_weak_secret", poll_interval=0.3)
    if airflow_lacks_hints() is not None:  # Airflow 2.11: no URL is planned, so no secret is used
        assert result.states == {"make": "success"} and sent_webhook_url(vimmerse_sandbox) == ""
        return
    assert result.states == {"make": "failed"}
    assert vimmerse_sandbox.client.ledger() == [], "no request reached the API: nothing was spent"
    text = logged(capsys, caplog)
    assert "VimmerseInputError" in text and "Invalid '[vimmerse] webhook_secret': " in text
    assert "at least 32 bytes" in text and 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in text


def test_a_webhook_url_set_by_the_task_is_kept_and_the_wait_polls(
    airflow_db, vimmerse_sandbox, webhooks_on, tmp_path, capsys, caplog
):
    vimmerse_sandbox.client.configure(job_seconds=1)
    mine = "https://hooks.example.com/mine"
    result = run_one(tmp_path, "webhook_own", poll_interval=0.3, webhook_url=mine)
    assert result.states == {"make": "success"}
    assert sent_webhook_url(vimmerse_sandbox) == mine
    if airflow_lacks_hints() is None:
        assert "this task sets webhook_url itself" in logged(capsys, caplog)


def test_webhooks_off_by_default_send_nothing(airflow_db, vimmerse_sandbox, tmp_path):
    vimmerse_sandbox.client.configure(job_seconds=1)
    assert run_one(tmp_path, "webhook_off", poll_interval=0.3).states == {"make": "success"}
    assert sent_webhook_url(vimmerse_sandbox) == ""


def test_a_connection_that_says_no_overrides_the_deployment(
    airflow_db, vimmerse_sandbox, webhooks_on, tmp_path, monkeypatch
):
    vimmerse_sandbox.client.configure(job_seconds=1)
    monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(vimmerse_sandbox.url, vimmerse_sandbox.api_key, webhooks="no"))
    assert run_one(tmp_path, "webhook_conn_off", poll_interval=0.3).states == {"make": "success"}
    assert sent_webhook_url(vimmerse_sandbox) == "", "the connection's extra webhooks wins over [vimmerse] webhooks"


def test_a_connection_with_a_mistyped_webhooks_extra_fails_before_any_request(
    airflow_db, vimmerse_sandbox, webhooks_on, tmp_path, monkeypatch, capsys, caplog
):
    monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(vimmerse_sandbox.url, vimmerse_sandbox.api_key, webhooks="ture"))
    result = run_one(tmp_path, "webhook_conn_typo", poll_interval=0.3)
    assert result.states == {"make": "failed"}
    assert vimmerse_sandbox.state.media == {}, "nothing was submitted"
    assert "Invalid 'extra.webhooks': must be one of true, 1, yes, on, false, 0, no, off, got 'ture'" in logged(
        capsys, caplog
    )


def test_the_version_gate():
    assert airflow_lacks_hints("2.11.2") is not None and "3.3" in airflow_lacks_hints("2.11.2")
    assert airflow_lacks_hints("3.2.1") is not None
    assert airflow_lacks_hints("3.3.2") is None
