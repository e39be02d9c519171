"""
Operators for stories: one step from an idea, or the advanced flow one step per task.

One step, each waiting until the story video is ready: :class:`VimmerseIdeaToVideoOperator` (an idea),
:class:`VimmerseUrlToVideoOperator` (a web page, such as a product page) and
:class:`VimmerseImagesToVideoOperator` (image URLs, such as product photos: one scene each).
:class:`VimmerseUpdateStoryOperator` publishes a story: its title, description and visibility, free.

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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vimmerse.operators.base import (
    STORY_ID_KEY,
    STORYBOARD_KEY,
    VimmerseConcatOperator,
    VimmerseEditOperator,
    VimmerseOnStoryOperator,
    VimmerseStoryJobOperator,
    VimmerseStoryStepOperator,
)
from airflow_provider_vimmerse.operators.params import (
    BOOL,
    EXTRA_PARAMS,
    FILES,
    INT,
    JSON,
    URLS,
    Param,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, TaskGroup

    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.fields import EditRoute
    from airflow_provider_vimmerse.api.submissions import Submission

_STORY = "~airflow_provider_vimmerse.api.story"
#: A storyboard: a dict, its JSON, or the result of the step before.
BOARD = "dict[str, Any] | str | None"
_BOARD_DOC = (
    "the storyboard to use, e.g. edited by an earlier task; a dict, its JSON, or the previous step's result. "
    "None keeps the story's own"
)


class VimmerseIdeaToVideoOperator(VimmerseStoryJobOperator):
    """
    Make a story video from an idea in one step with ``POST /story/idea-2-video``, and wait for it.

    The API writes the storyboard, draws the scenes, animates and composes them. The result holds the
    story video in ``video_urls``, the ``storyboard``, each scene's media (``medias``) and
    ``used_credits`` when the API reports them.

    :param fail_on_partial_failure: fail the task when some scene videos failed (default)
    """

    #: The route this operator sends (a subclass sends another one-step route with the same fields).
    route: ClassVar[str] = "/story/idea-2-video"

    idea = Param("what the story is about", "str", required=True)
    title = Param("story title")
    scene_count = Param("number of scenes, at least 1 (the maximum depends on the subscription plan)", INT)
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``")
    image_tool = Param(f"image model for the scenes, one of :data:`{_STORY}.IMAGE_TOOLS`")
    video_tool = Param(f"motion model for the scenes, one of :data:`{_STORY}.VIDEO_TOOLS`")
    scene_duration = Param("seconds per scene, 5 or 10", INT)
    is_transition = Param("make transitions between scenes", BOOL, templated=False)
    elements = Param("pre-defined ``characters``/``environments``/``objects`` (dict or JSON)", JSON)
    audio_option = Param("``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)", JSON)
    language = Param(f"language of the storyboard and narration, one of :data:`{_STORY}.LANGUAGES`")
    seed = Param("refused: ``POST /story/idea-2-video`` has no seed (the advanced flow's image steps take one)", INT)
    webhook_url = Param("URL the API calls when the story is done")
    extra_params = EXTRA_PARAMS

    def check_values(self) -> None:
        """Validate the fields (no request is sent)."""
        from airflow_provider_vimmerse.api import story

        story.check_one_step(self.api_fields(), self.route)

    def submit(self, context: Any) -> Submission:
        """Send the route (``POST /story/idea-2-video`` here)."""
        from airflow_provider_vimmerse.api import story

        self.log.info("Creating a story in one step with POST %s (spends credits)", self.route)
        return self.send(story.idea_to_video(self.api_fields(), self.route))


class VimmerseUrlToVideoOperator(VimmerseIdeaToVideoOperator):
    """
    Make a story video from a web page (a product page, an article) in one step with
    ``POST /story/url-2-video``, and wait for it.

    ``idea`` holds the page's http(s) URL, then what to make of it, e.g.
    ``"https://shop.example/tote A 20-second ad for this bag"``: the API reads the page and writes, draws
    and animates a story about it. The fields and the result are those of
    :class:`VimmerseIdeaToVideoOperator`.

    :param fail_on_partial_failure: fail the task when some scene videos failed (default)
    """

    route = "/story/url-2-video"

    seed = Param("refused: ``POST /story/url-2-video`` has no seed (the advanced flow's image steps take one)", INT)


_ONE_SCENE_PER_IMAGE = "refused: ``POST /story/images-2-video`` has no such field (one scene per image)"


class VimmerseImagesToVideoOperator(VimmerseStoryJobOperator):
    """
    Make a story video from images (product photos, say), one scene each, with ``POST /story/images-2-video``,
    and wait for it.

    The images are public URLs (JPEG, PNG or WebP, 1024x1024 or more recommended); the API writes the
    story around them, animates each and composes the video. The result is the one-step story's
    (:class:`VimmerseIdeaToVideoOperator`).

    ``idea`` is optional: the schema gives it a default (the route's parameter table calls it
    required; the schema is followed, so when unset it is not sent and the API's default applies).

    :param fail_on_partial_failure: fail the task when some scene videos failed (default)
    """

    route: ClassVar[str] = "/story/images-2-video"

    image_urls = Param("public image URLs, one scene each (at least one)", URLS, required=True)
    idea = Param("what the story is about (default: the API's own)")
    title = Param("story title")
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``")
    video_tool = Param(f"motion model for the scenes, one of :data:`{_STORY}.VIDEO_TOOLS`")
    scene_duration = Param("seconds per scene, 5 or 10", INT)
    is_transition = Param("make transitions between scenes", BOOL, templated=False)
    audio_option = Param("``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)", JSON)
    language = Param(f"language of the story and narration, one of :data:`{_STORY}.LANGUAGES`")
    webhook_url = Param("URL the API calls when the story is done")
    scene_count = Param(_ONE_SCENE_PER_IMAGE, INT)
    image_tool = Param(_ONE_SCENE_PER_IMAGE)
    elements = Param(_ONE_SCENE_PER_IMAGE, JSON)
    seed = Param(_ONE_SCENE_PER_IMAGE, INT)
    extra_params = EXTRA_PARAMS

    def check_values(self) -> None:
        """Require image URLs and validate the fields (no request is sent)."""
        from airflow_provider_vimmerse.api import story

        story.check_one_step(self.api_fields(), self.route)

    def submit(self, context: Any) -> Submission:
        """Send ``POST /story/images-2-video``."""
        from airflow_provider_vimmerse.api import story

        values = self.api_fields()
        self.log.info("Creating a story from %d image(s) in one step (spends credits)", len(values["image_urls"]))
        return self.send(story.idea_to_video(values, self.route))


class VimmerseUpdateStoryOperator(VimmerseOnStoryOperator, VimmerseEditOperator):
    """
    Publish a story: change its title, description, visibility or additional videos with
    ``PUT /story/{id}`` (free), and return the updated story at once (nothing is waited for).

    Give the fields as keyword arguments or in ``changes``; at least one. ``story_id`` takes the
    story's id or the result of the task that made it (``story_id=story.output``).
    """

    job_kind = "story"

    title = Param("new title")
    description = Param("new description")
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted, ``"2"`` public')
    additional_videos = Param(
        "more video URLs to associate with the story, a list (sent as JSON array text); "
        'the API marks it "for internal use only"',
        URLS,
        send="sent",
    )

    @classmethod
    def edit_route(cls) -> EditRoute:
        """Return :data:`~airflow_provider_vimmerse.api.story.UPDATE`."""
        from airflow_provider_vimmerse.api.story import UPDATE

        return UPDATE

    def check_values(self) -> None:
        """Check the changes: known fields only, at least one, valid values (no request is sent)."""
        VimmerseEditOperator.check_values(self)


class VimmerseCreateStoryboardOperator(VimmerseStoryStepOperator):
    """
    Advanced flow, step 1: write a storyboard from an idea with ``POST /story`` (spends credits).

    With images (``image_files`` uploaded multipart, or ``image_urls``) the API makes one scene per image
    and ignores ``scene_count``.
    """

    step = "storyboard"

    story_id = Param("an existing story whose storyboard to write again")
    idea = Param("what the story is about", "str", required=True)
    title = Param("story title")
    scene_count = Param("number of scenes, at least 1 (the maximum depends on the subscription plan)", INT)
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``")
    language = Param("language of the storyboard and narration (free text, e.g. ``Portuguese``)")
    audio_option = Param("``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)", JSON)
    elements = Param("pre-defined ``characters``/``environments``/``objects`` to use (dict or JSON)", JSON)
    image_files = Param("local paths or ``ObjectStoragePath``\\ s of images, one scene each", FILES)
    image_urls = Param("public image URLs, one scene each", URLS)
    extra_params = EXTRA_PARAMS

    def check_values(self) -> None:
        """Require an idea and validate the fields (no request is sent)."""
        from airflow_provider_vimmerse.api import story

        values = self.api_fields()
        story.check_idea(values)
        story.check_story_fields(values, route=story.CREATE_STORY)

    def target_id(self) -> str | None:
        """Return the story whose storyboard is written again, when one is given."""
        return str(self.story_id) if self.story_id else None

    def build_request(self) -> ApiRequest:
        """Read the image files (a missing one fails here) and build ``POST /story``."""
        from airflow_provider_vimmerse.api import story
        from airflow_provider_vimmerse.operators.files import read_images

        return story.create_storyboard(
            self.api_fields(), read_images(self.image_files), read_timeout=self.answer_seconds()
        )


class _StoryImagesStepOperator(VimmerseOnStoryOperator, VimmerseStoryStepOperator):
    """Elements and scenes: image steps on an existing story, optionally with an edited storyboard."""

    storyboard = Param(_BOARD_DOC, BOARD)
    option = Param(f"image model, one of :data:`{_STORY}.IMAGE_OPTIONS`")
    aspect_ratio = Param("aspect ratio of the images")
    seed = Param("image generation seed", INT)
    enhance_image = Param("apply super-resolution to the images", BOOL, templated=False)
    extra_params = EXTRA_PARAMS

    def build_request(self) -> ApiRequest:
        """Build ``POST /story/{id}/<step>``."""
        from airflow_provider_vimmerse.api import story

        return story.story_step(self.target_id(), self.step, self.api_fields(), read_timeout=self.answer_seconds())


class VimmerseCreateStoryElementsOperator(_StoryImagesStepOperator):
    """
    Advanced flow, step 1.5 (optional): draw the storyboard's characters, environments and objects
    with ``POST /story/{id}/elements`` (spends credits), and background music. story.txt: the API
    "crafts images of your characters, objects and environments and background music from your
    storyboard"; an element that already has an image gives it as ``URL`` beside its ``name`` and
    ``description`` (music as ``music_url``). Each element then has its image, under ``image_url`` or
    ``URL`` (the openapi.json example answers ``URL``); either counts as the step done.
    """

    step = "elements"


class VimmerseCreateStoryScenesOperator(_StoryImagesStepOperator):
    """
    Advanced flow, step 2: draw each scene and write its narration with ``POST /story/{id}/scenes``
    (spends credits). Each scene gets an ``image_url``.
    """

    step = "scenes"

    audio_option = Param("override the story's audio options (dict or JSON)", JSON)


class VimmerseCreateStoryVideosOperator(VimmerseOnStoryOperator, VimmerseStoryJobOperator):
    """
    Advanced flow, step 3: animate every scene and compose the story video with
    ``POST /story/{id}/videos`` (spends credits), and wait until the video is ready.

    :param fail_on_partial_failure: fail the task when some scene videos failed (default)
    """

    title = Param("final title of the story video")
    storyboard = Param(_BOARD_DOC, BOARD)
    is_transition = Param("make transitions between scenes", BOOL, templated=False)
    motion_type = Param(f"AI model, one of :data:`{_STORY}.STORY_MOTION_TYPES`")
    duration = Param("seconds per scene, 1-10", INT)
    loop = Param("motion repeats per scene, 1-6", INT)
    webhook_url = Param("URL the API calls when the story is done")
    extra_params = EXTRA_PARAMS

    def submit(self, context: Any) -> Submission:
        """Ask for the scene videos of the story."""
        from airflow_provider_vimmerse.api import story

        story_id = self.target_id()
        self.log.info("story %s: generating the scene videos (spends credits)", story_id)
        return self.send_on_known_job(story.story_step(story_id, "videos", self.api_fields()), story_id)


class VimmerseConcatStoryOperator(VimmerseOnStoryOperator, VimmerseStoryJobOperator, VimmerseConcatOperator):
    """
    Compose a finished story's videos again with ``POST /story/{id}/concat`` (spends credits), then wait
    for the new ``video_url``.

    :param fail_on_partial_failure: fail when the story has failed scene videos (default False here:
        composing uses the videos that succeeded, and the videos step already reported the failures)
    """

    concat_video_urls = Param("videos to compose instead of the story's own scene videos", URLS)
    audio_urls = Param("background audio to mix over the composed video", URLS)

    def rerun_request(self, job_id: str) -> ApiRequest:
        """Build the composition (its documented answer is ``{}``: the wait takes only a new video_url)."""
        from airflow_provider_vimmerse.api import story

        return story.story_step(job_id, "concat", self.api_fields())


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
