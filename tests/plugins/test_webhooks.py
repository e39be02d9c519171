"""
The webhook receiver (``POST /vimmerse/webhooks/hint``) in a real Airflow 3 api-server app and metadata database.

A DAG runs once with ``dag.test()`` so its run and task instances are real rows; a test then puts the
``waiting`` task instance in the state it wants (deferred, or done for a late delivery) and posts
deliveries through Airflow's own FastAPI app (``create_app``, with this provider's plugin) with no
login. What the receiver recorded is read back from the XCom table, as the triggerer would. Slow and
vanishing senders talk over a real socket to that app served by uvicorn, as ``airflow api-server`` serves it.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_vimmerse.api import webhooks as webhook_urls
from airflow_provider_vimmerse.api.webhooks import (
    HINT_KEY,
    MAX_BODY_BYTES,
    RECEIVER_PATH,
    SIGNATURE_PARAM,
    WebhookTarget,
)
from tests.cluster import airflow_major
from tests.dag_runs import new_dag, python_task, run_dag
from tests.plugins.test_app import airflow_api

pytestmark = pytest.mark.skipif(
    airflow_major() < 3, reason="the webhook receiver lives in Airflow 3's api-server (plugin FastAPI apps)"
)

DAG_ID = "vimmerse_webhook_receiver"
SECRET = "receiver-tests-webhook-secret-of-more-than-32-bytes"
JOB_ID = "media-0123"
BASE_URL = "https://airflow.example.com"
#: The documented payload the API posts when a media job ends.
PAYLOAD = {"customer_id": "customer-7", "media_id": JOB_ID, "status": "success"}


@pytest.fixture(scope="module")
def run_id(airflow_db, tmp_path_factory) -> str:
    """Run a DAG with a ``waiting`` and an ``other`` task once; return its run id (its task instances are rows)."""
    out = tmp_path_factory.mktemp(DAG_ID)
    dag = new_dag(DAG_ID, out)
    with dag:
        python_task("waiting", lambda: None)
        python_task("other", lambda: None)
    result = run_dag(dag, out)
    assert result.states == {"waiting": "success", "other": "success"}
    return result.run.run_id


def set_state(run_id: str, task_id: str, state: str, try_number: int = 1) -> None:
    """Put one task instance of the run in ``state`` (and try) and forget its hints, as a test starts from."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel  # type: ignore[attr-defined,unused-ignore]  # Airflow 3
    from airflow.utils.session import create_session
    from sqlalchemy import delete, update

    with create_session() as session:
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)
            .values(state=state, try_number=try_number)
        )
        session.execute(delete(XComModel).where(XComModel.dag_id == DAG_ID, XComModel.key == HINT_KEY))


def hints(run_id: str) -> dict[str, list[Any]]:
    """Return the recorded hints of the run, by task id, as the XCom table holds them."""
    from airflow.models.xcom import XComModel  # type: ignore[attr-defined,unused-ignore]  # Airflow 3
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(XComModel.task_id, XComModel.map_index, XComModel.value).where(
                XComModel.dag_id == DAG_ID, XComModel.run_id == run_id, XComModel.key == HINT_KEY
            )
        ).all()
    found: dict[str, list[Any]] = {}
    for task_id, map_index, value in rows:
        assert map_index == -1
        found.setdefault(task_id, []).append(json.loads(value) if isinstance(value, str) else value)
    return found


def signed_path(
    run_id: str,
    task_id: str = "waiting",
    *,
    secret: str = SECRET,
    kind: str = "media",
    try_number: int = 1,
    expires_at: float | None = None,
) -> str:
    """Return the path and query of the URL the operator would send as ``webhook_url`` for one task (try 1)."""
    expiry = int(time.time() + 3600 if expires_at is None else expires_at)
    target = WebhookTarget(kind, DAG_ID, run_id, task_id, try_number=try_number, expires_at=expiry)
    url = urlsplit(target.url(BASE_URL, secret))
    return f"{url.path}?{url.query}"


@pytest.fixture
def client(monkeypatch, run_id) -> Iterator[Any]:
    """A client of Airflow's api-server app with a webhook secret, no login, and ``waiting`` deferred."""
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_SECRET", SECRET)
    set_state(run_id, "waiting", "deferred")
    with airflow_api(monkeypatch, all_admins=False) as (client, _):
        assert "authorization" not in {name.lower() for name in client.headers}
        yield client


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Make every outbound connection and name lookup of this process fail; return what was tried."""
    tried: list[str] = []

    def refuse(what: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            tried.append(f"{what}{args[1:] if what == 'connect' else args}")
            raise OSError(f"network unreachable in this test ({what})")

        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return tried


# ---------------------------------------------------------------------- a genuine delivery


def test_a_signed_delivery_records_one_hint_on_the_deferred_task_without_a_login(client, run_id, no_network):
    path = signed_path(run_id)
    assert path.startswith(RECEIVER_PATH + "?kind=media&dag_id=")
    before = time.time()
    started = time.monotonic()
    answer = client.post(path, json=PAYLOAD)
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"recorded": True}, "the answer says nothing more"
    assert answer.headers["cache-control"] == "no-store" and "set-cookie" not in answer.headers
    assert no_network == [], "the receiver called out"
    assert took < 2, f"answered in {took:.2f} s; the API allows 10 s"
    (hint,) = hints(run_id)["waiting"]
    assert set(hint) == {"job_id", "status", "received_at"}
    assert (hint["job_id"], hint["status"]) == (JOB_ID, "success")
    assert before <= hint["received_at"] <= time.time()
    assert "other" not in hints(run_id), "only the task the URL names"
    print(json.dumps({"receiver_answer_seconds": round(took, 4)}))


def test_a_repeated_delivery_keeps_one_hint_the_latest(client, run_id):
    path = signed_path(run_id)
    assert client.post(path, json={**PAYLOAD, "status": "processing"}).json() == {"recorded": True}
    assert client.post(path, json=PAYLOAD).json() == {"recorded": True}
    (hint,) = hints(run_id)["waiting"]
    assert hint["status"] == "success"


def test_each_waiting_state_takes_a_hint(client, run_id):
    for state in ("scheduled", "queued", "running", "deferred", "up_for_reschedule"):
        set_state(run_id, "waiting", state)
        answer = client.post(signed_path(run_id), json=PAYLOAD)
        assert answer.json() == {"recorded": True}, state
        assert len(hints(run_id)["waiting"]) == 1, state


# ---------------------------------------------------------------------- refused: 403, nothing recorded


def forged_paths(run_id: str) -> dict[str, str]:
    """Return URLs that the receiver must refuse, by what is wrong with them."""
    sig = f"{SIGNATURE_PARAM}="
    genuine = signed_path(run_id)
    other_sig = urlsplit(signed_path(run_id, "other")).query.rsplit(sig, 1)[1]
    return {
        "signature for another task": genuine.rsplit(sig, 1)[0] + f"{sig}{other_sig}",
        "task changed after signing": genuine.replace("task_id=waiting", "task_id=other"),
        "signed under another secret": signed_path(run_id, secret="someone-elses-secret-just-as-long-as-ours"),
        "signature of another kind": genuine.replace("kind=media", "kind=batch"),
        "signature altered": genuine[:-1] + ("0" if genuine[-1] != "0" else "1"),
        "no signature": genuine.rsplit(f"&{sig}", 1)[0],
        "empty signature": genuine.rsplit(sig, 1)[0] + sig,
        "map index written differently": genuine.replace("map_index=-1", "map_index=-01"),
        "try changed after signing": genuine.replace("try=1", "try=2"),
        "expiry pushed out after signing": re.sub(r"exp=(\d+)", lambda m: f"exp={int(m[1]) + 86400}", genuine),
        "no query": RECEIVER_PATH,
    }


@pytest.mark.parametrize(
    "case",
    [
        "signature for another task",
        "task changed after signing",
        "signed under another secret",
        "signature of another kind",
        "signature altered",
        "no signature",
        "empty signature",
        "map index written differently",
        "try changed after signing",
        "expiry pushed out after signing",
        "no query",
    ],
)
def test_a_delivery_whose_url_is_not_signed_for_its_task_is_refused(client, run_id, case):
    path = forged_paths(run_id)[case]
    answer = client.post(path, json=PAYLOAD)
    assert answer.status_code == 403, answer.text
    assert set(answer.json()) == {"detail"}
    assert SECRET not in answer.text and DAG_ID not in answer.text and run_id not in answer.text
    assert hints(run_id) == {}, "nothing recorded"


def test_a_forged_delivery_for_the_other_task_records_nothing_there(client, run_id):
    set_state(run_id, "other", "deferred")
    try:
        path = forged_paths(run_id)["task changed after signing"]
        assert client.post(path, json=PAYLOAD).status_code == 403
        assert hints(run_id) == {}
        assert client.post(signed_path(run_id, "other"), json=PAYLOAD).json() == {"recorded": True}
        assert list(hints(run_id)) == ["other"], "its own signed URL does record"
    finally:
        set_state(run_id, "other", "success")


# ---------------------------------------------------------------------- one try, until the wait's deadline


def test_a_genuine_url_past_its_expiry_is_refused_and_records_nothing(client, run_id):
    answer = client.post(signed_path(run_id, expires_at=time.time() - 1), json=PAYLOAD)
    assert answer.status_code == 403, answer.text
    assert "expired" in answer.json()["detail"]
    assert hints(run_id) == {}
    assert client.post(signed_path(run_id, expires_at=time.time() + 60), json=PAYLOAD).json() == {"recorded": True}


def test_a_url_of_an_earlier_try_records_nothing_on_the_next_try(client, run_id):
    set_state(run_id, "waiting", "deferred", try_number=2)
    answer = client.post(signed_path(run_id, try_number=1), json=PAYLOAD)
    assert answer.status_code == 200, "2xx: the API does not retry it, as for a late delivery"
    assert answer.json() == {"recorded": False, "reason": "the URL belongs to try 1, the task is on try 2"}
    assert hints(run_id) == {}
    assert client.post(signed_path(run_id, try_number=2), json=PAYLOAD).json() == {"recorded": True}


# ---------------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"success"',
        json.dumps({"customer_id": "c", "status": "success"}).encode(),  # no media_id
        json.dumps({"customer_id": "c", "batch_id": JOB_ID, "status": "success"}).encode(),  # a batch's field
        json.dumps({"media_id": JOB_ID}).encode(),
        json.dumps({"media_id": JOB_ID, "status": 1}).encode(),
        json.dumps({"media_id": "", "status": "success"}).encode(),
        json.dumps({"media_id": ["a"], "status": "success"}).encode(),
        json.dumps({"media_id": "x" * 201, "status": "success"}).encode(),
    ],
    ids=lambda body: body[:40].decode(),
)
def test_a_body_that_is_not_the_documented_payload_is_a_400(client, run_id, body):
    answer = client.post(signed_path(run_id), content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"detail"} and SECRET not in answer.text
    assert hints(run_id) == {}


def test_a_body_over_the_limit_is_a_413_declared_or_streamed(client, run_id):
    big = json.dumps({**PAYLOAD, "padding": "x" * MAX_BODY_BYTES}).encode()
    declared = client.post(signed_path(run_id), content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413, declared.text

    def chunks() -> Iterator[bytes]:  # no content-length: chunked transfer encoding
        yield big[:1000]
        yield big[1000:]

    streamed = client.post(signed_path(run_id), content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413, streamed.text
    assert hints(run_id) == {}
    at_limit = json.dumps({**PAYLOAD, "padding": ""}).encode()
    at_limit = json.dumps({**PAYLOAD, "padding": "x" * (MAX_BODY_BYTES - len(at_limit))}).encode()
    assert len(at_limit) == MAX_BODY_BYTES
    assert client.post(signed_path(run_id), content=at_limit).json() == {"recorded": True}


# ---------------------------------------------------------------------- slow and vanishing senders, over a socket


@contextmanager
def served(app: Any) -> Iterator[tuple[str, int]]:
    """Serve ``app`` with uvicorn on a free local port (a thread of this process); yield its address."""
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    # as ``airflow api-server`` runs it: Airflow's own access log middleware, no uvicorn log setup
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield listener.getsockname()
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def start_delivery(address: tuple[str, int], path: str, declared: int) -> socket.socket:
    """Send a delivery's headers announcing ``declared`` bytes of body, and the first byte only."""
    connection = socket.create_connection(address, timeout=10)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: airflow.example.com\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    connection.sendall(head.encode() + b"{")
    return connection


@pytest.fixture
def receiver(monkeypatch) -> Any:
    """The receiver's module, with a body timeout short enough for a test."""
    from airflow_provider_vimmerse.plugins import webhooks

    monkeypatch.setattr(webhooks, "BODY_TIMEOUT_SECONDS", 0.5)
    return webhooks


def test_a_body_trickled_slower_than_the_timeout_is_a_408_and_the_connection_closes(client, run_id, receiver):
    """The review's attack: a byte at a time keeps no connection past the body timeout."""
    with served(client.app) as address:
        connection = start_delivery(address, signed_path(run_id), 100)
        connection.settimeout(0.1)
        started, answer, closed = time.monotonic(), b"", False
        while time.monotonic() - started < 5 and not closed:
            if not answer:
                connection.sendall(b" ")  # one more byte of body, never enough
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            answer, closed = answer + chunk, not chunk
        took = time.monotonic() - started
        connection.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"the body did not arrive within 0.5 s" in answer
    assert closed and took < 0.5 + 1.5, f"answered and closed after {took:.2f} s; the timeout is 0.5 s"
    assert hints(run_id) == {}


def test_a_sender_that_disconnects_mid_body_is_one_quiet_log_line(client, run_id, receiver, caplog):
    caplog.set_level(logging.INFO)
    with served(client.app) as address:
        connection = start_delivery(address, signed_path(run_id), 100)
        time.sleep(0.2)
        connection.close()
        deadline = time.monotonic() + 5
        while "disconnected" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert not any(record.exc_info for record in caplog.records), "no traceback"
    assert "Exception in ASGI application" not in caplog.text and "Traceback" not in caplog.text
    quiet = [record for record in caplog.records if "disconnected before its body was complete" in record.getMessage()]
    assert len(quiet) == 1 and quiet[0].levelno == logging.INFO
    assert hints(run_id) == {}


# ---------------------------------------------------------------------- the documented non-2xx/late answers


def test_without_a_secret_the_receiver_answers_404_and_records_nothing(monkeypatch, run_id):
    monkeypatch.delenv("AIRFLOW__VIMMERSE__WEBHOOK_SECRET", raising=False)
    set_state(run_id, "waiting", "deferred")
    with airflow_api(monkeypatch, all_admins=False) as (client, _):
        path = signed_path(run_id)  # even a URL signed under the secret another api-server has
        answer = client.post(path, json=PAYLOAD)
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"detail": "webhooks are not configured on this Airflow"}
    assert hints(run_id) == {}


@pytest.mark.parametrize("weak", ["x", "   ", "s3cret", "a" * 31])
def test_with_a_weak_secret_the_receiver_serves_nothing_and_logs_one_error(monkeypatch, run_id, caplog, weak):
    """The review's forgery: ``x`` recovered from one URL signs any other. Such a secret now serves nothing."""
    from airflow_provider_vimmerse.plugins import webhooks

    monkeypatch.setattr(webhooks, "_logged_problems", set())
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_SECRET", weak)
    set_state(run_id, "waiting", "deferred")
    with monkeypatch.context() as patch:  # a URL signed under the weak secret, as the attacker forges one
        patch.setattr(webhook_urls, "check_secret", lambda secret: None)
        forged = signed_path(run_id, secret=weak)
    caplog.set_level(logging.INFO)
    with airflow_api(monkeypatch, all_admins=False) as (client, _):
        answers = [client.post(forged, json=PAYLOAD) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [404] * 3
    assert answers[0].json() == {"detail": "webhooks are not configured on this Airflow"}, "nothing said of the secret"
    assert hints(run_id) == {}
    logged = [record for record in caplog.records if "webhook_secret" in record.getMessage()]
    assert len(logged) == 1, "one error line, not one per delivery"
    message = logged[0].getMessage()
    assert logged[0].levelno == logging.ERROR
    assert "[vimmerse] webhook_secret is" in message and "at least 32 bytes" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message


@pytest.mark.parametrize("state", ["success", "failed", "up_for_retry", "skipped", "upstream_failed"])
def test_a_late_delivery_is_answered_2xx_and_records_nothing(client, run_id, state):
    set_state(run_id, "waiting", state)
    answer = client.post(signed_path(run_id), json=PAYLOAD)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"recorded": False, "reason": f"the task is not waiting (state {state})"}
    assert hints(run_id) == {}


def test_a_signed_url_for_a_task_instance_since_deleted_is_a_late_delivery(client, run_id):
    """A run deleted while its job ran: 2xx like any late delivery, so the API does not retry it."""
    answer = client.post(signed_path("manual__no-such-run"), json=PAYLOAD)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"recorded": False, "reason": "no such task instance"}
    assert hints(run_id) == {}


# ---------------------------------------------------------------------- it grants nothing else


def test_the_receiver_takes_no_login_but_opens_nothing_else(client, run_id):
    assert client.post(signed_path(run_id), json=PAYLOAD).json() == {"recorded": True}
    # the same client, with no login, gets nothing from the page, the job list or Airflow's API
    for path in ("/vimmerse/", "/vimmerse/api/jobs", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances"):
        answer = client.get(path)
        assert answer.status_code in (401, 403), (path, answer.status_code)
        assert JOB_ID not in answer.text
    # the receiver only takes POST, and reads nothing back
    assert client.get(signed_path(run_id)).status_code == 405
    # nor does a valid signed URL reach any other route of the plugin or Airflow
    query = urlsplit(signed_path(run_id)).query
    assert client.get(f"/vimmerse/api/jobs?{query}").status_code in (401, 403)


def test_the_api_servers_access_log_masks_the_signature(client, run_id, capsys, caplog):
    path = signed_path(run_id)
    signature = dict(parse_qsl(urlsplit(path).query))[SIGNATURE_PARAM]
    assert client.post(path, json=PAYLOAD).json() == {"recorded": True}
    access = [line for line in capsys.readouterr().out.splitlines() if "[http.access]" in line]
    assert len(access) == 1 and "path=/vimmerse/webhooks/hint" in access[0], access
    assert f"{SIGNATURE_PARAM}=%2A%2A%2A" in access[0], "Airflow masks a parameter named like a token"
    assert signature not in access[0]
    assert signature not in "".join(
        record.getMessage() for record in caplog.records if record.name.startswith(("http.access", "uvicorn"))
    )
