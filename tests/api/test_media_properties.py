"""Property tests of media input validation: any input ends accepted or in one named error, never a crash."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.exceptions import VimmerseInputError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = sorted({*media.CREATE.field_names, *media.EDIT.field_names} - {"image_files"})
ENUMS = {spec.name: spec.allowed for spec in media.CREATE.fields if spec.allowed}


#: ``POST /media``'s fields and their JSON checks, without the rule that something must be given to generate from.
FIELDS_ONLY = replace(media.CREATE, rules=media.check_json_fields)


def check(values):
    """Check ``values`` as both media routes do (the edit's row declares ``rating``)."""
    media.EDIT.check(values)
    FIELDS_ONLY.check(values)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_any_media_fields_are_accepted_or_refused_with_a_named_field(values):
    try:
        check(values)
    except VimmerseInputError as error:
        assert error.field and error.field.split("[")[0].split(".")[0] in FIELDS
        assert error.field in str(error)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_accepted_fields_always_encode_to_form_fields(values):
    try:
        check(values)
    except VimmerseInputError:
        return
    request = media.CREATE.request(media.CREATE.api_values(values))
    assert request.spends_credits and all(isinstance(v, str) for _, v in request.form)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(ENUMS)), st.text(max_size=20))
def test_enum_errors_list_the_allowed_values(field, value):
    try:
        check({field: value})
    except VimmerseInputError as error:
        assert "allowed values" in str(error)
        assert all(repr(v) in str(error) for v in ENUMS[field])
