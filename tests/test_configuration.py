"""
The ``[vimmerse]`` section: documented in full, answered by Airflow's own CLI, and acted on.

* ``docs/configuration.md`` documents every option of :data:`airflow_provider_vimmerse.settings.OPTIONS`
  (name, type, default, environment variable), so the docs and the code cannot drift;
* ``airflow config get-value vimmerse <option>`` (the real CLI of the running Airflow, 2.11 or 3.3)
  answers each default, and an ``AIRFLOW__VIMMERSE__<NAME>`` variable overrides it;
* ``AIRFLOW__VIMMERSE__POLL_INTERVAL`` changes how often a real wait (``dag.test()`` against the
  sandbox) checks its job, and a value that is not a positive number fails the task before anything
  is paid for;
* a task that sets no ``deferrable`` waits in the triggerer unless ``AIRFLOW__VIMMERSE__DEFERRABLE`` says
  otherwise.
"""

from __future__ import annotations

import re

import pytest

from airflow_provider_vimmerse import settings
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from tests.conftest import REPO, airflow_env, run_airflow
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import logged

DOC = REPO / "docs" / "configuration.md"


def documented_rows() -> dict[str, list[str]]:
    """Return the rows of the options table of docs/configuration.md by option name (its cells, unformatted)."""
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and re.fullmatch(r"[a-z_]+", cells[0]):
            rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize("option", settings.OPTIONS, ids=lambda option: option.name)
def test_every_option_is_documented_with_its_type_default_and_variable(option):
    rows = documented_rows()
    assert option.name in rows, f"docs/configuration.md has no row for {option.name}"
    _, kind, default, variable = rows[option.name][:4]
    assert kind == option.type
    assert default == (option.default or "(unset)")
    assert variable == f"AIRFLOW__VIMMERSE__{option.name.upper()}"
    assert f"### `{option.name}`" in DOC.read_text(), "each option has its own section"


@pytest.mark.parametrize("option", settings.OPTIONS, ids=lambda option: option.name)
def test_each_declared_default_reads_with_airflows_typed_getter(option):
    """Airflow's ``conf.getfloat``/``getint``/``getboolean`` read a provider's declared default as it is: an
    empty string for a number would raise there (``[vimmerse] poll_interval`` did)."""
    from airflow.configuration import AirflowConfigParser

    if option.default is None:
        return  # unset: Airflow's getters answer the caller's fallback
    parser = AirflowConfigParser()
    parser.read_dict({settings.SECTION: {option.name: option.default}})
    getter = {"integer": parser.getint, "float": parser.getfloat, "boolean": parser.getboolean}.get(option.type)
    if getter is not None:
        getter(settings.SECTION, option.name)  # raises AirflowConfigException on a default of the wrong type


def test_the_docs_document_no_option_the_code_does_not_have():
    assert set(documented_rows()) == {option.name for option in settings.OPTIONS}


#: Options the real CLI is asked about (one CLI process each takes seconds): an integer with a default, and an
#: option unset by default. Every option's default is checked in this process below.
CLI_OPTIONS = ("cost_days", "poll_interval", "deferrable")


def test_airflow_config_answers_the_defaults_and_the_environment_overrides_them(airflow_db):
    from concurrent.futures import ThreadPoolExecutor

    asked = [(name, {}) for name in CLI_OPTIONS] + [("poll_interval", {"AIRFLOW__VIMMERSE__POLL_INTERVAL": "7.5"})]
    with ThreadPoolExecutor(max_workers=len(asked)) as pool:
        answers = list(
            pool.map(
                lambda ask: run_airflow("config", "get-value", "vimmerse", ask[0], env=airflow_env(**ask[1])), asked
            )
        )
    for answer in answers:
        assert answer.returncode == 0, answer.stderr[-2000:]
    last_lines = [answer.stdout.strip().splitlines()[-1:] for answer in answers]
    assert last_lines[0] == ["30"], "cost_days"
    assert not last_lines[1] or "not found in config" in last_lines[1][0], ("poll_interval is unset", last_lines[1])
    assert last_lines[2] == ["True"], "deferrable"
    assert last_lines[3] == ["7.5"], "the environment variable wins"


@pytest.mark.parametrize("option", settings.OPTIONS, ids=lambda option: option.name)
def test_each_option_reads_as_its_declared_default_when_nothing_is_set(option, monkeypatch):
    monkeypatch.delenv(f"AIRFLOW__VIMMERSE__{option.name.upper()}", raising=False)
    expected = {"integer": int, "float": float, "string": str}.get(option.type)
    value = settings.get(option.name)
    if option.type == "boolean":
        assert value is (option.default == "True")
    elif option.default:
        assert value == expected(option.default)
    else:
        assert value is None


def status_checks(sandbox, job_id: str) -> int:
    return len(sandbox.client.ledger(path=f"/media/{job_id}/processing-status", method="GET"))


def run_media(tmp_path, dag_id: str, **operator_kwargs):
    from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

    tmp_path.mkdir(parents=True, exist_ok=True)
    dag = new_dag(dag_id, tmp_path)
    with dag:
        VimmerseCreateMediaOperator(task_id="media", prompt="a kite over the dunes", **operator_kwargs)
    return run_dag(dag, tmp_path, ["media"])


def test_the_poll_interval_setting_sets_how_often_a_wait_checks_its_job(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch
):
    deferrable = True  # the trigger's arguments carry the interval; the wait in a worker reads the same value
    # A 4-second job: every 0.2 s is about 20 checks; the adaptive schedule (2 s, then 3 s more...) about 3,
    # and a loaded machine only stretches the wait, which changes the fixed count, not the adaptive one, much.
    vimmerse_sandbox.client.configure(job_seconds=4)
    adaptive = run_media(tmp_path / "adaptive", f"vimmerse_config_adaptive_{deferrable}", deferrable=deferrable)
    monkeypatch.setenv("AIRFLOW__VIMMERSE__POLL_INTERVAL", "0.2")
    fixed = run_media(tmp_path / "fixed", f"vimmerse_config_fixed_{deferrable}", deferrable=deferrable)
    assert adaptive.states == fixed.states == {"media": "success"}
    slow, fast = (status_checks(vimmerse_sandbox, run.xcom("media")["id"]) for run in (adaptive, fixed))
    assert fast >= 10, f"checked every 0.2 s over a 4-second job: {fast} checks"
    assert slow <= 5, f"the adaptive schedule starts at about 2 s, then 3 s more: {slow} checks"
    assert fast >= 2 * slow, (fast, slow)
    # A task's own poll_interval wins over the deployment's.
    own = run_media(tmp_path / "own", f"vimmerse_config_own_{deferrable}", deferrable=deferrable, poll_interval=3)
    assert status_checks(vimmerse_sandbox, own.xcom("media")["id"]) <= 5, "every 3 s, not every 0.2 s"


def test_a_poll_interval_that_is_not_a_positive_number_fails_before_anything_is_paid(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch
):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__POLL_INTERVAL", "-3")
    run = run_media(tmp_path, "vimmerse_config_bad_interval", deferrable=True, retries=0)
    assert run.states == {"media": "failed"}
    assert (
        "Invalid '[vimmerse] poll_interval': must be a positive number of seconds, got '-3'"
        in run.errors_of("media")[0]
    )
    assert vimmerse_sandbox.client.ledger(path="/media", method="POST") == [], "nothing was paid for"


def test_the_sensor_checks_as_often_as_the_setting_says_unless_told(monkeypatch):
    from airflow_provider_vimmerse.sensors.job import VimmerseJobSensor

    assert VimmerseJobSensor(task_id="unset", kind="media", job_id="m1").poke_interval == 60
    monkeypatch.setenv("AIRFLOW__VIMMERSE__POLL_INTERVAL", "12.5")
    assert VimmerseJobSensor(task_id="set", kind="media", job_id="m1").poke_interval == 12.5
    told = VimmerseJobSensor(task_id="told", kind="media", job_id="m1", poke_interval=3)
    assert told.poke_interval == 3


def test_a_task_that_sets_no_deferrable_waits_in_the_triggerer_unless_the_deployment_says_otherwise(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch, capsys, caplog
):
    monkeypatch.delenv("AIRFLOW__VIMMERSE__DEFERRABLE", raising=False)
    vimmerse_sandbox.client.configure(job_seconds=2)  # still running at the check right after the submit
    default = run_media(tmp_path / "default", "vimmerse_config_default_deferrable")
    monkeypatch.setenv("AIRFLOW__VIMMERSE__DEFERRABLE", "false")
    here = run_media(tmp_path / "here", "vimmerse_config_not_deferrable")
    told = run_media(tmp_path / "told", "vimmerse_config_told_deferrable", deferrable=True)
    logs = logged(capsys, caplog)

    assert default.states == here.states == told.states == {"media": "success"}
    deferred = {
        run.xcom("media")["id"]
        for run in (default, here, told)
        if f"Waiting for media {run.xcom('media')['id']} in the triggerer" in logs
    }
    assert deferred == {default.xcom("media")["id"], told.xcom("media")["id"]}, (
        "the deployment's False keeps the wait here"
    )


def test_the_default_of_deferrable_is_read_when_the_operator_or_sensor_is_made(monkeypatch):
    from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
    from airflow_provider_vimmerse.sensors.job import VimmerseJobSensor

    def made(**kwargs):
        media = VimmerseCreateMediaOperator(task_id="media", prompt="a kite", **kwargs)
        sensor = VimmerseJobSensor(task_id="sensor", kind="media", job_id="m1", **kwargs)
        return media.deferrable, sensor.deferrable

    monkeypatch.delenv("AIRFLOW__VIMMERSE__DEFERRABLE", raising=False)
    assert made() == (True, True)
    assert made(deferrable=False) == (False, False), "the task's own value wins"
    monkeypatch.setenv("AIRFLOW__VIMMERSE__DEFERRABLE", "no")
    assert made() == (False, False)
    assert made(deferrable=True) == (True, True)
    monkeypatch.setenv("AIRFLOW__VIMMERSE__DEFERRABLE", "ture")
    with pytest.raises(VimmerseInputError) as error:
        made()
    assert "'[vimmerse] deferrable': must be one of true, 1, yes, on, false, 0, no, off, got 'ture'" in str(error.value)
