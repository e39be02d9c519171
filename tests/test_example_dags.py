"""The example DAGs run end to end in a real Airflow against the sandbox, and write real MP4 files."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, airflow_env, run_airflow
from tests.dag_runs import load_example_dag

LOGICAL_DATE = "2026-01-01"


def run_day_folder(parent: Path) -> Path:
    """Return the one folder the download task made under ``parent``: the day the run started."""
    folders = [p for p in parent.iterdir() if p.is_dir()]
    assert len(folders) == 1, f"one dated folder expected under {parent}, found {folders}"
    return folders[0]


def assert_real_videos(folder: Path, count: int) -> None:
    videos = sorted(folder.glob("*.mp4"))
    assert len(videos) == count, f"expected {count} MP4 files in {folder}, found {videos}"
    for video in videos:
        assert video.read_bytes()[4:8] == b"ftyp", f"{video} is not an MP4"
    assert not list(folder.glob(".*.part")), "no partial download is left behind"


def assert_fetched_from_the_download_route(sandbox, count: int) -> None:
    """Check each video came from ``GET /media/{id}/download`` (the documented media answer has ``"result": []``)."""
    media_ids = {e["job_id"] for e in sandbox.client.ledger(path="/media", method="POST")}
    downloads = [e for e in sandbox.client.ledger(method="GET") if e["path"].endswith("/download")]
    assert len(downloads) == count and all(e["status"] == 200 for e in downloads)
    assert {e["path"] for e in downloads} == {f"/media/{media_id}/download" for media_id in media_ids}
    assert sandbox.state.settings.media_outputs == "download", "the sandbox answers as the documents show"


def test_quickstart_runs_deferred_in_airflow_dags_test(vimmerse_sandbox, airflow_db, tmp_path):
    result = run_airflow(
        "dags", "test", "vimmerse_quickstart", LOGICAL_DATE, env=airflow_env(VIMMERSE_OUTPUT_DIR=str(tmp_path))
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "DEFERRED" in output.upper(), "the generation tasks waited in the trigger, not on a worker"
    assert_real_videos(run_day_folder(tmp_path), 3)
    submits = vimmerse_sandbox.client.ledger(path="/media", method="POST")
    assert len(submits) == 3 and all(e["created"] for e in submits), "each video submitted exactly once"
    assert_fetched_from_the_download_route(vimmerse_sandbox, 3)
    assert vimmerse_sandbox.api_key not in output


def test_quickstart_runs_without_deferral(vimmerse_sandbox, airflow_db, tmp_path, monkeypatch):
    monkeypatch.setenv("VIMMERSE_OUTPUT_DIR", str(tmp_path))
    dag = load_example_dag("vimmerse_quickstart")
    for task in dag.tasks:
        if hasattr(task, "deferrable"):
            task.deferrable = False
    dag_run = dag.test(logical_date=_logical_date()) if _is_airflow_3() else dag.test(execution_date=_logical_date())
    assert str(dag_run.state).endswith("success")
    assert_real_videos(run_day_folder(tmp_path), 3)
    assert len(vimmerse_sandbox.client.ledger(path="/media", method="POST")) == 3


def _is_airflow_3() -> bool:
    from airflow import __version__

    return __version__.startswith("3.")


def _logical_date():
    import pendulum

    return pendulum.parse(LOGICAL_DATE)


def test_first_video_dag_of_the_readme_runs(vimmerse_sandbox, airflow_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it downloads into the relative folder videos/<ds>
    dag = load_example_dag("vimmerse_first_video")
    dag_run = dag.test(logical_date=_logical_date()) if _is_airflow_3() else dag.test(execution_date=_logical_date())
    assert str(dag_run.state).endswith("success")
    assert_real_videos(run_day_folder(tmp_path / "videos"), 1)
    assert len(vimmerse_sandbox.client.ledger(path="/media", method="POST")) == 1
    assert_fetched_from_the_download_route(vimmerse_sandbox, 1)


def test_the_story_review_example_has_its_dag_only_where_airflow_has_human_in_the_loop(airflow_db, caplog):
    """Airflow 3.1+ parses the review DAG; older Airflow parses the file without error, finds no DAG, logs why."""
    import logging

    from airflow import __version__
    from packaging.version import Version

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag

    with caplog.at_level(logging.INFO):
        bag = DagBag(dag_folder=str(REPO / "example_dags" / "vimmerse_story_review.py"))  # no Airflow examples here
    assert bag.import_errors == {}
    has_hitl = Version(Version(__version__).base_version) >= Version("3.1")
    assert bag.dag_ids == (["vimmerse_story_review"] if has_hitl else [])
    assert ("vimmerse_story_review needs Airflow 3.1+" in caplog.text) is not has_hitl


def test_taskflow_dag_generates_with_the_decorators_and_downloads_both_videos(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch
):
    monkeypatch.setenv("VIMMERSE_OUTPUT_DIR", str(tmp_path))
    dag = load_example_dag("vimmerse_taskflow", poll_interval=0.2)
    dag_run = dag.test(logical_date=_logical_date()) if _is_airflow_3() else dag.test(execution_date=_logical_date())
    assert str(dag_run.state).endswith("success")
    assert_real_videos(run_day_folder(tmp_path), 2)
    [media] = vimmerse_sandbox.client.ledger(path="/media", method="POST")
    [story] = vimmerse_sandbox.client.ledger(path="/story/idea-2-video", method="POST")
    generation = vimmerse_sandbox.state.media[media["job_id"]].generation
    assert "The canvas tote turns slowly" in generation["prompt"], "the function built the prompt from the params"
    assert generation["aspect_ratio"] == "9:16"
    assert "city commuters" in vimmerse_sandbox.state.groups[story["job_id"]].idea
    report = dag_run.get_task_instance("report").xcom_pull(task_ids="report")
    assert report["scenes"] == 2 and len(report["files"]) == 2
