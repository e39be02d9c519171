"""The sandbox's workflow, finetune and delete routes, over real HTTP, as openapi.json shows them."""

from __future__ import annotations

import json

import requests

from airflow_provider_vimmerse.sandbox import SAMPLE_PNG
from tests.sandbox.http_api import wait_until

PHOTO = "https://img.test/shoe.png"


def png(name: str = "shoe.png") -> tuple[str, bytes, str]:
    return (name, SAMPLE_PNG.read_bytes(), "image/png")


def data(response: requests.Response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()["data"]


def test_a_workflow_runs_then_shows_its_result_and_every_step(api, sandbox_client):
    options = {"prompt": "the shoe turns", "background_urls": "https://cdn.test/bg.mp4"}
    made = data(
        api.post(
            "/workflow",
            files=[("image_files", png("a.png")), ("image_files", png("b.png"))],
            data={"template_id": "vim_product_showcase", "options": json.dumps(options), "title": "Shoe"},
        )
    )

    assert (made["model"], made["images"], made["options"]) == ("vim_product_showcase", ["a.png", "b.png"], options)
    assert made["processing_status"] == "processing" and made["result"] == [] and made["media_result"] == []
    assert made["visibility_status"] == "1", "the schema's default"
    done = wait_until(lambda: (w := data(api.get(f"/workflow/{made['id']}")))["processing_status"] == "success" and w)
    assert done["progress_percentage"] == 100
    assert [step["flow"] for step in done["completions"]][-1] == "video_overlay"
    [output] = done["result"]
    assert output["content_type"] == "video/mp4"
    assert requests.get(output["url"], timeout=5).content[4:8] == b"ftyp", "the output is served"
    assert done["media_result"][0]["url"] == output["url"]
    assert [e["credits"] for e in sandbox_client.ledger(path="/workflow")] == [20], "10 credits per image"


def test_a_workflow_without_images_or_with_bad_fields_is_refused(api, sandbox_client):
    assert api.post("/workflow", data={"title": "no images"}).status_code == 400
    assert api.post("/workflow", data={"image_urls": PHOTO, "options": "{oops"}).status_code == 422
    assert api.post("/workflow", data={"image_urls": PHOTO, "visibility_status": "5"}).status_code == 422
    assert api.get("/workflow/no-such-workflow").json() == {"message": "NOT_FOUND"}
    assert all(e["credits"] == 0 for e in sandbox_client.ledger()), "nothing refused was charged"


def test_a_workflow_update_takes_json_and_a_delete_answers_the_workflow_once(api, sandbox_client):
    workflow_id = data(api.post("/workflow", data={"image_urls": [PHOTO, PHOTO]}))["id"]

    updated = data(api.put(f"/workflow/{workflow_id}", json={"title": "New", "visibility_status": "2", "rating": "5"}))
    assert (updated["title"], updated["visibility_status"]) == ("New", "2")
    assert api.put(f"/workflow/{workflow_id}", json={"visibility_status": "9"}).status_code == 422
    assert api.put(f"/workflow/{workflow_id}", json={"delivered_at": None}).status_code == 200

    deleted = data(api.request("DELETE", f"/workflow/{workflow_id}"))
    assert deleted["id"] == workflow_id and deleted["title"] == "New", "the deleted workflow is the answer"
    again = api.request("DELETE", f"/workflow/{workflow_id}")
    assert (again.status_code, again.json()) == (404, {"message": "NOT_FOUND"})
    assert api.get(f"/workflow/{workflow_id}").status_code == 404
    assert [e["credits"] for e in sandbox_client.ledger() if e["method"] != "POST"] == [0, 0, 0, 0, 0, 0]


def test_a_story_delete_answers_an_empty_object(api):
    story_id = data(api.post("/story", data={"idea": "a kite festival", "scene_count": 2}))["id"]

    deleted = api.request("DELETE", f"/story/{story_id}")
    assert (deleted.status_code, deleted.json()) == (200, {}), "openapi.json 'Deleted Story Object' example: {}"
    assert api.get(f"/story/{story_id}").status_code == 404
    assert api.request("DELETE", f"/story/{story_id}").status_code == 404


def test_a_training_lists_no_samples_until_it_is_done(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)
    answer = data(api.post("/finetune", data={"image_urls": [PHOTO, PHOTO], "lora_prefix": "SHOE"}))

    trigger_word = answer["id"]
    assert trigger_word.startswith("SHOE_"), "the trigger word is the answer's id"
    assert set(answer) == {
        "id", "customer_id", "primary_user_id", "args", "results", "thumbnails", "status", "mime_type",
        "app_name", "created_at", "updated_at", "history",
    }, "the generic asset of the openapi.json example, nothing added"  # fmt: skip
    assert api.get(f"/finetune/{trigger_word}").json() == {"data": []}, "no status field: nothing until done"
    samples = wait_until(lambda: data(api.get(f"/finetune/{trigger_word}")), timeout=5)
    assert [set(sample) for sample in samples] == [{"URL"}, {"URL"}]
    assert requests.get(samples[0]["URL"], timeout=5).content == SAMPLE_PNG.read_bytes()
    assert api.get("/finetune/NOBODY_KNOWS").json() == {"data": []}, "an unknown word looks like a training"
    assert [e["credits"] for e in sandbox_client.ledger(path="/finetune")] == [20]


def test_a_training_without_images_or_pairs_is_refused(api, sandbox_client):
    assert api.post("/finetune", data={"lora_prefix": "X"}).status_code == 400
    kontext = {"image_urls": [PHOTO], "option": "FluxKontextFinetune", "prompt": "make it red"}
    assert api.post("/finetune", data=kontext).status_code == 400, "Kontext trains on pairs"
    assert api.post("/finetune", data={"image_urls": PHOTO, "option": "FluxDev"}).status_code == 422
    assert api.post("/finetune", files=[("image_files", png())], data={"finetune_type": "Face"}).status_code == 422
    assert all(e["credits"] == 0 for e in sandbox_client.ledger())
