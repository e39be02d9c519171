"""
The base of every Vimmerse TaskFlow decorator: the function returns the fields, the operator does the rest.

A decorated operator is ``class _X(VimmerseDecoratedOperator, SomeVimmerseOperator)``: the function runs
when the task starts; its return value (the main text field as a str, or a dict of the operator's
fields) is set on the operator, and the operator's own ``execute`` follows: check the values before
any request, submit once (a retry re-attaches to the job an earlier try saved), wait (deferred, when
``deferrable=True``) and return the :class:`~airflow_provider_vimmerse.api.results.JobResult`. A
deferred task resumes in the operator's ``execute_complete``: the function is not called again.

What the operators' declared parameters (:mod:`~airflow_provider_vimmerse.operators.params`) need is
handled here once: required fields get a placeholder when the task is made (the function gives them
when it runs), and the checks run once the function has returned, not when the DAG is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import (
    SET_DURING_EXECUTION,
    DecoratedOperator,
    context_merge,
    determine_kwargs,
    task_decorator_factory,
)

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.base import fail_fast

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskDecorator

    from airflow_provider_vimmerse.operators.params import Param


class VimmerseDecoratedOperator(DecoratedOperator):
    """
    Run the decorated function, set the fields it returns, then run the Vimmerse operator it is mixed with.

    Put it first in the bases, before the operator class. The function returns the text of
    ``text_field`` (a str) or a dict of the operator's fields by their parameter names; decorator
    keyword arguments are the operator's (connection id, ``deferrable``, ``poll_interval``, ``timeout``,
    ``outlets``, ... and any field, as a default the function's dict overrides). Returned values are
    used as they are, not rendered by Jinja.

    :param python_callable: the decorated function
    :param op_args: positional arguments of the function (templated)
    :param op_kwargs: keyword arguments of the function (templated)
    """

    #: The decorator's name, shown as the task's operator (``@task.vimmerse_media``); each subclass sets it.
    custom_operator_name: ClassVar[str]
    #: The field a returned str sets (``prompt``, ``idea``).
    text_field: ClassVar[str] = ""
    #: The fields of the operator, by parameter name (set from the operator's declarations).
    param_table: ClassVar[Mapping[str, Param]]
    #: Show the fields the function returned in the task's "Rendered Template" (Airflow 3): set by the
    #: process that called it, not by one resuming after a deferral (its fields are not the function's).
    overwrite_rtif_after_execution = False
    #: Whether the fields are the function's: checks wait for them (the instance sets it in ``execute``).
    _fields_returned = False

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        required = [name for name, param in self.param_table.items() if param.required and name not in kwargs]
        placeholders: dict[str, Any] = dict.fromkeys(required, SET_DURING_EXECUTION)
        super().__init__(
            python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **placeholders, **kwargs
        )
        for name in required:  # given when the function returns; None until then, like any unset field
            setattr(self, name, None)

    def check_values(self) -> None:
        """Check the fields once the function has returned them (when the DAG is parsed they are not known)."""
        if self._fields_returned:
            super().check_values()  # type: ignore[misc]

    def execute(self, context: Any) -> Any:
        """Call the function, set the fields it returns, then check, submit once, wait and return the result."""
        context_merge(context, self.op_kwargs)
        returned = self.python_callable(*self.op_args, **determine_kwargs(self.python_callable, self.op_args, context))
        with fail_fast():
            fields = self.fields_from(returned)
        for name, value in fields.items():
            setattr(self, name, value)
        self._fields_returned = self.overwrite_rtif_after_execution = True
        self.log.info("%s: the function set %s", self.custom_operator_name, ", ".join(fields) or "no field")
        return super().execute(context)

    def fields_from(self, returned: Any) -> dict[str, Any]:
        """
        Return the fields the function's return value sets, by parameter name.

        :param returned: a str (the ``text_field``) or a dict of the operator's fields
        :raises VimmerseInputError: for another type, or a key that is not a field, naming the allowed ones
        """
        what = f"the return value of the {self.custom_operator_name} function"
        if isinstance(returned, str):
            return {self.text_field: returned}
        if not isinstance(returned, Mapping):
            raise VimmerseInputError(
                what, f"return the {self.text_field} (a str) or a dict of fields, got {type(returned).__name__}"
            )
        unknown = [str(name) for name in returned if name not in self.param_table]
        if unknown:
            allowed = ", ".join(repr(name) for name in self.param_table)
            raise VimmerseInputError(
                unknown[0],
                f"not a field of {self.custom_operator_name} (unknown keys in {what}: "
                f"{', '.join(map(repr, unknown))}); allowed keys: {allowed}",
            )
        return dict(returned)


def vimmerse_task(
    operator_class: type[VimmerseDecoratedOperator],
    python_callable: Callable[..., Any] | None = None,
    *,
    multiple_outputs: bool = False,
    **kwargs: Any,
) -> TaskDecorator:
    """
    Return the TaskFlow decorator that wraps a function into ``operator_class`` (what each factory calls).

    :param operator_class: a :class:`VimmerseDecoratedOperator` mixed with a Vimmerse operator
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
