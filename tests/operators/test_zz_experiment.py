from __future__ import annotations
import pytest
from tests.dag_runs import new_dag, run_dag
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri


@pytest.mark.parametrize("case", ["crash_after_submit", "failed_then_fresh", "crash_after_success"])
def test_exp(vimmerse_sandbox, airflow_db, tmp_path, monkeypatch, case):
    sb = vimmerse_sandbox
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_DEFAULT", sandbox_conn_uri(sb.url, sb.api_key, retries=0))
    prompt = "a cat"
    if case == "crash_after_submit":
        sb.client.add_fault(fault="status", status=500, method="GET", path="processing-status", times=1)
    elif case == "crash_after_success":
        sb.client.add_fault(fault="status", status=500, method="GET", path=r"^/media/[^/]+$", times=1)
    else:
        prompt = "{{ 'a cat [sandbox:fail]' if ti.try_number == 1 else 'a cat' }}"
    dag = new_dag(f"exp_{case}", tmp_path)
    with dag:
        VimmerseCreateMediaOperator(task_id="ok", prompt=prompt, deferrable=False, poll_interval=0.2, retries=1)
    res = run_dag(dag, tmp_path, ["ok"])
    print("RESULT", res)
    for e in sb.client.ledger():
        print(e["method"], e["path"], e["status"], e["created"])
    assert 0
