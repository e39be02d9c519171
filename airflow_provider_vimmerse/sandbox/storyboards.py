"""Storyboards of stories: the one the sandbox writes for an idea, the images each step adds, and the scenes' videos.

A storyboard is shaped like the API's (story.txt, openapi.json ``POST /story`` example): ``characters``,
``environments``, ``objects``, ``music``, ``title_scene`` and ``scenes``. ``/elements`` gives every element an
``image_url``, ``/scenes`` every scene; ``/videos`` makes one child media per scene.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from airflow_provider_vimmerse.sandbox.files import file_url
from airflow_provider_vimmerse.sandbox.state import GroupJob, SandboxState

STORY_ELEMENT_SECTIONS = ("characters", "environments", "objects")
#: The storyboard sections whose entries get an image at each advanced step.
STEP_SECTIONS = {"elements": STORY_ELEMENT_SECTIONS, "scenes": ("scenes",)}


def make_storyboard(idea: str, title: str, scene_count: int) -> dict[str, Any]:
    """Return a small storyboard for an idea, shaped like the API's: elements, music, title and scenes.

    :param idea: the story idea.
    :param title: the story title.
    :param scene_count: number of scenes.
    """
    scenes = [
        {
            "title": f"Scene {number}",
            "description": f"Scene {number} of {scene_count}: {idea}",
            "narrator": f"Scene {number} of the story.",
            "motion_description": "camera motion:static, camera angle:eye level",
        }
        for number in range(1, scene_count + 1)
    ]
    return {
        "characters": [{"name": "Sandbox Hero", "description": f"The main character of: {idea}"}],
        "environments": [{"name": "Sandbox Studio", "description": "A plain, evenly lit studio set."}],
        "objects": [],
        "music": {"description": "Calm background music.", "lyrics": ""},
        "title_scene": {"title": title or "Sandbox Story", "description": "The title fades in."},
        "scenes": scenes,
    }


def chosen_storyboard(text: str | None, job: GroupJob) -> dict[str, Any]:
    """Return the storyboard a step works on: the request's (JSON text), else a copy of the story's own.

    :param text: the request's ``storyboard`` field, already checked to hold a JSON object.
    :param job: the story.
    """
    return json.loads(text) if text else copy.deepcopy(job.storyboard)


def scene_count(storyboard: dict[str, Any]) -> int:
    """Return the number of scenes of a storyboard (0 when ``scenes`` is not a list).

    :param storyboard: the storyboard.
    """
    scenes = storyboard.get("scenes")
    return len(scenes) if isinstance(scenes, list) else 0


def add_image_urls(storyboard: dict[str, Any], sections: tuple[str, ...], base_url: str, prefix: str) -> None:
    """Give every element of some storyboard sections an ``image_url`` (a sandbox PNG) unless it has one.

    :param storyboard: the storyboard to change in place.
    :param sections: the list sections to fill, e.g. ``("characters", "environments", "objects")``.
    :param base_url: the sandbox URL as the client sees it.
    :param prefix: start of the image file names (the story id).
    """
    for section in sections:
        elements = storyboard.get(section)
        if not isinstance(elements, list):
            continue
        for index, element in enumerate(elements):
            if isinstance(element, dict) and not element.get("image_url"):
                element["image_url"] = file_url(base_url, f"{prefix}-{section}-{index + 1}.png")


def set_scene_images(storyboard: dict[str, Any], image_urls: list[str]) -> None:
    """Give each scene of a storyboard the image it is made from (``POST /story/images-2-video``: one per image).

    :param storyboard: the storyboard to change in place; it has one scene per image.
    :param image_urls: the request's images, in order.
    """
    for scene, image_url in zip(storyboard.get("scenes") or [], image_urls, strict=False):
        scene["image_url"] = image_url


def set_storyboard(state: SandboxState, job: GroupJob, storyboard: dict[str, Any], step: str) -> None:
    """Replace a story's storyboard (its scenes become the items of the next videos run).

    :param state: the sandbox state.
    :param job: the story.
    :param storyboard: the new storyboard.
    :param step: the advanced step reached (``storyboard``, ``elements``, ``scenes``, ``videos``).
    """
    with state.lock:
        job.storyboard = storyboard
        job.items = [f"scene_{number}" for number in range(1, scene_count(storyboard) + 1)]
        job.step = step
        job.updated_at = state.clock()


def scene_generation(storyboard: dict[str, Any], index: int, item: str) -> dict[str, Any]:
    """Return the generation fields of the child media of one scene: its description as the prompt.

    :param storyboard: the story's storyboard.
    :param index: the scene's position, from 0.
    :param item: the scene's item name (``scene_<n>``), the prompt of a scene the storyboard lacks.
    """
    scenes = storyboard.get("scenes") or []
    scene = scenes[index] if index < len(scenes) and isinstance(scenes[index], dict) else {}
    return {"prompt": str(scene.get("description", item)), "image_urls": [], "image_files": []}
