"""Command line entry point: ``vimmerse-sandbox --port 8099 --api-key KEY --job-seconds 5``.

Every :class:`~.state.SandboxSettings` field with a ``help`` in its metadata is a flag, e.g.
``--stale-success-seconds 0 --media-outputs result --story-wrapping twice``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import signal
import threading
from types import FrameType

from airflow_provider_vimmerse.sandbox.server import SandboxServer
from airflow_provider_vimmerse.sandbox.state import DEFAULT_API_KEY, SandboxSettings


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``vimmerse-sandbox``: the server's flags, then one flag per setting."""
    defaults = SandboxSettings()
    parser = argparse.ArgumentParser(
        prog="vimmerse-sandbox",
        description="Run a local fake of the Vimmerse Platform API (no real key, no internet).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8099, help="port, 0 for any free one (default: %(default)s)")
    parser.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        metavar="KEY",
        help=f"accepted X-Api-Key value; repeat for several (default: {DEFAULT_API_KEY})",
    )
    for setting in _flag_settings():
        flag = "--" + setting.name.replace("_", "-")
        default = getattr(defaults, setting.name)
        help_text = setting.metadata["help"] + " (default: %(default)s)"
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        elif "choices" in setting.metadata:
            parser.add_argument(flag, choices=setting.metadata["choices"], default=default, help=help_text)
        else:
            parser.add_argument(flag, type=type(default), default=default, help=help_text)
    parser.add_argument("--ssl-certfile", help="certificate file, to serve HTTPS")
    parser.add_argument("--ssl-keyfile", help="key file of the certificate")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until Ctrl-C or SIGTERM.

    :param argv: the command line arguments; default ``sys.argv[1:]``.
    """
    args = build_parser().parse_args(argv)
    settings = SandboxSettings(
        api_keys=args.api_keys or [DEFAULT_API_KEY],
        **{setting.name: getattr(args, setting.name) for setting in _flag_settings()},
    )
    server = SandboxServer(
        settings,
        host=args.host,
        port=args.port,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        log_level=args.log_level,
        access_log=args.log_level == "debug" or args.log_level == "info",
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    server.start()
    print(f"Vimmerse sandbox running at {server.url}", flush=True)
    if not args.api_keys:
        print(f"Send the header X-Api-Key: {DEFAULT_API_KEY} (the default sandbox key).", flush=True)
    print("\n".join(connection_lines(server.url, settings.api_keys[0])), flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def connection_lines(url: str, api_key: str) -> list[str]:
    """
    Return what a user runs to point Airflow's ``vimmerse_default`` connection at the sandbox, ready to paste.

    :param url: the sandbox's base URL
    :param api_key: a key the sandbox takes (a sandbox key, never a real one)
    """
    connection = json.dumps({"conn_type": "vimmerse", "host": url, "password": api_key})
    return [
        "Point Airflow's vimmerse_default connection at it, in the shell that runs Airflow:",
        f"  export AIRFLOW_CONN_VIMMERSE_DEFAULT={shlex.quote(connection)}",
        "or store it in Airflow's database:",
        f"  airflow connections add vimmerse_default --conn-json {shlex.quote(connection)}",
    ]


def _flag_settings() -> list[dataclasses.Field[object]]:
    # The settings with a help text; each one is a flag (``--job-seconds``, ``--media-outputs``, ...).
    return [setting for setting in dataclasses.fields(SandboxSettings) if "help" in setting.metadata]


if __name__ == "__main__":
    raise SystemExit(main())
