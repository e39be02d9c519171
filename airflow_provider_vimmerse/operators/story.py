"""
Operators for stories in one step, and publishing a story.

One step, each waiting until the story video is ready: :class:`VimmerseIdeaToVideoOperator` (an idea),
:class:`VimmerseUrlToVideoOperator` (a web page, such as a product page) and
:class:`VimmerseImagesToVideoOperator` (image URLs, such as product photos: one scene each).
:class:`VimmerseUpdateStoryOperator` publishes a story: its title, description and visibility, free.

The advanced flow, one task per step (``storyboard -> [elements] -> scenes -> videos -> [concat]``), and
:func:`story_task_group`, which chains its steps in a TaskGroup, are in
:mod:`~airflow_provider_vimmerse.operators.story_steps`; they are imported from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_vimmerse.api import story
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

# The advanced flow (its own module), imported from here too: the usual import path of every story operator.
from airflow_provider_vimmerse.operators.story_steps import (
    VimmerseConcatStoryOperator as VimmerseConcatStoryOperator,
)
from airflow_provider_vimmerse.operators.story_steps import (
    VimmerseCreateStoryboardOperator as VimmerseCreateStoryboardOperator,
)
from airflow_provider_vimmerse.operators.story_steps import (
    VimmerseCreateStoryElementsOperator as VimmerseCreateStoryElementsOperator,
)
from airflow_provider_vimmerse.operators.story_steps import (
    VimmerseCreateStoryScenesOperator as VimmerseCreateStoryScenesOperator,
)
from airflow_provider_vimmerse.operators.story_steps import (
    VimmerseCreateStoryVideosOperator as VimmerseCreateStoryVideosOperator,
)
from airflow_provider_vimmerse.operators.story_steps import (
    story_task_group as story_task_group,
)


class VimmerseIdeaToVideoOperator(VimmerseJobOperator):
    """
    Make a story video from an idea in one step with ``POST /story/idea-2-video``, and wait for it.

    The API writes the storyboard, draws the scenes, animates and composes them. The result holds the
    story video in ``video_urls``, the ``storyboard``, each scene's media (``medias``) and
    ``used_credits`` when the API reports them.

    :param idea: what the story is about (templated)
    :param title: story title (templated)
    :param scene_count: number of scenes, at least 1 (the maximum depends on the subscription plan) (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (templated)
    :param image_tool: image model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_TOOLS`
        (templated)
    :param video_tool: motion model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.VIDEO_TOOLS`
        (templated)
    :param scene_duration: seconds per scene, 5 or 10 (templated)
    :param is_transition: make transitions between scenes
    :param elements: pre-defined ``characters``/``environments``/``objects`` (dict or JSON) (templated)
    :param audio_option: ``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)
        (templated)
    :param language: language of the storyboard and narration, one of
        :data:`~airflow_provider_vimmerse.api.story.LANGUAGES` (templated)
    :param seed: refused: ``POST /story/idea-2-video`` has no seed (the advanced flow's image steps take one)
        (templated)
    :param webhook_url: URL the API calls when the story is done (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = story.IDEA_TO_VIDEO
    template_fields: tuple[str, ...] = (
        "idea", "title", "scene_count", "aspect_ratio", "image_tool", "video_tool", "scene_duration", "elements",
        "audio_option", "language", "seed", "webhook_url", "extra_params", *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        idea: str,
        title: str | None = None,
        scene_count: int | None = None,
        aspect_ratio: str | None = None,
        image_tool: str | None = None,
        video_tool: str | None = None,
        scene_duration: int | None = None,
        is_transition: bool | None = None,
        elements: dict[str, Any] | str | None = None,
        audio_option: dict[str, Any] | str | None = None,
        language: str | None = None,
        seed: int | None = None,
        webhook_url: str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.idea = idea
        self.title = title
        self.scene_count = scene_count
        self.aspect_ratio = aspect_ratio
        self.image_tool = image_tool
        self.video_tool = video_tool
        self.scene_duration = scene_duration
        self.is_transition = is_transition
        self.elements = elements
        self.audio_option = audio_option
        self.language = language
        self.seed = seed
        self.webhook_url = webhook_url
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseUrlToVideoOperator(VimmerseJobOperator):
    """
    Make a story video from a web page (a product page, an article) in one step with
    ``POST /story/url-2-video``, and wait for it.

    ``idea`` holds the page's http(s) URL, then what to make of it, e.g.
    ``"https://shop.example/tote A 20-second ad for this bag"``: the API reads the page and writes, draws
    and animates a story about it. The fields and the result are those of
    :class:`VimmerseIdeaToVideoOperator`.

    :param idea: the page's http(s) URL, then what the story is about (templated)
    :param title: story title (templated)
    :param scene_count: number of scenes, at least 1 (the maximum depends on the subscription plan) (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (templated)
    :param image_tool: image model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_TOOLS`
        (templated)
    :param video_tool: motion model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.VIDEO_TOOLS`
        (templated)
    :param scene_duration: seconds per scene, 5 or 10 (templated)
    :param is_transition: make transitions between scenes
    :param elements: pre-defined ``characters``/``environments``/``objects`` (dict or JSON) (templated)
    :param audio_option: ``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)
        (templated)
    :param language: language of the storyboard and narration, one of
        :data:`~airflow_provider_vimmerse.api.story.LANGUAGES` (templated)
    :param seed: refused: ``POST /story/url-2-video`` has no seed (the advanced flow's image steps take one)
        (templated)
    :param webhook_url: URL the API calls when the story is done (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = story.URL_TO_VIDEO
    template_fields: tuple[str, ...] = (
        "idea", "title", "scene_count", "aspect_ratio", "image_tool", "video_tool", "scene_duration", "elements",
        "audio_option", "language", "seed", "webhook_url", "extra_params", *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        idea: str,
        title: str | None = None,
        scene_count: int | None = None,
        aspect_ratio: str | None = None,
        image_tool: str | None = None,
        video_tool: str | None = None,
        scene_duration: int | None = None,
        is_transition: bool | None = None,
        elements: dict[str, Any] | str | None = None,
        audio_option: dict[str, Any] | str | None = None,
        language: str | None = None,
        seed: int | None = None,
        webhook_url: str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.idea = idea
        self.title = title
        self.scene_count = scene_count
        self.aspect_ratio = aspect_ratio
        self.image_tool = image_tool
        self.video_tool = video_tool
        self.scene_duration = scene_duration
        self.is_transition = is_transition
        self.elements = elements
        self.audio_option = audio_option
        self.language = language
        self.seed = seed
        self.webhook_url = webhook_url
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseImagesToVideoOperator(VimmerseJobOperator):
    """
    Make a story video from images (product photos, say), one scene each, with ``POST /story/images-2-video``,
    and wait for it.

    The images are public URLs (JPEG, PNG or WebP, 1024x1024 or more recommended); the API writes the
    story around them, animates each and composes the video. The result is the one-step story's
    (:class:`VimmerseIdeaToVideoOperator`).

    ``idea`` is optional: the schema gives it a default (the route's parameter table calls it
    required; the schema is followed, so when unset it is not sent and the API's default applies).

    :param image_urls: public image URLs, one scene each (at least one) (templated)
    :param idea: what the story is about (default: the API's own) (templated)
    :param title: story title (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (templated)
    :param video_tool: motion model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.VIDEO_TOOLS`
        (templated)
    :param scene_duration: seconds per scene, 5 or 10 (templated)
    :param is_transition: make transitions between scenes
    :param audio_option: ``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)
        (templated)
    :param language: language of the story and narration, one of
        :data:`~airflow_provider_vimmerse.api.story.LANGUAGES` (templated)
    :param webhook_url: URL the API calls when the story is done (templated)
    :param scene_count: refused: ``POST /story/images-2-video`` has no such field (one scene per image) (templated)
    :param image_tool: refused: ``POST /story/images-2-video`` has no such field (one scene per image) (templated)
    :param elements: refused: ``POST /story/images-2-video`` has no such field (one scene per image) (templated)
    :param seed: refused: ``POST /story/images-2-video`` has no such field (one scene per image) (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = story.IMAGES_TO_VIDEO
    template_fields: tuple[str, ...] = (
        "image_urls", "idea", "title", "aspect_ratio", "video_tool", "scene_duration", "audio_option", "language",
        "webhook_url", "scene_count", "image_tool", "elements", "seed", "extra_params",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        image_urls: Sequence[str] | str,
        idea: str | None = None,
        title: str | None = None,
        aspect_ratio: str | None = None,
        video_tool: str | None = None,
        scene_duration: int | None = None,
        is_transition: bool | None = None,
        audio_option: dict[str, Any] | str | None = None,
        language: str | None = None,
        webhook_url: str | None = None,
        scene_count: int | None = None,
        image_tool: str | None = None,
        elements: dict[str, Any] | str | None = None,
        seed: int | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.image_urls = image_urls
        self.idea = idea
        self.title = title
        self.aspect_ratio = aspect_ratio
        self.video_tool = video_tool
        self.scene_duration = scene_duration
        self.is_transition = is_transition
        self.audio_option = audio_option
        self.language = language
        self.webhook_url = webhook_url
        self.scene_count = scene_count
        self.image_tool = image_tool
        self.elements = elements
        self.seed = seed
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseUpdateStoryOperator(VimmerseJobOperator):
    """
    Publish a story: change its title, description, visibility or additional videos with
    ``PUT /story/{id}`` (free), and return the updated story at once (nothing is waited for).

    Give the fields as keyword arguments or in ``changes``; at least one. ``story_id`` takes the
    story's id or the result of the task that made it (``story_id=story.output``).

    :param story_id: the story, or the result of the task that made it (templated)
    :param changes: the fields to change, with the API's names, as a dict (templated)
    :param title: new title (templated)
    :param description: new description (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public (an integer is taken) (templated)
    :param additional_videos: more video URLs to associate with the story, a list (or its JSON text), sent as
        JSON array text; the API marks it "for internal use only" (templated)
    """

    route = story.UPDATE
    template_fields: tuple[str, ...] = (
        "changes", "story_id", "title", "description", "visibility_status", "additional_videos",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        changes: dict[str, Any] | None = None,
        title: str | None = None,
        description: str | None = None,
        visibility_status: str | int | None = None,
        additional_videos: Sequence[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.changes = changes
        self.title = title
        self.description = description
        self.visibility_status = visibility_status
        self.additional_videos = additional_videos
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs
