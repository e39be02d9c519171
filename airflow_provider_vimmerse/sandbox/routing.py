"""The one way to define an API route of the sandbox: :func:`api_route`.

A route is declared with its method, its path (as the documents write it), the kind of job its path names, how
it reads its body and how many ``data`` wrappers its answer has. :func:`api_route` then does, for every route:

1. look up the job of that kind, or answer the documented 404 (and tell the ledger which job was touched);
2. read the body and validate it against the route's documented schema (:mod:`~.bodies`; 422 when invalid,
   400 when it lacks what the route needs);
3. call the handler with a :class:`Call`, which charges the route's price (:mod:`~.pricing`) when asked;
4. wrap whatever the handler returns as the documents show (``{"data": ...}``, twice, or bare).

The API key, faults and the ledger entry itself are handled by :mod:`~.middleware`.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_vimmerse.sandbox import bodies, pricing
from airflow_provider_vimmerse.sandbox.bodies import NO_BODY, Body
from airflow_provider_vimmerse.sandbox.middleware import INFO_SCOPE_KEY
from airflow_provider_vimmerse.sandbox.state import GroupJob, Job, SandboxSettings, SandboxState

router = APIRouter()

#: How many ``data`` wrappers an answer gets: a number, or one read from the settings (documents that disagree).
Wrap = int | Callable[[SandboxSettings], int]
Handler = Callable[..., Awaitable[Any]]


def get_state(request: Request) -> SandboxState:
    """Return the sandbox state of the app serving a request.

    :param request: the incoming request.
    """
    return cast(SandboxState, request.app.state.sandbox)


def base_url(request: Request) -> str:
    """Return the sandbox URL as the client sees it, without a trailing slash.

    :param request: the incoming request.
    """
    return str(request.base_url).rstrip("/")


def wrapped(obj: Any, times: int = 1) -> JSONResponse:
    """Return an answer that wraps the object as ``{"data": {...}}`` (or twice, or not at all).

    :param obj: the object.
    :param times: how many ``data`` wrappers.
    """
    for _ in range(times):
        obj = {"data": obj}
    return JSONResponse(obj)


@dataclass
class Call:
    """One API request being answered: the state, the route, the job its path names and its validated body.

    :param request: the incoming request.
    :param method: the route's method.
    :param path: the route's path template.
    """

    request: Request
    method: str
    path: str
    job: Any = None
    body: Body = NO_BODY
    credits: int = 0
    touched: Job | None = None
    created: bool = False
    state: SandboxState = field(init=False)
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.state = get_state(self.request)
        self.url = base_url(self.request)

    def note(self, job: Job | None, created: bool = False) -> None:
        """Tell the ledger which job the request touched and whether it created or restarted it.

        :param job: the job, or None.
        :param created: whether the request created or restarted the job.
        """
        self.touched, self.created = job, created
        self._record()

    def pay(self) -> Response | None:
        """Charge the route's price (:data:`~.pricing.PRICES`); return the 402 answer when the balance cannot.

        A batch or story adds the price to its ``used_credits``.
        """
        cost = pricing.price(self.method, self.path, self.body, self.job)
        if not self.state.try_charge(cost):
            return self.error(402, "INSUFFICIENT_CREDIT")
        self.credits = cost
        if isinstance(self.job, GroupJob):
            self.job.used_credits += cost
        self._record()
        return None

    def _record(self) -> None:
        info = self.request.scope.get(INFO_SCOPE_KEY)
        if info is not None:
            job_id = self.touched.id if self.touched is not None else None
            info.update({"job_id": job_id, "created": self.created, "credits": self.credits})

    def error(self, status: int, message: str, code: str | None = None) -> JSONResponse:
        """Return an API error body ``{"message": ...}`` (openapi.json error examples, ``FailureResponseModel``).

        With ``settings.error_code_field`` the body also has ``code`` (README.md's
        ``{"message": "...", "code": "MEDIA_NOT_FOUND"}``; no API document shows it).

        :param status: the HTTP status.
        :param message: the error message.
        :param code: the machine-readable code; default the message.
        """
        body = {"message": message}
        if self.state.settings.error_code_field:
            body["code"] = code or message
        return JSONResponse(body, status_code=status)

    def bad_request(self, message: str) -> JSONResponse:
        """Return a 400 answer; ``FailureResponseModel`` allows any message, so it says what is wrong.

        :param message: what is wrong with the request.
        """
        return self.error(400, message, "BAD_REQUEST")


def not_found(call: Call) -> Response:
    """Return the 404 of an unknown job: ``{"message": "NOT_FOUND"}`` (openapi.json 404 examples).

    :param call: the request.
    """
    return call.error(404, "NOT_FOUND")


def api_route(
    method: str,
    path: str,
    *,
    kind: str | None = None,
    body: str | None = None,
    wrap: Wrap = 1,
    missing: Callable[[Call], Response] = not_found,
) -> Callable[[Handler], Handler]:
    """Register a handler as an API route; stack several to serve more than one path or method.

    The handler is ``async def handler(call: Call, **query) -> Response | object``: a :class:`Response` is sent
    as it is, anything else is wrapped ``wrap`` times in ``{"data": ...}``. Its other parameters are read from
    the query string (or the path) by FastAPI, as in any FastAPI route.

    :param method: the HTTP method.
    :param path: the path, as the documents write it (``/media/{media_id}``): the key of its documented schema
        and of its price.
    :param kind: the kind of job the last path parameter names (``media``, ``batch``, ``story``, ``asset``).
    :param body: how the body is read (:data:`~.bodies.FORM`, :data:`~.bodies.JSON`, :data:`~.bodies.EITHER`);
        None for a route that reads none.
    :param wrap: how many ``data`` wrappers the answer has, or a function of the settings that says.
    :param missing: the answer when the job does not exist; default :func:`not_found`.
    """
    id_name = re.findall(r"{(\w+)}", path)[-1] if kind is not None else ""

    def register(handler: Handler) -> Handler:
        async def endpoint(request: Request, **query: Any) -> Response:
            call = Call(request, method, path)
            if kind is not None:
                call.job = call.state.find(kind, request.path_params[id_name])
                if call.job is None:
                    return missing(call)
                call.note(call.job)
            if body is not None:
                call.body = await bodies.read_body(request, method, path, body)
                lacking = bodies.problem(method, path, call.body)
                if lacking is not None:
                    return call.bad_request(lacking)
            answer = await handler(call, **query)
            if isinstance(answer, Response):
                return answer
            return wrapped(answer, wrap(call.state.settings) if callable(wrap) else wrap)

        hints = typing.get_type_hints(handler)
        query_params = [
            param.replace(annotation=hints.get(param.name, param.annotation))
            for param in list(inspect.signature(handler).parameters.values())[1:]
        ]
        request_param = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
        endpoint.__signature__ = inspect.Signature([request_param, *query_params])  # type: ignore[attr-defined]
        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        router.add_api_route(path, endpoint, methods=[method])
        return handler

    return register
