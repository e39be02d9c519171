"""``@task.vimmerse_story``: the function returns the idea or the story's fields; the task makes the story video."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import DecoratedOperator

from airflow_provider_vimmerse.api import story
from airflow_provider_vimmerse.decorators.base import given_arguments, run, take_fields, vimmerse_task
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskDecorator

    from airflow_provider_vimmerse.api.results import JobResult


class VimmerseStoryDecoratedOperator(DecoratedOperator, VimmerseJobOperator):
    """
    Make a story video in one step from what a function returns: the idea (a str) or a dict of the
    fields of :class:`~airflow_provider_vimmerse.operators.story.VimmerseIdeaToVideoOperator`; then wait
    for it and return its result with the storyboard, like the operator (which also pushes the XComs
    ``story_id`` and ``storyboard``). Made by ``@task.vimmerse_story``.

    :param python_callable: the decorated function
    :param op_args: positional arguments of the function (templated)
    :param op_kwargs: keyword arguments of the function (templated)
    """

    custom_operator_name = "@task.vimmerse_story"
    #: The field a returned str sets.
    text_field = "idea"
    route = story.IDEA_TO_VIDEO
    template_fields: tuple[str, ...] = (
        *story.IDEA_TO_VIDEO.field_names, "extra_params", *DecoratedOperator.template_fields,
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        fields = take_fields(self, kwargs)
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **kwargs)
        for name, value in fields.items():  # the decorator's values; the function's dict overrides them
            setattr(self, name, value)

    def execute(self, context: Any) -> JobResult:
        """Call the function, set the fields it returns, then check, submit once, wait and return the result."""
        return run(self, context, VimmerseJobOperator.execute)


def vimmerse_story_task(
    python_callable: Callable[..., Any] | None = None,
    *,
    multiple_outputs: bool = False,
    idea: str | None = None,
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
    webhook_url: str | None = None,
    extra_params: dict[str, Any] | None = None,
    **kwargs: Any,
) -> TaskDecorator:
    """
    Wrap a function into :class:`VimmerseStoryDecoratedOperator`: ``@task.vimmerse_story``.

    The fields are those of :class:`~airflow_provider_vimmerse.operators.story.VimmerseIdeaToVideoOperator`;
    given here, they are defaults that the function's dict overrides.

    :param python_callable: the function; it returns the idea or a dict of the story's fields
    :param multiple_outputs: push each key of the result as its own XCom too (default False)
    :param idea: what the story is about
    :param title: story title
    :param scene_count: number of scenes, at least 1 (the maximum depends on the subscription plan)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``
    :param image_tool: image model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.IMAGE_TOOLS`
    :param video_tool: motion model for the scenes, one of :data:`~airflow_provider_vimmerse.api.story.VIDEO_TOOLS`
    :param scene_duration: seconds per scene, 5 or 10
    :param is_transition: make transitions between scenes
    :param elements: pre-defined ``characters``/``environments``/``objects`` (dict or JSON)
    :param audio_option: ``narrator``, ``has_narration``, ``has_bg_music``, ``native_audio`` (dict or JSON)
    :param language: language of the storyboard and narration, one of
        :data:`~airflow_provider_vimmerse.api.story.LANGUAGES`
    :param webhook_url: URL the API calls when the story is done
    :param extra_params: more fields sent as they are
    :param kwargs: the waiting arguments of
        :class:`~airflow_provider_vimmerse.operators.job.VimmerseJobOperator` (``vimmerse_conn_id``, ``deferrable``,
        ``timeout``...) and the task's (``task_id``, ``outlets``, ``retries``...)
    """
    given = given_arguments(vimmerse_story_task, locals())
    return vimmerse_task(VimmerseStoryDecoratedOperator, python_callable, **given, **kwargs)
