"""``@task.vimmerse_story``: the function returns the idea or the story's fields; the task makes the story video."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.decorators.base import VimmerseDecoratedOperator, vimmerse_task
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskDecorator


class VimmerseStoryDecoratedOperator(VimmerseDecoratedOperator, VimmerseIdeaToVideoOperator):
    """
    Make a story video in one step from what a function returns: the idea (a str) or a dict of the
    fields of :class:`~airflow_provider_vimmerse.operators.story.VimmerseIdeaToVideoOperator`; then wait
    for it and return its result with the storyboard, like the operator (which also pushes the XComs
    ``story_id`` and ``storyboard``). Made by ``@task.vimmerse_story``.
    """

    custom_operator_name = "@task.vimmerse_story"
    text_field = "idea"


def vimmerse_story_task(
    python_callable: Callable[..., Any] | None = None, *, multiple_outputs: bool = False, **kwargs: Any
) -> TaskDecorator:
    """
    Wrap a function into :class:`VimmerseStoryDecoratedOperator`: ``@task.vimmerse_story``.

    :param python_callable: the function; it returns the idea or a dict of the story's fields
    :param multiple_outputs: push each key of the result as its own XCom too (default False)
    :param kwargs: keyword arguments of
        :class:`~airflow_provider_vimmerse.operators.story.VimmerseIdeaToVideoOperator` (``deferrable``,
        ``fail_on_partial_failure``, ``timeout``, ``outlets``, and fields as defaults the function's dict
        overrides)
    """
    return vimmerse_task(VimmerseStoryDecoratedOperator, python_callable, multiple_outputs=multiple_outputs, **kwargs)
