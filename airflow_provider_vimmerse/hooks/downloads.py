"""
An output file written into a folder: streamed, complete or not at all, never over another output.

:meth:`VimmerseHook.download <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.download>` opens
the answer (:meth:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.open_download`) and
:func:`save_into` writes it: under a temporary name, renamed only when complete. The folder may be local
or object storage (:func:`as_folder`). ``requests`` and ``urllib3`` are imported only when a file is saved.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.api.responses import error_from_response
from airflow_provider_vimmerse.api.urls import path_of
from airflow_provider_vimmerse.exceptions import VimmerseConnectionError, VimmerseResponseError

if TYPE_CHECKING:
    import requests


@dataclass(frozen=True)
class SavedFile:
    """
    A file written into a folder.

    :param path: where it is (a ``Path`` or an ``ObjectStoragePath``)
    :param name: its file name
    :param size: bytes written
    """

    path: Any
    name: str
    size: int


def save_into(
    folder: Any,
    url: str,
    open_answer: Callable[[], requests.Response],
    *,
    fallback_name: str,
    chunk_size: int,
    taken: set[str] | None,
) -> SavedFile:
    """
    Stream the answer to a GET of ``url`` into ``folder`` and return the written file.

    Memory stays flat whatever the file size. The file is written under a temporary name and
    renamed only when complete and its size matches ``Content-Length``; on any failure the
    partial file is removed.

    :param folder: an existing folder (see :func:`as_folder`)
    :param url: the file's URL, for its name and for errors (only its path is shown)
    :param open_answer: send the GET and return the answer unread (streamed)
    :param fallback_name: file name when the server proposes none (sanitized anyway)
    :param chunk_size: bytes read at a time
    :param taken: file names already written by this task (see :func:`unused_name`)
    :raises VimmerseConnectionError: when the transfer breaks off
    :raises VimmerseResponseError: when fewer bytes arrive than announced
    """
    import requests
    import urllib3

    from airflow_provider_vimmerse.api.files import filename_from_response

    describe = f"GET {path_of(url)}"
    partial = None
    try:
        with open_answer() as response:
            if response.status_code >= 400:
                raise error_from_response(
                    method="GET", path=path_of(url), status=response.status_code, body=response.content[:2000]
                )
            name = filename_from_response(response.headers.get("Content-Disposition"), response.url, fallback_name)
            name = unused_name(name, taken)
            target = folder / name
            partial = folder / f".{name}.part"
            response.raw.decode_content = True  # undo a Content-Encoding, as iter_content would
            with partial.open("wb") as out:
                # copyfileobj on the raw stream keeps pace with curl; iter_content ran at half of it
                shutil.copyfileobj(response.raw, out, chunk_size)
                written = out.tell()
            encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
            expected = None if encoded else response.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and int(expected) != written:
            raise VimmerseResponseError(f"{describe}: got {written} bytes of {expected}; the partial file was removed")
    except BaseException as error:
        if partial is not None and partial.exists():
            partial.unlink()
        if isinstance(error, (requests.exceptions.RequestException, urllib3.exceptions.HTTPError)):
            raise VimmerseConnectionError(f"{describe}: download failed ({type(error).__name__})", sent=True) from None
        raise
    if target.exists():
        target.unlink()
    partial.rename(target)
    return SavedFile(target, name, written)


def unused_name(name: str, taken: set[str] | None) -> str:
    """Return ``name``, or ``<stem>-<n><suffix>`` when ``taken`` already holds it; record the name in ``taken``."""
    if taken is None:
        return name
    stem, dot, suffix = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}{dot}{suffix}"
    taken.add(candidate)
    return candidate


def as_folder(destination: Any) -> Any:
    """Return a local ``Path`` or an ``ObjectStoragePath`` for a destination folder."""
    from pathlib import Path

    if hasattr(destination, "open") and hasattr(destination, "mkdir"):
        return destination
    text = str(destination)
    if "://" in text and not text.startswith("file://"):
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        return ObjectStoragePath(text)
    return Path(text.removeprefix("file://"))
