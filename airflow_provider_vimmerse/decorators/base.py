"""
What every Vimmerse TaskFlow decorator shares: the function returns the fields, the operator does the rest.

A decorated operator is ``class _X(DecoratedOperator, VimmerseJobOperator)`` with the ``route`` of the
operator it stands for: the function runs when the task starts; its return value (the main text field as a
str, or a dict of the route's fields) is set on the operator (:func:`run`), and the operator's own flow
follows: check the values before any request, submit once (a retry re-attaches to the job an earlier try
saved), wait (deferred, when ``deferrable=True``) and return the
:class:`~airflow_provider_vimmerse.api.results.JobResult`. A deferred task resumes in the operator's
``execute_complete``: the function is not called again.

The fields are checked once the function has returned, not when the DAG is parsed (they are not known then).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import context_merge, determine_kwargs, task_decorator_factory

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.base import fail_fast

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskDecorator

    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

#: Besides the route's fields, what a decorator's keyword arguments and the function's dict may set.
EXTRA_PARAMS = "extra_params"


def take_fields(operator: VimmerseJobOperator, kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    Take the route's fields out of a decorator's keyword arguments (the rest are the operator's).

    :param operator: the decorated operator being made
    :param kwargs: the keyword arguments given to the decorator; its fields are removed
    :return: every field of the route, None when not given (the function's dict sets them later)
    """
    names = (*operator.route.field_names, *operator.route.refused, EXTRA_PARAMS)
    return {name: kwargs.pop(name, None) for name in names}


def fields_from(operator: Any, text_field: str, returned: Any) -> dict[str, Any]:
    """
    Return the fields the function's return value sets, by name.

    :param operator: the decorated operator (its ``custom_operator_name`` and ``route``)
    :param text_field: the field a returned str sets (``prompt``, ``idea``)
    :param returned: a str (the ``text_field``) or a dict of the route's fields
    :raises VimmerseInputError: for another type, or a key that is not a field, naming the allowed ones
    """
    name = operator.custom_operator_name
    what = f"the return value of the {name} function"
    if isinstance(returned, str):
        return {text_field: returned}
    if not isinstance(returned, Mapping):
        raise VimmerseInputError(
            what, f"return the {text_field} (a str) or a dict of fields, got {type(returned).__name__}"
        )
    allowed = (*operator.route.field_names, *operator.route.refused, EXTRA_PARAMS)  # a refused one: its reason
    unknown = [str(key) for key in returned if key not in allowed]
    if unknown:
        raise VimmerseInputError(
            unknown[0],
            f"not a field of {name} (unknown keys in {what}: {', '.join(map(repr, unknown))}); "
            f"allowed keys: {', '.join(map(repr, allowed))}",
        )
    return dict(returned)


def run(operator: Any, context: Any, execute: Callable[[Any, Any], JobResult]) -> JobResult:
    """
    Call the function, set the fields it returns, then check, submit once, wait and return the result.

    :param operator: the decorated operator (a ``DecoratedOperator`` and a ``VimmerseJobOperator``; its
        ``text_field`` is the field a returned str sets)
    :param context: the task's context
    :param execute: the operator's own flow (``VimmerseJobOperator.execute``)
    """
    context_merge(context, operator.op_kwargs)
    call_kwargs = determine_kwargs(operator.python_callable, operator.op_args, context)
    returned = operator.python_callable(*operator.op_args, **call_kwargs)
    with fail_fast():
        fields = fields_from(operator, operator.text_field, returned)
    for name, value in fields.items():
        setattr(operator, name, value)
    # Show the fields the function returned in the task's "Rendered Template" (Airflow 3): set by the process
    # that called it, not by one resuming after a deferral (its fields are not the function's).
    operator.overwrite_rtif_after_execution = True
    operator.log.info("%s: the function set %s", operator.custom_operator_name, ", ".join(fields) or "no field")
    return execute(operator, context)


def given_arguments(factory: Callable[..., Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """
    Return the arguments of a decorator factory that differ from their defaults (by identity).

    Only those are passed on, so a task's ``default_args`` (``poll_interval``, ``timeout``...) still apply to
    the arguments the DAG author did not give, as they do for an operator.

    :param factory: the decorator factory (``vimmerse_media_task``)
    :param arguments: its ``locals()`` at its start
    """
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(factory).parameters.items()}
    return {
        name: value
        for name, value in arguments.items()
        if name in defaults and name not in ("python_callable", "kwargs") and value is not defaults[name]
    }


def vimmerse_task(
    operator_class: type[Any],
    python_callable: Callable[..., Any] | None = None,
    *,
    multiple_outputs: bool = False,
    **kwargs: Any,
) -> TaskDecorator:
    """
    Return the TaskFlow decorator that wraps a function into ``operator_class`` (what each factory calls).

    :param operator_class: a decorated Vimmerse operator
    :param python_callable: the decorated function (``@task.x``), or None (``@task.x(...)``)
    :param multiple_outputs: push each key of the task's result as its own XCom too; False unless
        given (not inferred from the function's return type: the function returns fields, the task a result)
    :param kwargs: the operator's keyword arguments
    """
    return task_decorator_factory(
        python_callable=python_callable,
        multiple_outputs=multiple_outputs,
        decorated_operator_class=operator_class,
        **kwargs,
    )
