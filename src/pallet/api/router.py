"""Routes, API versions, and the one place where errors become HTTP answers.

Owns: the /v1.NN/ prefix (1.24 to 1.50, as dockerd negotiates; an unversioned
path is the newest), the route table gathered from the endpoint modules, and
`dispatch`, which turns a PalletError into its class's status and Docker's
{"message": ...} body. Anything else a handler raises is a bug: a 500 with one
line, the traceback on the service's stderr, and the server goes on.
"""
from __future__ import annotations

import re
import sys
import traceback
from urllib.parse import unquote

from ..errors import NotModified, PalletError
from .wire import Request, Response, json_response

API_VERSION = "1.50"
MIN_API_VERSION = "1.24"
_VERSIONED = re.compile(r"^/v(\d+\.\d+)(/.*)$")
MODULES = ("system", "containers", "archive", "execs", "images", "build", "networks", "volumes", "swarm")


def _vtuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


class VersionUnsupported(PalletError):
    status = 400


_SPOKEN: set[str] = set()  # versions checked before: every request names one


def split_version(path: str) -> tuple[str, str]:
    """(api version, path without its prefix); dockerd's words for one it does not speak."""
    m = _VERSIONED.match(path)
    if not m:
        return API_VERSION, path
    version, rest = m.group(1), m.group(2)
    if version in _SPOKEN:
        return version, rest
    if _vtuple(version) < _vtuple(MIN_API_VERSION):
        raise VersionUnsupported(f"client version {version} is too old. Minimum supported API version is "
                                 f"{MIN_API_VERSION}, please upgrade your client to a newer version")
    if _vtuple(version) > _vtuple(API_VERSION):
        raise VersionUnsupported(f"client version {version} is too new. Maximum supported API version "
                                 f"is {API_VERSION}")
    _SPOKEN.add(version)
    return version, rest


class Router:
    def __init__(self, service):
        self.service = service
        self.routes: list[tuple[str, re.Pattern, object]] = []
        for name in MODULES:
            module = __import__(f"pallet.api.{name}", fromlist=["ROUTES"])
            for method, pattern, handler in module.ROUTES:
                self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def find(self, method: str, path: str):
        allowed = False
        for m, pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                if m == method or (m == "GET" and method == "HEAD"):
                    return handler, match.groupdict()
                allowed = True
        return None, allowed

    def quick(self, event) -> tuple | None:
        """(handler, its path parameters) when an h11 request's route is marked `quick` (see
        wire.quick): the service's loop answers it without a thread. None otherwise."""
        path, _, query = event.target.decode("latin-1").partition("?")
        try:
            _, path = split_version(unquote(path, errors="replace"))
        except PalletError:
            return None
        handler, found = self.find(event.method.decode("latin-1"), path)
        when = getattr(handler, "quick", None)
        if when is None or not when(query):
            return None
        return handler, found

    def dispatch(self, req: Request, engine, route: tuple | None = None) -> Response:
        """The handler's answer; `route` is what `quick` found for this request."""
        try:
            req.api_version, req.path = split_version(req.path)
            handler, found = route or self.find(req.method, req.path)
            if handler is None:
                return json_response({"message": "page not found"}, 404 if not found else 405)
            return handler(self.service, req, **found)
        except PalletError as exc:
            return error_response(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the service down
            traceback.print_exc(file=sys.stderr)
            return json_response({"message": f"internal error: {type(exc).__name__}: {exc}"}, 500)


def error_response(exc: PalletError) -> Response:
    """The one mapping from the exception tree to the wire (304 has no body)."""
    if isinstance(exc, NotModified):
        return Response(304)
    return json_response({"message": str(exc)}, exc.status)


def error_event(exc: BaseException) -> dict:
    """An error inside a JSON progress stream (pull, push, build, load), as dockerd writes it."""
    message = str(exc) if isinstance(exc, PalletError) else f"internal error: {exc}"
    detail = {"message": message}
    # dockerd's JSONError carries a code only for a failed RUN step (its exit code, which the
    # docker CLI exits with): the one error given its own exit_code, not its class's
    code = vars(exc).get("exit_code")
    if code:
        detail = {"code": code, "message": message}
    return {"errorDetail": detail, "error": message}
