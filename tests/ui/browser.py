"""
Headless Chromium for the UI tests: Debian's ``chromium`` package driven by Playwright, with screenshots.

Playwright never downloads a browser here; it drives the distribution's Chromium at ``/usr/bin/chromium``.
When that is missing, :func:`chromium_executable` installs the ``chromium`` package with apt-get if the
tests run as root (any machine, CI included; no terminal needed). Otherwise it raises
:class:`ChromiumUnavailable` saying why and which command installs it, and the tests skip with that message.

The browser is launched with flags that keep it off the network (only loopback is used) and with a fresh,
empty profile (Playwright gives every ``launch()`` its own temporary user-data directory).

:class:`Screenshots` writes PNG files into ``test-artifacts/ui/`` at the repository root (git-ignored), so
CI can keep them as artifacts and a person can see what each check looked at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tests.cluster import apt_install

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
INSTALL_COMMAND = "sudo apt-get install -y chromium"

#: Headless, no sandbox (containers run as root), and none of Chromium's own traffic (updates, sync,
#: safe browsing...): on a closed network those connections are refused, many at a time.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APT_TIMEOUT = 900


class ChromiumUnavailable(RuntimeError):
    """Raised when Chromium is not installed and cannot be installed by the tests."""


def chromium_executable() -> Path:
    """
    Return Debian's Chromium, installing the ``chromium`` package first when it is missing and we are root.

    :raises ChromiumUnavailable: when it is missing and cannot be installed here; the message says why
        and which command installs it
    """
    if _usable(CHROMIUM):
        return CHROMIUM
    if os.geteuid() != 0:
        raise ChromiumUnavailable(
            f"{CHROMIUM} is not installed and the tests do not run as root, so they cannot install it; "
            f"install Debian's chromium package with `{INSTALL_COMMAND}` (the tests install it themselves "
            "when run as root, as on CI)"
        )
    if shutil.which("apt-get") is None:
        raise ChromiumUnavailable(
            f"{CHROMIUM} is not installed and this machine has no apt-get to install it; the UI tests need "
            "Debian's chromium package (`apt-get install -y chromium`)"
        )
    output = _apt_install("chromium")
    if not _usable(CHROMIUM):
        raise ChromiumUnavailable(f"`apt-get install -y chromium` did not install {CHROMIUM}:\n{output[-2000:]}")
    return CHROMIUM


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _apt_install(package: str) -> str:
    """Install one Debian package (see :func:`tests.cluster.apt_install`); return apt-get's output."""
    try:
        result = apt_install(package, timeout=APT_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise ChromiumUnavailable(f"`apt-get install -y {package}` did not finish in {APT_TIMEOUT} s") from error
    if result.returncode != 0:
        raise ChromiumUnavailable(
            f"`apt-get install -y {package}` failed (exit {result.returncode}):\n"
            f"{result.stdout[-1500:]}{result.stderr[-2500:]}"
        )
    return result.stdout + result.stderr


def launch(playwright: Playwright, executable: Path) -> Browser:
    """
    Start headless Chromium through Playwright (a fresh temporary profile, loopback only).

    :param playwright: a started Playwright
    :param executable: the Chromium binary (see :func:`chromium_executable`)
    """
    return playwright.chromium.launch(
        executable_path=str(executable), args=CHROMIUM_ARGS, headless=True, timeout=120_000
    )


class Screenshots:
    """
    Screenshots as test artifacts, in ``test-artifacts/ui/`` (emptied of old PNGs when created).

    :param folder: where the PNG files go
    """

    def __init__(self, folder: Path = ARTIFACTS) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.taken: list[Path] = []

    def take(self, page: Page, name: str, *, full_page: bool = False) -> Path:
        """
        Save what ``page`` shows as ``<name>.png`` and return the file.

        :param page: the page
        :param name: the file name without ``.png``
        :param full_page: the whole scrollable page instead of the viewport
        """
        path = self.folder / f"{name}.png"
        # Finite CSS animations (a notification sliding in) are run to their end first.
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        self.taken.append(path)
        return path

    @contextlib.contextmanager
    def around(self, page: Page, name: str, *, full_page: bool = False) -> Iterator[None]:
        """Take the screenshot when the block ends, also when a check in it failed (to see why)."""
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a screenshot must not hide the failure itself
                self.take(page, name, full_page=full_page)
