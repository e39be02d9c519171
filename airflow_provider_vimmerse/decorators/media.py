"""``@task.vimmerse_media``: the function returns the prompt or the media's fields; the task generates the video."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.decorators.base import VimmerseDecoratedOperator, vimmerse_task
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskDecorator


class VimmerseMediaDecoratedOperator(VimmerseDecoratedOperator, VimmerseCreateMediaOperator):
    """
    Generate a video from what a function returns: the prompt (a str) or a dict of the fields of
    :class:`~airflow_provider_vimmerse.operators.media.VimmerseCreateMediaOperator`; then wait for it
    and return its result, like the operator. Made by ``@task.vimmerse_media``.
    """

    custom_operator_name = "@task.vimmerse_media"
    text_field = "prompt"


def vimmerse_media_task(
    python_callable: Callable[..., Any] | None = None, *, multiple_outputs: bool = False, **kwargs: Any
) -> TaskDecorator:
    """
    Wrap a function into :class:`VimmerseMediaDecoratedOperator`: ``@task.vimmerse_media``.

    :param python_callable: the function; it returns the prompt or a dict of the media's fields
    :param multiple_outputs: push each key of the result as its own XCom too (default False)
    :param kwargs: keyword arguments of
        :class:`~airflow_provider_vimmerse.operators.media.VimmerseCreateMediaOperator` (``deferrable``,
        ``vimmerse_conn_id``, ``timeout``, ``outlets``, and fields as defaults the function's dict overrides)
    """
    return vimmerse_task(VimmerseMediaDecoratedOperator, python_callable, multiple_outputs=multiple_outputs, **kwargs)
