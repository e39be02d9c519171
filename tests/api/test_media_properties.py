"""Property tests of media input validation: any input ends accepted or in one named error, never a crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.exceptions import VimmerseInputError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = [*media.ENUMS, *media.RANGES, "audio_option", "media_items", "image_urls", "webhook_url", "rating", "prompt"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_any_media_fields_are_accepted_or_refused_with_a_named_field(values):
    try:
        media.check_media_fields(values)
    except VimmerseInputError as error:
        assert error.field and error.field.split("[")[0].split(".")[0] in FIELDS
        assert error.field in str(error)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
def test_accepted_fields_always_encode_to_form_fields(values):
    try:
        media.check_media_fields(values)
    except VimmerseInputError:
        return
    request = media.create_media(values)
    assert request.spends_credits and all(isinstance(v, str) for _, v in request.form)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(list(media.ENUMS)), st.text(max_size=20))
def test_enum_errors_list_the_allowed_values(field, value):
    try:
        media.check_media_fields({field: value})
    except VimmerseInputError as error:
        assert "allowed values" in str(error)
        assert all(repr(v) in str(error) for v in media.ENUMS[field])
