"""
The advanced story flow, one task per step, so a person or a Python task can change the storyboard between steps::

    storyboard (POST /story) -> [elements] -> scenes -> videos -> [concat]

The storyboard, elements and scenes steps answer when their work is done (the API keeps the story ``new``
until its videos are requested); videos and concat run asynchronously and wait like every job. Every step
returns the story's result with its ``storyboard`` and also pushes it to XCom under the keys
``storyboard`` and ``story_id``, so the next step takes ``story_id=prev.output["story_id"]`` and
``storyboard=prev.output["storyboard"]`` (or the output of a task that edited it) and sends it.
:func:`story_task_group` chains the steps in a TaskGroup.

The one-step story operators and publishing a story are in :mod:`~airflow_provider_vimmerse.operators.story`
(which also exports these, their usual import path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.api import story
from airflow_provider_vimmerse.operators.base import STORY_ID_KEY, STORYBOARD_KEY
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, TaskGroup


class VimmerseCreateStoryboardOperator(VimmerseJobOperator):
    """
    Advanced flow, step 1: write a storyboard from an idea with ``POST /story`` (spends credits).

    With images (``image_files`` uploaded multipart, or ``image_urls``) the API makes one scene per image
    and ignores ``scene_count``. The step answers when the storyboard is written: the task reads the story,
    returns it with its ``storyboard`` and pushes the XCom keys ``story_id`` and ``storyboard``.

    :param story_id: an existing story whose storyboard to write again (templated)
    :param idea: what the story is about (templated)
    :param title: story title (templated)
    :param scene_count: number of scenes, at least 1 (the maximum depends on the subscription plan) (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (templated)
    :param language: language of the storyboard and narration (free text, e.g. ``Portuguese``) (templated)
    :param audio_option: ``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)
        (templated)
    :param elements: pre-defined ``characters``/``environments``/``objects`` to use (dict or JSON) (templated)
    :param image_files: local paths or ``ObjectStoragePath``\\ s of images, one scene each (templated)
    :param image_urls: public image URLs, one scene each (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = story.STORYBOARD
    template_fields: tuple[str, ...] = (
        "story_id", "idea", "title", "scene_count", "aspect_ratio", "language", "audio_option", "elements",
        "image_files", "image_urls", "extra_params", *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any] | None = None,
        idea: str,
        title: str | None = None,
        scene_count: int | None = None,
        aspect_ratio: str | None = None,
        language: str | None = None,
        audio_option: dict[str, Any] | str | None = None,
        elements: dict[str, Any] | str | None = None,
        image_files: Sequence[Any] | str | None = None,
        image_urls: Sequence[str] | str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.idea = idea
        self.title = title
        self.scene_count = scene_count
        self.aspect_ratio = aspect_ratio
        self.language = language
        self.audio_option = audio_option
        self.elements = elements
        self.image_files = image_files
        self.image_urls = image_urls
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseCreateStoryElementsOperator(VimmerseJobOperator):
    """
    Advanced flow, step 1.5 (optional): draw the storyboard's characters, environments and objects
    with ``POST /story/{id}/elements`` (spends credits), and background music. story.txt: the API
    "crafts images of your characters, objects and environments and background music from your
    storyboard"; an element that already has an image gives it as ``URL`` beside its ``name`` and
    ``description`` (music as ``music_url``). Each element then has its image, under ``image_url`` or
    ``URL`` (the openapi.json example answers ``URL``); either counts as the step done.

    The step answers when the images are drawn ("may take several minutes"): the answer is awaited
    ``answer_timeout`` seconds. When it does not come in time, the task reads the story back and waits for
    the images (in the triggerer when deferrable, until ``timeout``): the step is never sent twice.

    :param story_id: the story, or the result of the previous step (templated)
    :param storyboard: the storyboard to use, e.g. edited by an earlier task; a dict, its JSON, or the previous
        step's result. None keeps the story's own (templated)
    :param option: image model, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_OPTIONS` (templated)
    :param aspect_ratio: aspect ratio of the images (templated)
    :param seed: image generation seed (templated)
    :param enhance_image: apply super-resolution to the images
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = story.ELEMENTS
    template_fields: tuple[str, ...] = (
        "story_id", "storyboard", "option", "aspect_ratio", "seed", "extra_params",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        storyboard: dict[str, Any] | str | None = None,
        option: str | None = None,
        aspect_ratio: str | None = None,
        seed: int | None = None,
        enhance_image: bool | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.storyboard = storyboard
        self.option = option
        self.aspect_ratio = aspect_ratio
        self.seed = seed
        self.enhance_image = enhance_image
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseCreateStoryScenesOperator(VimmerseJobOperator):
    """
    Advanced flow, step 2: draw each scene and write its narration with ``POST /story/{id}/scenes``
    (spends credits). Each scene gets an ``image_url``.

    The step answers when the images are drawn ("This step may take several minutes", openapi.json): the
    answer is awaited ``answer_timeout`` seconds. When it does not come in time, the task reads the story
    back and waits for the images (in the triggerer when deferrable, until ``timeout``): the step is never
    sent twice.

    :param story_id: the story, or the result of the previous step (templated)
    :param storyboard: the storyboard to use, e.g. edited by an earlier task; a dict, its JSON, or the previous
        step's result. None keeps the story's own (templated)
    :param option: image model, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_OPTIONS` (templated)
    :param aspect_ratio: aspect ratio of the images (templated)
    :param seed: image generation seed (templated)
    :param enhance_image: apply super-resolution to the images
    :param audio_option: override the story's audio options (dict or JSON) (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = story.SCENES
    template_fields: tuple[str, ...] = (
        "story_id", "storyboard", "option", "aspect_ratio", "seed", "extra_params", "audio_option",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        storyboard: dict[str, Any] | str | None = None,
        option: str | None = None,
        aspect_ratio: str | None = None,
        seed: int | None = None,
        enhance_image: bool | None = None,
        audio_option: dict[str, Any] | str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.storyboard = storyboard
        self.option = option
        self.aspect_ratio = aspect_ratio
        self.seed = seed
        self.enhance_image = enhance_image
        self.audio_option = audio_option
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseCreateStoryVideosOperator(VimmerseJobOperator):
    """
    Advanced flow, step 3: animate every scene and compose the story video with
    ``POST /story/{id}/videos`` (spends credits), and wait until the video is ready.

    :param story_id: the story, or the result of the previous step (templated)
    :param title: final title of the story video (templated)
    :param storyboard: the storyboard to use, e.g. edited by an earlier task; a dict, its JSON, or the previous
        step's result. None keeps the story's own (templated)
    :param is_transition: make transitions between scenes
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.story.STORY_MOTION_TYPES`
        (templated)
    :param duration: seconds per scene, 1-10 (templated)
    :param loop: motion repeats per scene, 1-6 (templated)
    :param webhook_url: URL the API calls when the story is done (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = story.VIDEOS
    template_fields: tuple[str, ...] = (
        "story_id", "title", "storyboard", "motion_type", "duration", "loop", "webhook_url", "extra_params",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        title: str | None = None,
        storyboard: dict[str, Any] | str | None = None,
        is_transition: bool | None = None,
        motion_type: str | None = None,
        duration: int | None = None,
        loop: int | None = None,
        webhook_url: str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.title = title
        self.storyboard = storyboard
        self.is_transition = is_transition
        self.motion_type = motion_type
        self.duration = duration
        self.loop = loop
        self.webhook_url = webhook_url
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseConcatStoryOperator(VimmerseJobOperator):
    """
    Compose a finished story's videos again with ``POST /story/{id}/concat`` (spends credits), then wait
    for the new ``video_url``.

    :param story_id: the story, or the result of the previous step (templated)
    :param concat_video_urls: videos to compose instead of the story's own scene videos (templated)
    :param audio_urls: background audio to mix over the composed video (templated)
    """

    route = story.CONCAT
    template_fields: tuple[str, ...] = (
        "story_id", "concat_video_urls", "audio_urls", *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        concat_video_urls: Sequence[str] | str | None = None,
        audio_urls: Sequence[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.concat_video_urls = concat_video_urls
        self.audio_urls = audio_urls
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


#: Keyword arguments that only the waiting steps (videos, concat) take.
_WAIT_KWARGS = ("wait_for_completion", "deferrable", "poll_interval", "timeout", "fail_on_partial_failure")
#: The arguments of :func:`story_task_group` that each step takes, under the same name.
_STORYBOARD_ARGS = ("idea", "title", "scene_count", "aspect_ratio", "language", "audio_option", "elements")
_IMAGE_ARGS = ("aspect_ratio", "seed")
_VIDEOS_ARGS = ("title", "motion_type", "duration", "loop", "is_transition", "webhook_url")


def story_task_group(
    group_id: str,
    *,
    idea: str,
    title: str | None = None,
    scene_count: int | None = None,
    aspect_ratio: str | None = None,
    language: str | None = None,
    audio_option: dict[str, Any] | str | None = None,
    elements: dict[str, Any] | str | None = None,
    element_images: bool = True,
    image_option: str | None = None,
    seed: int | None = None,
    edit_storyboard: Callable[..., dict[str, Any]] | None = None,
    motion_type: str | None = None,
    duration: int | None = None,
    loop: int | None = None,
    is_transition: bool | None = None,
    webhook_url: str | None = None,
    **operator_kwargs: Any,
) -> TaskGroup:
    """
    Return a TaskGroup running the advanced story flow, one task per step, the storyboard passed along.

    Tasks (ids inside the group): ``storyboard`` -> ``edit_storyboard`` (when ``edit_storyboard`` is
    given) -> ``elements`` (when ``element_images``) -> ``scenes`` -> ``videos``. Each step sends the
    storyboard the task before it returned, so an edit made in between reaches the API. The story
    video is in the result of ``<group_id>.videos``.

    Call it inside a ``with DAG(...)`` block::

        def brand_it(storyboard):
            storyboard["scenes"][0]["description"] += " The logo is on the mug."
            return storyboard

        story = story_task_group("launch_story", idea="A morning coffee ritual", edit_storyboard=brand_it)
        story >> publish

    :param group_id: the TaskGroup's id
    :param idea: what the story is about (templated)
    :param title: story title
    :param scene_count: number of scenes, at least 1
    :param aspect_ratio: aspect ratio of the images and videos
    :param language: language of the storyboard and narration
    :param audio_option: the story's audio options (dict or JSON)
    :param elements: pre-defined characters, environments and objects (dict or JSON)
    :param element_images: draw the elements before the scenes (the optional step 1.5)
    :param image_option: image model of the elements and scenes steps
    :param seed: image generation seed
    :param edit_storyboard: a function that takes the storyboard and returns it changed; it runs as a
        Python task between the storyboard and the image steps, so it may also take context values by
        name (``ti``, ``params``...), e.g. to read a review's answer
    :param motion_type: AI model of the scene videos
    :param duration: seconds per scene, 1-10
    :param loop: motion repeats per scene, 1-6
    :param is_transition: make transitions between scenes
    :param webhook_url: URL the API calls when the story video is done
    :param operator_kwargs: more arguments for every task (``vimmerse_conn_id``, ``pool``, ``retries``...);
        ``deferrable``, ``poll_interval``, ``timeout``, ``wait_for_completion`` and
        ``fail_on_partial_failure`` go to the videos step only
    """
    given = dict(locals())  # the arguments by name, before anything else is bound
    from airflow.providers.common.compat.sdk import TaskGroup
    from airflow.providers.common.compat.standard.operators import PythonOperator

    def args_of(names: tuple[str, ...]) -> dict[str, Any]:
        return {name: given[name] for name in names}

    wait_kwargs = {name: operator_kwargs.pop(name) for name in _WAIT_KWARGS if name in operator_kwargs}
    image_kwargs = {"option": image_option, **args_of(_IMAGE_ARGS)}
    with TaskGroup(group_id=group_id) as group:
        board = VimmerseCreateStoryboardOperator(task_id="storyboard", **args_of(_STORYBOARD_ARGS), **operator_kwargs)
        story_id, storyboard = _xcom(board, STORY_ID_KEY), _xcom(board, STORYBOARD_KEY)
        if edit_storyboard is not None:
            edit = PythonOperator(task_id="edit_storyboard", python_callable=edit_storyboard, op_args=[storyboard])
            storyboard = edit.output
        if element_images:
            step = VimmerseCreateStoryElementsOperator(
                task_id="elements", story_id=story_id, storyboard=storyboard, **image_kwargs, **operator_kwargs
            )
            storyboard = _xcom(step, STORYBOARD_KEY)
        scenes = VimmerseCreateStoryScenesOperator(
            task_id="scenes", story_id=story_id, storyboard=storyboard, **image_kwargs, **operator_kwargs
        )
        VimmerseCreateStoryVideosOperator(
            task_id="videos",
            story_id=story_id,
            storyboard=_xcom(scenes, STORYBOARD_KEY),
            **args_of(_VIDEOS_ARGS),
            **wait_kwargs,
            **operator_kwargs,
        )
    return group


def _xcom(task: BaseOperator, key: str) -> Any:
    """Return a reference to ``task``'s XCom under ``key`` (``task.output[key]``: a key, not an item of its result)."""
    output: Any = task.output
    return output[key]
