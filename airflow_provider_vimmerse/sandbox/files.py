"""The output files the sandbox serves under ``/_sandbox/files/``: one sample video, image and sound, and their URLs."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).parent / "assets"
SAMPLE_MP4 = ASSETS_DIR / "sample.mp4"
SAMPLE_PNG = ASSETS_DIR / "sample.png"
SAMPLE_MP3 = ASSETS_DIR / "sample.mp3"
#: File name extension of an asset's outputs, by MIME type.
EXTENSIONS = {"video/mp4": "mp4", "image/png": "png", "audio/mp3": "mp3"}


def file_url(base_url: str, name: str) -> str:
    """Return the URL of an output file served by the sandbox.

    :param base_url: the sandbox URL as the client sees it, without a trailing slash.
    :param name: the file name; ``.mp4`` names serve the sample video, ``.png`` the sample image, ``.mp3`` the sound.
    """
    return f"{base_url}/_sandbox/files/{name}"
