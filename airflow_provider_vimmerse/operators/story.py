"""
Operators for stories: one step from an idea, or the advanced flow one step per task.

One step: :class:`VimmerseIdeaToVideoOperator` sends the idea and waits until the story video is ready.

The advanced flow, so a person or a Python task can change the storyboard between steps::

    storyboard (POST /story) -> [elements] -> scenes -> videos -> [concat]

The storyboard, elements and scenes steps answer at once (the API keeps the story ``new`` until its
videos are requested); videos and concat run asynchronously and wait like every job. Every step
returns the story's result with its ``storyboard`` and also pushes it to XCom under the keys
``storyboard`` and ``story_id``, so the next step takes ``story_id=prev.output["story_id"]`` and
``storyboard=prev.output["storyboard"]`` (or the output of a task that edited it) and sends it.
:func:`story_task_group` chains the steps in a TaskGroup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_vimmerse.api import story
from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart
from airflow_provider_vimmerse.api.responses import expect_object
from airflow_provider_vimmerse.api.results import JobResult
from airflow_provider_vimmerse.exceptions import (
    VimmerseResponseError,
)
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.links.vimmerse import VimmerseJobLink, persist_job_link
from airflow_provider_vimmerse.operators.base import Submission, as_list, fail_fast
from airflow_provider_vimmerse.operators.batch import VimmerseGroupJobOperator
from airflow_provider_vimmerse.operators.media import new_job_id, read_images

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskGroup

#: XCom keys every story operator pushes besides its return value.
STORY_ID_KEY = "story_id"
STORYBOARD_KEY = "storyboard"


def push_story_xcoms(operator: BaseOperator, context: Any, result: JobResult) -> None:
    """Push the story id and storyboard of a step's result under their own XCom keys."""
    if not operator.do_xcom_push:
        return
    context["ti"].xcom_push(key=STORY_ID_KEY, value=result["id"])
    context["ti"].xcom_push(key=STORYBOARD_KEY, value=result.get("storyboard", {}))


class _StoryJobOperator(VimmerseGroupJobOperator):
    """A story step that starts an asynchronous job and waits for the story video."""

    job_kind = "story"

    def finish(self, context: Any, job_id: str) -> JobResult:
        """Return the finished story's result (with its storyboard) and push its id and storyboard."""
        result = super().finish(context, job_id)
        push_story_xcoms(self, context, result)
        return result


class VimmerseIdeaToVideoOperator(_StoryJobOperator):
    """
    Make a story video from an idea in one step with ``POST /story/idea-2-video``, and wait for it.

    The API writes the storyboard, draws the scenes, animates and composes them. The result holds the
    story video in ``video_urls``, the ``storyboard``, each scene's media (``medias``) and
    ``used_credits`` when the API reports them.

    :param idea: what the story is about (templated)
    :param title: story title (templated)
    :param scene_count: number of scenes, at least 1 (the maximum depends on the subscription plan)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``
    :param image_tool: image model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_TOOLS`
    :param video_tool: motion model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.VIDEO_TOOLS`
    :param scene_duration: seconds per scene, 5 or 10
    :param is_transition: make transitions between scenes
    :param elements: pre-defined ``characters``/``environments``/``objects`` (dict or JSON; templated)
    :param audio_option: ``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON; templated)
    :param language: language of the storyboard and narration, one of
        :data:`~airflow_provider_vimmerse.api.story.LANGUAGES`
    :param seed: refused: ``POST /story/idea-2-video`` has no seed (the advanced flow's image steps take one)
    :param webhook_url: URL the API calls when the story is done (templated)
    :param fail_on_partial_failure: fail the task when some scene videos failed (default)
    :param extra_params: more body fields passed through as they are, for fields the API adds later
    """

    template_fields: Sequence[str] = (
        "idea", "title", "scene_count", "aspect_ratio", "image_tool", "video_tool", "scene_duration", "elements",
        "audio_option", "language", "seed", "webhook_url", "extra_params",
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
        self.check_inputs()  # literal values now; templated ones at execute

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set, as the API names them."""
        names = (
            "idea", "title", "scene_count", "aspect_ratio", "image_tool", "video_tool", "scene_duration",
            "is_transition", "elements", "audio_option", "language", "seed", "webhook_url",
        )  # fmt: skip
        values = {name: getattr(self, name) for name in names}
        values.update(self.extra_params or {})
        return {name: value for name, value in values.items() if value is not None}

    def check_inputs(self) -> None:
        """Validate the fields (no request is sent)."""
        values = self.fields()
        story.check_idea(values)
        story.check_story_fields(values, route=story.IDEA_TO_VIDEO)

    def submit(self, context: Any) -> str:
        """Send ``POST /story/idea-2-video`` and return the story id."""
        req = story.idea_to_video(self.fields())
        self.log.info("Creating a story from an idea in one step (spends credits)")
        return new_job_id(self.hook.request(req), req.describe())


class VimmerseStoryStepOperator(BaseOperator):
    """
    Base of the advanced-flow steps that answer at once (storyboard, elements, scenes).

    Subclasses implement :meth:`fields`, :meth:`build_request` and, when they take input,
    :meth:`check_inputs`. The task returns the story's result, with its ``storyboard``, and pushes the
    story id and storyboard under the XCom keys ``story_id`` and ``storyboard``.

    These requests generate images and can take minutes on the real API, so they wait up to
    :data:`~airflow_provider_vimmerse.api.story.SLOW_STEP_TIMEOUT` seconds for the answer (180 s, as the
    API's own examples), whatever the connection's ``timeout``.

    :param vimmerse_conn_id: Vimmerse connection id
    :param extra_params: more form fields passed through as they are, for fields the API adds later
    """

    ui_color = "#e8dcff"
    operator_extra_links = (VimmerseJobLink(),)
    #: What the step makes, for the log.
    step: str = ""

    def __init__(
        self,
        *,
        vimmerse_conn_id: str = VimmerseHook.default_conn_name,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id
        self.extra_params = extra_params

    @cached_property
    def hook(self) -> VimmerseHook:
        """Return the hook (no I/O until first use)."""
        return VimmerseHook(vimmerse_conn_id=self.vimmerse_conn_id)

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set, as the API names them."""
        raise NotImplementedError

    def check_inputs(self) -> None:
        """Validate the rendered inputs; raise :class:`.VimmerseInputError` naming the field. No I/O."""
        story.check_story_fields(self.fields())

    def build_request(self) -> ApiRequest:
        """Return the request of this step."""
        raise NotImplementedError

    def sent_story_id(self) -> str | None:
        """Return the id of the story this step works on, when the request names one."""
        return None

    def _values(self, values: dict[str, Any]) -> dict[str, Any]:
        values.update(self.extra_params or {})
        return {name: value for name, value in values.items() if value is not None}

    def execute(self, context: Any) -> JobResult:
        """Validate, send the step, and return the story's result with its storyboard."""
        with fail_fast():
            self.check_inputs()
            req = self.build_request()
            obj = expect_object(self.hook.request(req), method=req.method, path=req.path)
        story_id = obj.get("id") or self.sent_story_id()
        if not isinstance(story_id, str) or not story_id:
            raise VimmerseResponseError(f"{req.describe()} answered without a story id: {str(obj)[:200]!r}")
        persist_job_link(context, self.hook.web_url("story", story_id))
        result = self.hook.result_of("story", story_id, obj)
        result.setdefault("storyboard", story.storyboard_of(obj))
        scenes = result["storyboard"].get("scenes")
        self.log.info(
            "story %s: %s done (status %s); storyboard has %d scene(s)",
            story_id,
            self.step,
            result["status"] or "(none)",
            len(scenes) if isinstance(scenes, list) else 0,
        )
        push_story_xcoms(self, context, result)
        return result


class VimmerseCreateStoryboardOperator(VimmerseStoryStepOperator):
    """
    Advanced flow, step 1: write a storyboard from an idea with ``POST /story`` (spends credits).

    With images (``image_files`` uploaded multipart, or ``image_urls``) the API makes one scene per image
    and ignores ``scene_count``.

    :param idea: what the story is about (templated)
    :param title: story title (templated)
    :param scene_count: number of scenes, at least 1 (the maximum depends on the subscription plan)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``
    :param language: language of the storyboard and narration (free text, e.g. ``Portuguese``)
    :param audio_option: ``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON; templated)
    :param elements: pre-defined ``characters``/``environments``/``objects`` to use (dict or JSON; templated)
    :param image_files: local paths or ``ObjectStoragePath``\\ s of images, one scene each (templated)
    :param image_urls: public image URLs, one scene each (templated)
    :param story_id: an existing story whose storyboard to write again (templated)
    """

    step = "storyboard"
    template_fields: Sequence[str] = (
        "idea", "title", "scene_count", "aspect_ratio", "language", "audio_option", "elements", "image_files",
        "image_urls", "story_id", "extra_params",
    )  # fmt: skip

    def __init__(
        self,
        *,
        idea: str,
        title: str | None = None,
        scene_count: int | None = None,
        aspect_ratio: str | None = None,
        language: str | None = None,
        audio_option: dict[str, Any] | str | None = None,
        elements: dict[str, Any] | str | None = None,
        image_files: Sequence[Any] | str | None = None,
        image_urls: Sequence[str] | str | None = None,
        story_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.idea = idea
        self.title = title
        self.scene_count = scene_count
        self.aspect_ratio = aspect_ratio
        self.language = language
        self.audio_option = audio_option
        self.elements = elements
        self.image_files = image_files
        self.image_urls = image_urls
        self.story_id = story_id
        self.check_inputs()

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set (image files excluded)."""
        return self._values(
            {
                "story_id": self.story_id,
                "idea": self.idea,
                "title": self.title,
                "scene_count": self.scene_count,
                "aspect_ratio": self.aspect_ratio,
                "language": self.language,
                "audio_option": self.audio_option,
                "elements": self.elements,
                "image_urls": as_list(self.image_urls) or None,
            }
        )

    def check_inputs(self) -> None:
        """Require an idea and validate the fields (no request is sent)."""
        values = self.fields()
        story.check_idea(values)
        story.check_story_fields(values, route=story.CREATE_STORY)

    def build_request(self) -> ApiRequest:
        """Read the image files (a missing one fails here) and build ``POST /story``."""
        files: list[FilePart] = read_images(self.image_files)
        return story.create_storyboard(self.fields(), files)


class _StoryImagesStepOperator(VimmerseStoryStepOperator):
    """Elements and scenes: image steps on an existing story, optionally with an edited storyboard."""

    template_fields: Sequence[str] = ("story_id", "storyboard", "option", "aspect_ratio", "seed", "extra_params")

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        storyboard: dict[str, Any] | str | None = None,
        option: str | None = None,
        aspect_ratio: str | None = None,
        seed: int | None = None,
        enhance_image: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.storyboard = storyboard
        self.option = option
        self.aspect_ratio = aspect_ratio
        self.seed = seed
        self.enhance_image = enhance_image
        story.check_story_fields(_StoryImagesStepOperator.fields(self))

    def check_inputs(self) -> None:
        """Validate the story id and fields (no request is sent)."""
        story.story_id_from(self.story_id)
        story.check_story_fields(self.fields())

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set."""
        return self._values(
            {
                "storyboard": self.storyboard,
                "option": self.option,
                "aspect_ratio": self.aspect_ratio,
                "seed": self.seed,
                "enhance_image": self.enhance_image,
            }
        )

    def build_request(self) -> ApiRequest:
        """Build ``POST /story/{id}/<step>``."""
        return story.story_step(story.story_id_from(self.story_id), self.step, self.fields())

    def sent_story_id(self) -> str | None:
        """Return the story id the step was sent for."""
        return story.story_id_from(self.story_id)


class VimmerseCreateStoryElementsOperator(_StoryImagesStepOperator):
    """
    Advanced flow, step 1.5 (optional): draw the storyboard's characters, environments and objects
    with ``POST /story/{id}/elements`` (spends credits). Each element gets an ``image_url``.

    :param story_id: the story, or the result of the previous step (templated)
    :param storyboard: the storyboard to use, e.g. edited by an earlier task; a dict, its JSON, or the
        previous step's result. None keeps the story's own (templated)
    :param option: image model, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_OPTIONS`
    :param aspect_ratio: aspect ratio of the images
    :param seed: image generation seed
    :param enhance_image: apply super-resolution to the images
    """

    step = "elements"


class VimmerseCreateStoryScenesOperator(_StoryImagesStepOperator):
    """
    Advanced flow, step 2: draw each scene and write its narration with ``POST /story/{id}/scenes``
    (spends credits). Each scene gets an ``image_url``.

    :param story_id: the story, or the result of the previous step (templated)
    :param storyboard: the storyboard to use, e.g. edited by an earlier task; a dict, its JSON, or the
        previous step's result. None keeps the story's own (templated)
    :param option: image model, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_OPTIONS`
    :param aspect_ratio: aspect ratio of the images
    :param seed: image generation seed
    :param enhance_image: apply super-resolution to the images
    :param audio_option: override the story's audio options (dict or JSON; templated)
    """

    step = "scenes"
    template_fields: Sequence[str] = (*_StoryImagesStepOperator.template_fields, "audio_option")

    def __init__(self, *, audio_option: dict[str, Any] | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.audio_option = audio_option
        story.check_audio_option(audio_option)

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set."""
        values = super().fields()
        if self.audio_option is not None:
            values["audio_option"] = self.audio_option
        return values


class VimmerseCreateStoryVideosOperator(_StoryJobOperator):
    """
    Advanced flow, step 3: animate every scene and compose the story video with
    ``POST /story/{id}/videos`` (spends credits), and wait until the video is ready.

    :param story_id: the story, or the result of the previous step (templated)
    :param storyboard: the storyboard to use, e.g. edited by an earlier task; a dict, its JSON, or the
        previous step's result. None keeps the story's own (templated)
    :param title: final title of the story video (templated)
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.story.STORY_MOTION_TYPES`
    :param duration: seconds per scene, 1-10
    :param loop: motion repeats per scene, 1-6
    :param is_transition: make transitions between scenes
    :param webhook_url: URL the API calls when the story is done (templated)
    :param fail_on_partial_failure: fail the task when some scene videos failed (default)
    :param extra_params: more form fields passed through as they are, for fields the API adds later
    """

    template_fields: Sequence[str] = (
        "story_id", "storyboard", "title", "motion_type", "duration", "loop", "webhook_url", "extra_params",
    )  # fmt: skip

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        storyboard: dict[str, Any] | str | None = None,
        title: str | None = None,
        motion_type: str | None = None,
        duration: int | None = None,
        loop: int | None = None,
        is_transition: bool | None = None,
        webhook_url: str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id
        self.storyboard = storyboard
        self.title = title
        self.motion_type = motion_type
        self.duration = duration
        self.loop = loop
        self.is_transition = is_transition
        self.webhook_url = webhook_url
        self.extra_params = extra_params
        story.check_story_fields(self.fields())

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set."""
        values = {
            "title": self.title,
            "storyboard": self.storyboard,
            "is_transition": self.is_transition,
            "motion_type": self.motion_type,
            "duration": self.duration,
            "loop": self.loop,
            "webhook_url": self.webhook_url,
        }
        values.update(self.extra_params or {})
        return {name: value for name, value in values.items() if value is not None}

    def check_inputs(self) -> None:
        """Validate the story id and fields (no request is sent)."""
        story.story_id_from(self.story_id)
        story.check_story_fields(self.fields())

    def submit(self, context: Any) -> str:
        """Ask for the scene videos and return the story id."""
        story_id = story.story_id_from(self.story_id)
        self.log.info("story %s: generating the scene videos (spends credits)", story_id)
        self.hook.request(story.story_step(story_id, "videos", self.fields()))
        return story_id


class VimmerseConcatStoryOperator(_StoryJobOperator):
    """
    Compose a finished story's videos again with ``POST /story/{id}/concat`` (spends credits), then wait
    for the new ``video_url``.

    :param story_id: the story, or the result of the previous step (templated)
    :param concat_video_urls: videos to compose instead of the story's own scene videos (templated)
    :param audio_urls: background audio to mix over the composed video (templated)
    :param fail_on_partial_failure: fail when the story has failed scene videos (default False here:
        composing uses the videos that succeeded, and the videos step already reported the failures)
    """

    template_fields: Sequence[str] = ("story_id", "concat_video_urls", "audio_urls")

    def __init__(
        self,
        *,
        story_id: str | dict[str, Any],
        concat_video_urls: Sequence[str] | None = None,
        audio_urls: Sequence[str] | None = None,
        fail_on_partial_failure: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_on_partial_failure=fail_on_partial_failure, **kwargs)
        self.story_id = story_id
        self.concat_video_urls = concat_video_urls
        self.audio_urls = audio_urls
        story.check_story_fields(self.fields())

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set."""
        values = {"concat_video_urls": as_list(self.concat_video_urls), "audio_urls": as_list(self.audio_urls)}
        return {name: value for name, value in values.items() if value}

    def check_inputs(self) -> None:
        """Validate the story id and URLs (no request is sent)."""
        story.story_id_from(self.story_id)
        story.check_story_fields(self.fields())

    #: Composition "typically takes 1-3 minutes" and the status may read ``success`` all along: wait
    #: for the new video_url until ``timeout``.
    rerun_grace = None

    def submit(self, context: Any) -> Submission:
        """Ask for the composition (its documented answer is ``{}``); the wait takes only a new video_url."""
        story_id = story.story_id_from(self.story_id)
        self.log.info("story %s: composing its videos again (spends credits)", story_id)
        return self.rerun(story_id, story.story_step(story_id, "concat", self.fields()), "concat")


#: Keyword arguments that only the waiting steps (videos, concat) take.
_WAIT_KWARGS = ("wait_for_completion", "deferrable", "poll_interval", "timeout", "fail_on_partial_failure")


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
    edit_storyboard: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
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
        Python task between the storyboard and the image steps
    :param motion_type: AI model of the scene videos
    :param duration: seconds per scene, 1-10
    :param loop: motion repeats per scene, 1-6
    :param is_transition: make transitions between scenes
    :param webhook_url: URL the API calls when the story video is done
    :param operator_kwargs: more arguments for every task (``vimmerse_conn_id``, ``pool``, ``retries``...);
        ``deferrable``, ``poll_interval``, ``timeout``, ``wait_for_completion`` and
        ``fail_on_partial_failure`` go to the videos step only
    """
    from airflow.providers.common.compat.sdk import TaskGroup
    from airflow.providers.common.compat.standard.operators import PythonOperator

    wait_kwargs = {name: operator_kwargs.pop(name) for name in _WAIT_KWARGS if name in operator_kwargs}
    image_kwargs: dict[str, Any] = {"option": image_option, "aspect_ratio": aspect_ratio, "seed": seed}
    with TaskGroup(group_id=group_id) as group:
        board = VimmerseCreateStoryboardOperator(
            task_id="storyboard",
            idea=idea,
            title=title,
            scene_count=scene_count,
            aspect_ratio=aspect_ratio,
            language=language,
            audio_option=audio_option,
            elements=elements,
            **operator_kwargs,
        )
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
            title=title,
            motion_type=motion_type,
            duration=duration,
            loop=loop,
            is_transition=is_transition,
            webhook_url=webhook_url,
            **wait_kwargs,
            **operator_kwargs,
        )
    return group


def _xcom(task: BaseOperator, key: str) -> Any:
    """Return a reference to ``task``'s XCom under ``key`` (``task.output[key]``: a key, not an item of its result)."""
    output: Any = task.output
    return output[key]
