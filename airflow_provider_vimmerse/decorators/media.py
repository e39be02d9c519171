"""``@task.vimmerse_media``: the function returns the prompt or the media's fields; the task generates the video."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import DecoratedOperator

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.decorators.base import given_arguments, run, take_fields, vimmerse_task
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskDecorator

    from airflow_provider_vimmerse.api.results import JobResult


class VimmerseMediaDecoratedOperator(DecoratedOperator, VimmerseJobOperator):
    """
    Generate a video from what a function returns: the prompt (a str) or a dict of the fields of
    :class:`~airflow_provider_vimmerse.operators.media.VimmerseCreateMediaOperator`; then wait for it
    and return its result, like the operator. Made by ``@task.vimmerse_media``.

    :param python_callable: the decorated function
    :param op_args: positional arguments of the function (templated)
    :param op_kwargs: keyword arguments of the function (templated)
    """

    custom_operator_name = "@task.vimmerse_media"
    #: The field a returned str sets.
    text_field = "prompt"
    route = media.CREATE
    template_fields: tuple[str, ...] = (
        *media.CREATE.field_names, "extra_params", *DecoratedOperator.template_fields,
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


def vimmerse_media_task(
    python_callable: Callable[..., Any] | None = None,
    *,
    multiple_outputs: bool = False,
    prompt: str | None = None,
    image_files: Sequence[Any] | str | None = None,
    image_urls: Sequence[str] | str | None = None,
    media_items: list[dict[str, Any]] | str | None = None,
    motion_type: str | None = None,
    camera_control: str | None = None,
    quantity: int | None = None,
    duration: int | None = None,
    loop: int | None = None,
    aspect_ratio: str | None = None,
    audio_option: dict[str, Any] | str | None = None,
    character_animate: bool | None = None,
    model: str | None = None,
    visibility_status: str | None = None,
    title: str | None = None,
    description: str | None = None,
    webhook_url: str | None = None,
    extra_params: dict[str, Any] | None = None,
    **kwargs: Any,
) -> TaskDecorator:
    """
    Wrap a function into :class:`VimmerseMediaDecoratedOperator`: ``@task.vimmerse_media``.

    The fields are those of :class:`~airflow_provider_vimmerse.operators.media.VimmerseCreateMediaOperator`;
    given here, they are defaults that the function's dict overrides.

    :param python_callable: the function; it returns the prompt or a dict of the media's fields
    :param multiple_outputs: push each key of the result as its own XCom too (default False)
    :param prompt: text description of the video
    :param image_files: local paths or ``ObjectStoragePath``\\ s of images to upload
    :param image_urls: public image URLs
    :param media_items: list of ``{"type", "url", "position"}`` dicts
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES`
    :param camera_control: camera path, one of :data:`~airflow_provider_vimmerse.api.media.CAMERA_CONTROLS`
    :param quantity: number of variations, 1-4
    :param duration: seconds, 1-10
    :param loop: motion repeats, 1-6
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``
    :param audio_option: dict with ``narrator``, ``narration``, ``narration_url``, ``bg_music_prompt``, ``bg_music_url``
    :param character_animate: character animation mode
    :param model: try-on model, one of :data:`~airflow_provider_vimmerse.api.media.TRY_ON_MODELS`
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public
    :param title: media title
    :param description: media description
    :param webhook_url: URL the API calls on completion
    :param extra_params: more fields sent as they are
    :param kwargs: the waiting arguments of
        :class:`~airflow_provider_vimmerse.operators.job.VimmerseJobOperator` (``vimmerse_conn_id``, ``deferrable``,
        ``timeout``...) and the task's (``task_id``, ``outlets``, ``retries``...)
    """
    given = given_arguments(vimmerse_media_task, locals())
    return vimmerse_task(VimmerseMediaDecoratedOperator, python_callable, **given, **kwargs)
