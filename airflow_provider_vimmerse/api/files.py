"""
Naming downloaded files safely.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import re
from email.message import Message
from urllib.parse import unquote, urlsplit

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


def safe_filename(name: str | None, fallback: str) -> str:
    """
    Return a file name that cannot leave the destination folder.

    Directories, ``..``, leading dots and characters outside ``A-Za-z0-9._-`` are removed; an empty
    result becomes ``fallback``.

    :param name: a name proposed by the server or taken from a URL
    :param fallback: the name to use when nothing safe is left (must itself be safe)
    """
    base = unquote(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip("._-")
    base = base.replace("..", "_")
    if not base:
        return fallback
    if len(base) > _MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: _MAX_NAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 8 else base[:_MAX_NAME]
    return base


def filename_from_response(content_disposition: str | None, url: str, fallback: str) -> str:
    """Return a safe file name from ``Content-Disposition``, else from the URL path, else ``fallback``."""
    if content_disposition:
        message = Message()
        message["content-disposition"] = content_disposition
        proposed = message.get_filename()
        if proposed:
            return safe_filename(proposed, fallback)
    path = urlsplit(url).path
    return safe_filename(path.rsplit("/", 1)[-1] if path else None, fallback)
