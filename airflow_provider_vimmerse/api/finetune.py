"""
The finetune route's row: ``POST /finetune`` (train a LoRA), its documented fields and allowed values, the
rules across fields checked before anything is sent, and reading the trigger word from its answer.

Fields come from ``openapi.json`` ``Body_finetune_flux_finetune_post`` (multipart form). The route
"will start the training of a LoRA model ... and returns its associated unique trigger word", but no
document names the answer's field that holds it. The 200 example (description "Trigger word.") is the
generic asset placeholder, whose only identifying text is ``id``: that is read by default, and
:func:`trigger_word_of` reads any field the caller names instead, and says which fields the answer
had when it is not there. The training is then followed as the ``finetune`` job kind, whose id is the trigger
word (``GET /finetune/{trigger_word}``; see :data:`~airflow_provider_vimmerse.api.jobs.JOB_KINDS`).

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_vimmerse.api.fields import FieldType, RouteField, check_images, is_templated
from airflow_provider_vimmerse.api.routes import Route, as_list
from airflow_provider_vimmerse.exceptions import VimmerseInputError, VimmerseJobMayExistError

#: ``option``: "Available values are `FluxFinetune, FluxProFinetune, FluxKontextFinetune`" (prose, no enum).
OPTIONS = ("FluxFinetune", "FluxProFinetune", "FluxKontextFinetune")
#: The option that trains on (start, end) image pairs with a ``prompt`` describing the edit.
KONTEXT = "FluxKontextFinetune"
#: ``finetune_type``: "can be `Auto`, `Character`, `Product`, or `Style`" (prose, no enum).
FINETUNE_TYPES = ("Auto", "Character", "Product", "Style")
#: Where the trigger word is read from the answer unless the operator is told otherwise. Not documented:
#: ``id`` is the only identifying field of the route's 200 example (described as "Trigger word.").
DEFAULT_TRIGGER_WORD_FIELD = "id"


def check_create(values: Mapping[str, Any]) -> None:
    """
    Validate ``POST /finetune`` across fields: text fields, the Kontext prompt, and the training images.

    The images are files or URLs (not both: "If you upload image files, this field will be ignored"), at
    least one; an even number for ``FluxKontextFinetune`` ("images should be provided in pairs"), which
    also needs a ``prompt`` describing the edit.

    :param values: every field given, ``image_files`` included (unrendered templates are skipped)
    :raises VimmerseInputError: naming the field and what is allowed
    """
    for field in ("lora_prefix", "prompt"):
        value = values.get(field)
        if value is not None and not is_templated(value) and not isinstance(value, str):
            raise VimmerseInputError(field, f"must be text, got {type(value).__name__}")
    option = values.get("option")
    if option == KONTEXT and not values.get("prompt"):
        raise VimmerseInputError(
            "prompt", "is needed with option FluxKontextFinetune: it describes the edit from each start to end image"
        )
    check_finetune_images(as_list(values.get("image_files")), as_list(values.get("image_urls")), option)


def check_finetune_images(image_files: Sequence[Any], image_urls: Sequence[Any], option: Any) -> None:
    """
    Require the training images: files or URLs (not both: "If you upload image files, this field will be
    ignored"), at least one; an even number for ``FluxKontextFinetune`` ("images should be provided in pairs").

    :raises VimmerseInputError: naming ``image_files`` / ``image_urls``
    """
    if is_templated(option):
        return
    images = check_images(image_files, image_urls, "a finetune needs training images")
    if images is not None and option == KONTEXT and len(images) % 2:
        field = "image_files" if image_files else "image_urls"
        raise VimmerseInputError(
            field, f"FluxKontextFinetune trains on (start, end) pairs: give an even number of images, got {len(images)}"
        )


T = FieldType
#: ``POST /finetune``: train a LoRA on images (multipart: one ``image_files`` part per image, or repeated
#: ``image_urls``); spends credits (402 documented). The answer names the training by its trigger word.
CREATE = Route(
    "POST",
    "/finetune",
    "finetune",
    fields=(
        RouteField("image_files", T.FILES),
        RouteField("image_urls", T.URLS),
        RouteField("option", allowed=OPTIONS),
        RouteField("finetune_type", allowed=FINETUNE_TYPES),
        # "Number of training iterations. Defaults to 0 for Auto."
        RouteField("num_iterations", T.INT, low=0),
        RouteField("lora_prefix"),
        RouteField("prompt"),
        RouteField("webhook_url", T.URL),
    ),
    rules=check_create,
)


def trigger_word_of(body: Any, field: str = DEFAULT_TRIGGER_WORD_FIELD) -> str:
    """
    Return the trigger word from the answer of ``POST /finetune``: ``field`` of the (unwrapped) answer.

    No document names the field; the route's description only says it "returns its associated unique
    trigger word". The answer may be the object, ``{"data": object}``, or ``{"data": "word"}``.

    :param body: the decoded answer
    :param field: the answer's field holding the trigger word
    :raises VimmerseJobMayExistError: when the answer has no such text field; the message lists the fields
        it has (the training may have started and been charged, so it is not sent again)
    """
    obj = body
    while isinstance(obj, Mapping) and field not in obj and isinstance(obj.get("data"), (Mapping, str)):
        obj = obj["data"]
    if isinstance(obj, str) and obj.strip():
        return obj.strip()
    value = obj.get(field) if isinstance(obj, Mapping) else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    keys = sorted(obj) if isinstance(obj, Mapping) else type(obj).__name__
    raise VimmerseJobMayExistError(
        f"POST /finetune succeeded but its answer has no {field!r} text field (it has {keys}); no document "
        "names the field holding the trigger word, so set trigger_word_field to the one your answers use. "
        "The training may have started and been charged, so it is not sent again."
    )
