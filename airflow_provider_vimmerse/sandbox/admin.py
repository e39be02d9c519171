"""Sandbox-only routes under ``/_sandbox/``: control, inspection, output files, redirect and echo.

None of them needs an API key and none of them is recorded in the ledger or subject to faults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from airflow_provider_vimmerse.sandbox.bodies import read_json
from airflow_provider_vimmerse.sandbox.files import SAMPLE_MP3, SAMPLE_MP4, SAMPLE_PNG
from airflow_provider_vimmerse.sandbox.routing import base_url, get_state
from airflow_provider_vimmerse.sandbox.state import SandboxState
from airflow_provider_vimmerse.sandbox.timing import Shown, group_state, media_state, run_state
from airflow_provider_vimmerse.sandbox.views import asset_view, group_view, media_view

router = APIRouter(prefix="/_sandbox")

BIG_FILE_NAME = "big.bin"
BINARY_TYPE = "application/octet-stream"
BIG_FILE_CHUNK = bytes(range(256)) * 256  # 64 KiB
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
ECHO_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ECHO_BODY_LIMIT = 65536


def state_view(state: SandboxState) -> dict[str, Any]:
    """Return the settings (API keys hidden), the credit balance and the fault rules.

    :param state: the sandbox state.
    """
    return {
        "settings": state.settings.public_dict(),
        "credits": state.balance,
        "faults": [rule.to_dict() for rule in state.faults],
    }


@router.post("/reset")
async def reset(request: Request) -> Response:
    """Forget every job, ledger entry, fault and webhook; restore the start settings and credits."""
    state = get_state(request)
    state.reset()
    return JSONResponse(state_view(state))


@router.post("/config")
async def configure(request: Request) -> Response:
    """Change settings from a JSON object of :class:`~.state.SandboxSettings` fields."""
    state = get_state(request)
    try:
        state.configure(**await read_json(request))
    except ValueError as exc:
        return JSONResponse({"message": str(exc)}, status_code=400)
    return JSONResponse(state_view(state))


@router.get("/state")
async def show_state(request: Request) -> Response:
    """Return the settings, credit balance and fault rules."""
    return JSONResponse(state_view(get_state(request)))


@router.get("/ledger")
async def show_ledger(request: Request, path: str | None = None, method: str | None = None) -> Response:
    """Return the ledger, optionally only the entries with exactly this path and/or method."""
    entries = list(get_state(request).ledger)
    if path is not None:
        entries = [entry for entry in entries if entry["path"] == path]
    if method is not None:
        entries = [entry for entry in entries if entry["method"] == method.upper()]
    return JSONResponse(entries)


@router.get("/ledger/summary")
async def summarize_ledger(request: Request) -> Response:
    """Return request counts by method and route (ids replaced by ``{id}``), for load tests with big ledgers."""
    counts: dict[str, int] = {}
    for entry in get_state(request).ledger:
        route = "/".join("{id}" if _looks_like_id(part) else part for part in entry["path"].split("/"))
        key = f"{entry['method']} {route}"
        counts[key] = counts.get(key, 0) + 1
    return JSONResponse({"requests": len(get_state(request).ledger), "by_route": counts})


def _looks_like_id(part: str) -> bool:
    return len(part) >= 16 and any(ch.isdigit() for ch in part)


@router.get("/jobs")
async def show_jobs(request: Request) -> Response:
    """Return every job with its kind, status, planned outcome and API object."""
    state = get_state(request)
    url = base_url(request)
    now = state.clock()
    jobs: list[dict[str, Any]] = []
    with state.lock:
        for media in state.media.values():
            obj = media_view(state, media, url, now)
            jobs.append(_job_entry("media", media.id, media_state(state, media, now), media.outcome, media.run, obj))
        for group in state.groups.values():
            obj = group_view(state, group, url, now)
            jobs.append(_job_entry(group.kind, group.id, group_state(state, group, now), group.outcome, group.run, obj))
        for asset in state.assets.values():
            obj = asset_view(state, asset, url, now)
            jobs.append(_job_entry("asset", asset.id, run_state(state, asset, now), asset.outcome, asset.run, obj))
    return JSONResponse(jobs)


def _job_entry(kind: str, job_id: str, shown: Shown, outcome: str, run: int, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": job_id,
        "status": shown.status,
        "progress_percentage": shown.progress,
        "outcome": outcome,
        "run": run,
        "object": obj,
    }


@router.get("/webhooks")
async def show_webhooks(request: Request) -> Response:
    """Return every webhook delivery: url, payload, the receiver's status or the error."""
    return JSONResponse(list(get_state(request).webhooks))


@router.get("/faults")
async def list_faults(request: Request) -> Response:
    """Return the fault rules and how often each was applied."""
    return JSONResponse([rule.to_dict() for rule in get_state(request).faults])


@router.post("/faults")
async def add_fault(request: Request) -> Response:
    """Add one fault rule (JSON, see :mod:`~.faults`)."""
    try:
        rule = get_state(request).add_fault(await read_json(request))
    except ValueError as exc:
        return JSONResponse({"message": str(exc)}, status_code=400)
    return JSONResponse(rule.to_dict())


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    """Remove every fault rule."""
    get_state(request).clear_faults()
    return JSONResponse({"faults": []})


@router.get("/redirect")
async def redirect(to: str, status: int = 307) -> Response:
    """
    Answer a redirect to ``to``, sent as given (to test that clients drop the API key when the origin changes).

    ``Location`` is not escaped: a test can send what a hostile server would (``//evil\\@api/x``).
    """
    if status not in REDIRECT_STATUSES:
        return JSONResponse({"message": f"status must be one of {REDIRECT_STATUSES}"}, status_code=400)
    return Response(status_code=status, headers={"Location": to})


@router.api_route("/echo", methods=ECHO_METHODS)
async def echo(request: Request) -> Response:
    """Answer with the request as received: method, path, query, lower-cased headers and body text."""
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": body[:ECHO_BODY_LIMIT].decode("utf-8", errors="replace"),
        }
    )


@router.api_route("/files/{name}", methods=["GET", "HEAD"])
async def serve_file(name: str, size: int = Query(default=1048576, ge=0, le=1 << 40)) -> Response:
    """Serve output files: any ``.mp4`` is the sample video, ``.png`` the sample image, ``.mp3`` the sample sound.

    ``big.bin?size=N`` streams N generated bytes with a ``Content-Length``, in constant memory.
    """
    if name == BIG_FILE_NAME:
        headers = {"Content-Length": str(size)}
        return StreamingResponse(_generated_bytes(size), media_type=BINARY_TYPE, headers=headers)
    if name.endswith(".mp4"):
        return FileResponse(SAMPLE_MP4, media_type="video/mp4")
    if name.endswith(".png"):
        return FileResponse(SAMPLE_PNG, media_type="image/png")
    if name.endswith(".mp3"):
        return FileResponse(SAMPLE_MP3, media_type="audio/mpeg")
    return JSONResponse({"message": "FILE_NOT_FOUND", "code": "FILE_NOT_FOUND"}, status_code=404)


async def _generated_bytes(size: int) -> AsyncIterator[bytes]:
    remaining = size
    while remaining > 0:
        chunk = BIG_FILE_CHUNK if remaining >= len(BIG_FILE_CHUNK) else BIG_FILE_CHUNK[:remaining]
        remaining -= len(chunk)
        yield chunk
