"""
Each operator parameter is declared once (a ``Param`` in the class body): the signature Airflow reads,
``template_fields``, the docs and the API fields all come from that one line.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from airflow.exceptions import AirflowException

from airflow_provider_vimmerse.api.config import DEFAULT_CONN_ID
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.base import VimmerseOperator
from airflow_provider_vimmerse.operators.batch import VimmerseCreateBatchOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator, VimmerseUpdateMediaOperator
from airflow_provider_vimmerse.operators.params import INT, Param
from airflow_provider_vimmerse.operators.story import (
    VimmerseCreateStoryElementsOperator,
    VimmerseCreateStoryScenesOperator,
)
from tests.dag_runs import new_dag

#: What Airflow raises for a missing or unknown keyword argument (TypeError on 3, AirflowException on 2).
REFUSED_ARGUMENTS = (TypeError, AirflowException)


def operators() -> list[type[VimmerseOperator]]:
    """Return every operator class with a parameter table."""
    found, todo = [], list(VimmerseOperator.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.param_table and not cls.__name__.startswith("_") and cls.__module__.startswith("airflow_provider"):
            found.append(cls)
    return found


@pytest.mark.parametrize("cls", operators(), ids=lambda cls: cls.__name__)
def test_every_declared_parameter_is_a_keyword_argument_documented_once_and_templated_as_declared(cls):
    own_signatures = [
        inspect.signature(klass.__init__).parameters for klass in cls.__mro__ if "__init__" in vars(klass)
    ]
    for name, param in cls.param_table.items():
        assert any(name in parameters for parameters in own_signatures), f"{name} is not a keyword argument"
        assert (cls.__doc__ or "").count(f":param {name}:") == 1, f"{name} is documented once"
        assert (name in cls.template_fields) is param.templated, name


def test_a_literal_bad_value_is_refused_when_the_operator_is_made_and_the_message_names_the_field():
    with pytest.raises(VimmerseInputError, match="'quantity': got 9; must be an integer from 1 to 4"):
        VimmerseCreateMediaOperator(task_id="bad", prompt="a kite", quantity=9)
    with pytest.raises(VimmerseInputError, match="'changes': unknown fields \\['colour'\\]"):
        VimmerseUpdateMediaOperator(task_id="edit", media_id="m1", changes={"colour": "red"})
    with pytest.raises(REFUSED_ARGUMENTS, match="missing keyword argument 'story_id'"):
        VimmerseCreateStoryElementsOperator(task_id="no_story")


def test_the_api_fields_come_from_the_table_in_its_order_with_lists_and_extra_fields():
    op = VimmerseCreateBatchOperator(
        task_id="batch",
        image_urls="https://cdn.test/a.png",
        prompt="orbit",
        quantity=2,
        extra_params={"future_field": "x", "title": None},
    )
    assert op.api_fields() == {
        "prompt": "orbit",
        "quantity": 2,
        "image_urls": ["https://cdn.test/a.png"],
        "future_field": "x",
    }
    edit = VimmerseUpdateMediaOperator(task_id="edit", media_id="m1", title="New", changes={"duration": 4})
    assert edit.api_fields() == {"title": "New", "duration": 4} and edit.regenerates() == ["duration"]


def test_keyword_arguments_come_from_default_args_and_map_with_expand(airflow_db, tmp_path):
    dag = new_dag("params_default_args", tmp_path, motion_type="KlingAI")
    with dag:
        op = VimmerseCreateMediaOperator(task_id="create", prompt="a kite")
        VimmerseCreateMediaOperator.partial(task_id="mapped").expand(prompt=["a", "b"])
    assert op.motion_type == "KlingAI", "a declared parameter is filled from default_args"
    with pytest.raises(REFUSED_ARGUMENTS):
        VimmerseCreateMediaOperator(task_id="typo", prompt="a kite", promt="a kite")


def test_adding_a_field_is_one_line_and_a_subclass_with_its_own_init_is_still_checked():
    class WithNegativePrompt(VimmerseCreateMediaOperator):
        negative_prompt = Param("what the video must not show")
        steps = Param("sampling steps", INT, templated=False)

    assert "negative_prompt" in inspect.signature(WithNegativePrompt.__init__).parameters
    assert "negative_prompt" in WithNegativePrompt.template_fields and "steps" not in WithNegativePrompt.template_fields
    assert ":param negative_prompt: what the video must not show (templated)" in (WithNegativePrompt.__doc__ or "")
    op = WithNegativePrompt(task_id="neg", prompt="a kite", negative_prompt="rain", steps=3)
    assert op.api_fields() == {"prompt": "a kite", "negative_prompt": "rain", "steps": 3}

    class OwnInit(VimmerseCreateMediaOperator):
        def __init__(self, *, label: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.label = label

    with pytest.raises(VimmerseInputError, match="'duration'"):
        OwnInit(task_id="own", label="x", prompt="a kite", duration=99)
    assert VimmerseCreateStoryScenesOperator(task_id="scenes", story_id="s1").audio_option is None


def test_the_default_connection_is_the_hooks():
    assert VimmerseHook.default_conn_name == DEFAULT_CONN_ID
