"""
An operator's arguments: written out in its ``__init__``, documented once, checked against its route's row.

The signature checks a DAG author's tools rely on (jedi, mypy, Airflow's template-field rule, the class tree,
drift against the row) are in ``test_signatures.py``; here, what the arguments do.
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from airflow.exceptions import AirflowException

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.api.config import DEFAULT_CONN_ID
from airflow_provider_vimmerse.api.fields import FieldType, RouteField
from airflow_provider_vimmerse.api.routes import get_tool
from airflow_provider_vimmerse.api.video import VIDEO_TOOLS
from airflow_provider_vimmerse.decorators.media import VimmerseMediaDecoratedOperator, vimmerse_media_task
from airflow_provider_vimmerse.decorators.story import VimmerseStoryDecoratedOperator, vimmerse_story_task
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.base import DEFAULT_TIMEOUT
from airflow_provider_vimmerse.operators.batch import VimmerseCreateBatchOperator
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator, VimmerseUpdateMediaOperator
from airflow_provider_vimmerse.operators.story import VimmerseCreateStoryElementsOperator
from tests.dag_runs import new_dag

#: What Airflow raises for a missing or unknown keyword argument (TypeError on 3, AirflowException on 2).
REFUSED_ARGUMENTS = (TypeError, AirflowException)


def job_operators() -> list[type[VimmerseJobOperator]]:
    """Return every public operator that runs a route's row."""
    found, todo = [], list(VimmerseJobOperator.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("airflow_provider_vimmerse.operators") and not cls.__name__.startswith("_"):
            found.append(cls)
    return found


@pytest.mark.parametrize("cls", job_operators(), ids=lambda cls: cls.__name__)
def test_every_argument_is_documented_once_and_every_template_field_is_an_argument(cls):
    parameters = inspect.signature(cls.__init__).parameters
    arguments = [name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    for name in arguments:
        assert (cls.__doc__ or "").count(f":param {name}:") == 1, f"{name} is documented once"
    inherited = {
        name
        for klass in cls.__mro__[1:]
        if klass.__module__.startswith("airflow_provider_vimmerse") and "__init__" in vars(klass)
        for name in inspect.signature(klass.__init__).parameters
    }
    for name in cls.template_fields:
        assert name in arguments or name in inherited, f"template field {name} is an argument of {cls.__name__}"


def test_a_literal_bad_value_is_refused_when_the_operator_is_made_and_the_message_names_the_field():
    with pytest.raises(VimmerseInputError, match="'quantity': got 9; must be an integer from 1 to 4"):
        VimmerseCreateMediaOperator(task_id="bad", prompt="a kite", quantity=9)
    with pytest.raises(VimmerseInputError, match="'changes': unknown fields \\['colour'\\]"):
        VimmerseUpdateMediaOperator(task_id="edit", media_id="m1", changes={"colour": "red"})
    with pytest.raises(REFUSED_ARGUMENTS, match="story_id"):
        VimmerseCreateStoryElementsOperator(task_id="no_story")  # type: ignore[call-arg]


def test_a_value_close_to_an_allowed_one_gets_a_suggestion_from_the_one_place_that_words_it():
    with pytest.raises(
        VimmerseInputError, match="got 'KlingAl' \\(did you mean 'KlingAI'\\?\\); allowed values: 'Auto'"
    ):
        VimmerseCreateMediaOperator(task_id="typo", prompt="a kite", motion_type="KlingAl")
    with pytest.raises(VimmerseInputError, match="did you mean '9:16'"):
        VimmerseCreateBatchOperator(task_id="typo", image_urls=["https://cdn.test/a.png"], aspect_ratio=" 9:16 ")
    with pytest.raises(VimmerseInputError, match="got 'zzz'; allowed values"):
        VimmerseCreateMediaOperator(task_id="far", prompt="a kite", motion_type="zzz")
    with pytest.raises(VimmerseInputError, match="'tool': got 'enhnace' \\(did you mean 'enhance'\\?\\)"):
        get_tool(VIDEO_TOOLS, "enhnace")


def test_the_api_fields_come_from_the_row_in_its_order_with_lists_and_extra_fields_and_are_pure():
    op = VimmerseCreateBatchOperator(
        task_id="batch",
        image_urls="https://cdn.test/a.png",
        prompt="orbit",
        quantity=2,
        extra_params={"future_field": "x", "title": None},
    )
    fields = op.api_fields()
    assert fields == {"prompt": "orbit", "quantity": 2, "image_urls": ["https://cdn.test/a.png"], "future_field": "x"}
    assert list(fields)[-1] == "future_field", "the row's fields first, in its order, then the extra ones"
    assert op.api_fields() == fields, "the same answer every time"
    edit = VimmerseUpdateMediaOperator(task_id="edit", media_id="m1", title="New", changes={"duration": 4})
    assert edit.api_fields() == {"title": "New", "duration": 4}
    assert edit.route.regenerating_fields(edit.api_fields()) == ["duration"]


def test_keyword_arguments_come_from_default_args_and_map_with_expand(airflow_db, tmp_path):
    dag = new_dag("params_default_args", tmp_path, motion_type="KlingAI")
    with dag:
        op = VimmerseCreateMediaOperator(task_id="create", prompt="a kite")
        VimmerseCreateMediaOperator.partial(task_id="mapped").expand(prompt=["a", "b"])
    assert op.motion_type == "KlingAI", "an argument is filled from default_args"
    with pytest.raises(REFUSED_ARGUMENTS):
        VimmerseCreateMediaOperator(task_id="typo", prompt="a kite", promt="a kite")


#: ``POST /media`` with one more field, as docs/contributing.md's walk-through adds it.
CREATE_WITH_SEED = replace(media.CREATE, fields=(*media.CREATE.fields, RouteField("seed", FieldType.INT, low=0)))


class WithSeed(VimmerseJobOperator):
    """
    ``POST /media`` with a ``seed``: the row gains the field, the operator the argument.

    :param prompt: text description of the video (templated)
    :param seed: generation seed, 0 or more (templated)
    :param vimmerse_conn_id: Vimmerse connection id (templated)
    :param timeout: how long to wait for the job
    """

    route = CREATE_WITH_SEED
    template_fields: tuple[str, ...] = ("prompt", "seed", *VimmerseJobOperator.template_fields)

    def __init__(
        self,
        *,
        prompt: str | None = None,
        seed: int | None = None,
        vimmerse_conn_id: str = DEFAULT_CONN_ID,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(vimmerse_conn_id=vimmerse_conn_id, timeout=timeout, **kwargs)
        self.prompt = prompt
        self.seed = seed
        self.check_values()


def test_adding_a_field_is_the_row_plus_the_argument_and_the_row_checks_it():
    op = WithSeed(task_id="seeded", prompt="a kite", seed=7)
    assert op.api_fields() == {"prompt": "a kite", "seed": 7}
    assert "seed" in WithSeed.template_fields
    with pytest.raises(VimmerseInputError, match="'seed': got -1; must be an integer of at least 0"):
        WithSeed(task_id="bad_seed", prompt="a kite", seed=-1)
    request = op.route.request(op.api_fields())
    assert ("seed", "7") in list(request.form or ())


def test_the_default_connection_is_the_hooks():
    assert VimmerseHook.default_conn_name == DEFAULT_CONN_ID


@pytest.mark.parametrize(
    ("factory", "decorated"),
    [(vimmerse_media_task, VimmerseMediaDecoratedOperator), (vimmerse_story_task, VimmerseStoryDecoratedOperator)],
    ids=["vimmerse_media", "vimmerse_story"],
)
def test_a_decorator_takes_exactly_the_fields_of_its_route_by_name(factory, decorated):
    parameters = inspect.signature(factory).parameters
    own = {"python_callable", "multiple_outputs", "extra_params", "kwargs"}
    assert set(parameters) - own == set(decorated.route.field_names), "the decorator and its row drift apart"
    for name in decorated.route.field_names:
        assert (factory.__doc__ or "").count(f":param {name}:") == 1, f"{name} is documented once"
