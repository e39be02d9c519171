"""The post-processing example DAG end to end in a real Airflow (``dag.test()``, deferred waits) against the sandbox."""

from __future__ import annotations

from pathlib import Path

from tests.dag_runs import load_example_dag, run_dag

TASKS = ["create_media", "enhance", "add_sound_effect", "crop_for_social", "download"]


def test_a_video_is_created_enhanced_given_sound_and_cropped_for_social(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch, capsys, caplog
):
    sandbox = vimmerse_sandbox
    sandbox.client.configure(job_seconds=1)
    monkeypatch.setenv("VIMMERSE_OUTPUT_DIR", str(tmp_path / "output"))
    dag = load_example_dag("vimmerse_post_processing", poll_interval=0.2)
    result = run_dag(dag, tmp_path, TASKS)
    logs = capsys.readouterr().out + caplog.text

    assert result.states == dict.fromkeys(TASKS, "success")
    created, enhanced, sounded, cropped = (result.xcom(t) for t in TASKS[:4])
    assets = sandbox.state.assets
    # Each step worked on the previous step's output, handed over as XCom. The media's video is served
    # by the API's download route (result [] as documented): fetched with the key, uploaded, then enhanced.
    assert created["video_urls"] == [f"{sandbox.url}/media/{created['id']}/download?object_type=bullet_video_mp4"]
    [download] = sandbox.client.ledger(path=f"/media/{created['id']}/download", method="GET")
    assert download["status"] == 200
    assert "fetching it to upload it" in logs
    assert assets[enhanced["id"]].args["video_url"].startswith(f"{sandbox.url}/_sandbox/files/")
    assert assets[enhanced["id"]].args["enhance_mode"] == "2X&DeepClean"
    assert assets[sounded["id"]].args["video_url"] == enhanced["urls"][0]
    assert assets[cropped["id"]].args["video_url"] == sounded["urls"][0]
    assert assets[cropped["id"]].args["aspect_ratio"] == "9:16"
    for value in (enhanced, sounded, cropped):
        assert value["status"] == "success" and value["mime_type"] == "video/mp4"
        assert f"Waiting for asset {value['id']} in the triggerer" in logs, "each step waited deferred"
    # The final video is on disk.
    [video] = result.xcom("download")
    assert video.endswith(".mp4") and Path(video).read_bytes()[4:8] == b"ftyp"
    # Each generation paid once; the upload of the fetched video is free.
    submits = [(e["path"], e["credits"] > 0) for e in sandbox.client.ledger(method="POST")]
    assert submits == [
        ("/media", True),
        ("/v2/video", False),
        ("/v2/video/enhance", True),
        ("/v2/video/sound-effect", True),
        ("/v2/video/crop-to-aspect-ratio", True),
    ]
    assert sandbox.api_key not in logs
