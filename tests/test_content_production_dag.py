"""The scheduled content-production example runs end to end in a real Airflow against the sandbox."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import airflow_env, run_airflow
from tests.dag_runs import load_example_dag

DAG_ID = "vimmerse_content_production"
LOGICAL_DATE = "2026-03-06"  # a Friday in spring
POOL = "vimmerse_jobs"
PRODUCTS = 3  # rows of example_dags/products.csv
CATALOG = Path(__file__).parents[1] / "example_dags" / "products.csv"


def test_the_dag_runs_end_to_end_and_writes_the_videos_and_a_summary(vimmerse_sandbox, airflow_db, tmp_path):
    vimmerse_sandbox.client.configure(job_seconds=1)
    # The pool as the DAG's docstring says to create it (``airflow dags test`` itself does not apply pools).
    created = run_airflow("pools", "set", POOL, "3", "Vimmerse jobs in flight", "--include-deferred")
    assert created.returncode == 0, created.stdout + created.stderr
    from airflow.models.pool import Pool

    assert Pool.get_pool(POOL).include_deferred, "deferred waits count against the pool"

    result = run_airflow("dags", "test", DAG_ID, LOGICAL_DATE, env=airflow_env(VIMMERSE_OUTPUT_DIR=str(tmp_path)))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    waits = output.count("[DAG TEST] running trigger in line")
    assert waits >= 3 * PRODUCTS + 2, "every generation task waited in the trigger, not on a worker"
    assert vimmerse_sandbox.api_key not in output

    # One media per product, one batch of all product images, one story: each paid once.
    ledger = vimmerse_sandbox.client.ledger
    media_posts = ledger(path="/media", method="POST")
    assert len(media_posts) == PRODUCTS and all(e["created"] for e in media_posts)
    [batch_post] = ledger(path="/batch", method="POST")
    [story_post] = ledger(path="/story/idea-2-video", method="POST")
    page_posts = ledger(path="/story/url-2-video", method="POST")
    photo_posts = ledger(path="/story/images-2-video", method="POST")
    assert len(page_posts) == len(photo_posts) == PRODUCTS, "one story per product page and per photo set"
    assert all(e["created"] and e["credits"] > 0 for e in [*page_posts, *photo_posts]), "each paid once"

    # Prompts were rendered with the logical date (placeholders filled in the mapped inputs).
    prompts = sorted(vimmerse_sandbox.state.media[e["job_id"]].generation["prompt"] for e in media_posts)
    assert all("{" not in p for p in prompts), prompts
    assert any("Friday" in p for p in prompts) and any("spring" in p for p in prompts), prompts
    batch = vimmerse_sandbox.state.groups[batch_post["job_id"]]
    assert len(batch.items) == PRODUCTS, "the batch got every product image"
    story = vimmerse_sandbox.state.groups[story_post["job_id"]]
    assert "Friday" in story.idea and story.title == f"Story of the day {LOGICAL_DATE}"

    # The product-page stories read each product's page and were published: public, their draft title dropped.
    with CATALOG.open(newline="", encoding="utf-8") as source:
        catalog = list(csv.DictReader(source))
    pages = [vimmerse_sandbox.state.groups[e["job_id"]] for e in page_posts]
    assert sorted(s.idea.split()[0] for s in pages) == sorted(row["page"] for row in catalog)
    assert sorted(s.title for s in pages) == sorted(f"{row['name']} ({LOGICAL_DATE})" for row in catalog)
    assert {s.visibility_status for s in pages} == {"2"}
    updates = ledger(method="PUT")
    assert sorted(e["path"] for e in updates) == sorted(f"/story/{s.id}" for s in pages)
    assert all(e["credits"] == 0 for e in updates), "publishing is free"
    # The photo stories have one scene per product photo, made from that photo.
    photos = [vimmerse_sandbox.state.groups[e["job_id"]] for e in photo_posts]
    scene_images = sorted(tuple(scene["image_url"] for scene in s.storyboard["scenes"]) for s in photos)
    assert scene_images == sorted(tuple(row["photos"].split()) for row in catalog)
    assert all("Friday" in s.idea or "spring" in s.idea for s in photos), "the product prompt, rendered"

    folder = tmp_path / LOGICAL_DATE
    videos = sorted(folder.glob("*.mp4"))
    assert len(videos) == 3 * PRODUCTS + 2, f"per product a video and two stories, the showcase, the story: {videos}"
    for video in videos:
        assert video.read_bytes()[4:8] == b"ftyp", f"{video} is not an MP4"
    assert not list(folder.glob(".*.part"))

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["date"] == LOGICAL_DATE
    jobs = summary["jobs"]
    assert [j["kind"] for j in jobs] == ["media"] * PRODUCTS + ["batch"] + ["story"] * (2 * PRODUCTS + 1)
    posts = [*media_posts, batch_post, story_post, *page_posts, *photo_posts]
    assert {j["id"] for j in jobs} == {e["job_id"] for e in posts}
    assert all(j["status"] == "success" and j["video_urls"] for j in jobs)
    assert sorted(Path(p) for j in jobs for p in j["paths"]) == videos, "every job's downloaded files"
    # Credits: the batch and the stories report what they used; the summary adds them up.
    groups = [batch, story, *pages, *photos]
    credits = {j["id"]: j.get("used_credits") for j in jobs if j["kind"] != "media"}
    assert credits == {g.id: g.used_credits for g in groups}
    assert summary["credits_used_reported"] == sum(g.used_credits for g in groups)


def test_every_task_that_starts_a_job_runs_in_the_pool():
    dag = load_example_dag(DAG_ID)
    pools = {task.task_id: task.pool for task in dag.tasks}
    assert {t: p for t, p in pools.items() if p == POOL} == {
        "product_video": POOL,
        "showcase_batch": POOL,
        "daily_story": POOL,
        "product_page_video": POOL,
        "product_photos_video": POOL,
    }, "the jobs, and only they, take pool slots (publishing is a free metadata change)"
    assert "publish_page_video" in pools
    assert dag.schedule_interval if hasattr(dag, "schedule_interval") else dag.timetable
