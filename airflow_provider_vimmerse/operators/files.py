"""Read the local files operators upload: paths, ``file://`` URLs and ``ObjectStoragePath``\\ s."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.api.routes import as_list
from airflow_provider_vimmerse.exceptions import VimmerseInputError

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import FilePart


def read_file(label: str, source: Any, fallback_name: str = "upload") -> tuple[str, bytes]:
    """
    Read a local file (a path, ``file://`` URL, or ``ObjectStoragePath``) for upload.

    :param label: the field it was given for, named by an error (``image_files[0]``)
    :param source: the file
    :param fallback_name: the file name to send when the source has none
    :return: the file name and its bytes
    :raises VimmerseInputError: naming the field when the file is missing or unreadable
    """
    path = _as_path(label, source)
    try:
        content = path.read_bytes()
    except (OSError, ValueError) as error:
        raise VimmerseInputError(label, f"cannot read {str(source)!r}: {error}") from None
    return getattr(path, "name", "") or fallback_name, content


def read_images(paths: Any) -> list[FilePart]:
    """
    Read image files for the ``image_files`` parts of a form (media, batch, storyboard).

    :raises VimmerseInputError: naming ``image_files[i]`` when a file is missing or unreadable
    """
    from airflow_provider_vimmerse.api.endpoints import FilePart
    from airflow_provider_vimmerse.api.fields import content_type

    parts = []
    for index, item in enumerate(as_list(paths)):
        name, content = read_file(f"image_files[{index}]", item, fallback_name=f"image{index}")
        parts.append(FilePart("image_files", name, content, content_type(name)))
    return parts


def read_image_sources(image_files: Any, image_urls: Any) -> tuple[list[FilePart], str]:
    """
    Read the ``image_files`` of an operator that takes images as files or URLs, and say what the images are.

    :param image_files: the local files to upload
    :param image_urls: the public image URLs, sent when no file is
    :return: the file parts, and the images for the log (``2 uploaded image(s)``, ``3 image URL(s)``)
    :raises VimmerseInputError: naming ``image_files[i]`` when a file is missing or unreadable
    """
    files = read_images(image_files)
    source = f"{len(files)} uploaded image(s)" if files else f"{len(as_list(image_urls))} image URL(s)"
    return files, source


def _as_path(label: str, source: Any) -> Any:
    if hasattr(source, "read_bytes"):
        return source
    if isinstance(source, str) and "://" in source and not source.startswith("file://"):
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        return ObjectStoragePath(source)
    if isinstance(source, str):
        return Path(source.removeprefix("file://"))
    if isinstance(source, os.PathLike):
        return Path(os.fspath(source))
    raise VimmerseInputError(label, f"must be a URL, a path or an ObjectStoragePath, got {type(source).__name__}")
