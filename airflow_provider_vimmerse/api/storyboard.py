"""
A story object read: its storyboard, and which step of the advanced flow it shows done.

The advanced flow's first steps (storyboard, element images, scene images) answer at once and
leave the story ``new``; their end shows only in the storyboard. :func:`step_done` reads it, for the
job kinds that wait on a step (:func:`~airflow_provider_vimmerse.api.jobs.job_object`) and for the
story operators. The story's fields and requests are :mod:`~airflow_provider_vimmerse.api.story`'s.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Storyboard sections listing elements (each ``{"name", "description"}``, optionally ``image_url``).
ELEMENT_SECTIONS = ("characters", "environments", "objects")


def storyboard_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return the storyboard of a story object (empty when it has none yet)."""
    board = obj.get("storyboard")
    if isinstance(board, str):
        try:
            board = json.loads(board)
        except ValueError:
            return {}
    return board if isinstance(board, dict) else {}


def step_done(step: str, obj: Mapping[str, Any]) -> bool:
    """
    Return True when a story object shows an advanced step done.

    ``storyboard``: the storyboard has scenes; ``elements``: every character, environment and object
    has its image, under ``image_url`` or ``URL`` (openapi.json ``POST /story/{story_id}/elements``: its
    sample code prints ``element['URL']`` and its example has ``"URL"``); ``scenes``: every scene has its
    ``image_url`` (story.txt: the steps "craft images" of the elements and of the scenes).

    :param step: ``storyboard``, ``elements`` or ``scenes``
    :param obj: the unwrapped story object
    """
    board = storyboard_of(obj)
    scenes = board.get("scenes")
    if step == "elements":
        items = [item for section in ELEMENT_SECTIONS for item in board.get(section) or []]
        return all(isinstance(item, Mapping) and (item.get("image_url") or item.get("URL")) for item in items)
    if not isinstance(scenes, list) or not scenes:
        return False
    return step == "storyboard" or all(isinstance(scene, Mapping) and scene.get("image_url") for scene in scenes)
