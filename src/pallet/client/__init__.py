"""An Engine API client with the engine's face: what pallet's CLI drives when the selected
context (or -H/--host, DOCKER_HOST) names another engine's socket.

`connect(host, tls)` returns a `RemoteEngine` whose `.containers`, `.images`, `.registry`,
`.networks`, `.volumes` and `.system` answer the methods the CLI's verbs call, with the
same records the local services return (a container record is Docker's inspect document,
which the local record already is), so each verb stays decode -> one call -> render
whichever engine answers: another pallet store's `system service`, or dockerd.

Layout: `transport` (h11 over unix:// or tcp://, TLS; the one place HTTP errors become
PalletErrors), `streams` (stdcopy, hijacked attach/exec relays), `create_body` (a
CreateRequest as the body `POST /containers/create` decodes back into it), one module per
noun. Sits above the services (it returns their record types) and below the CLI; imports
nothing of the local engine, so a remote verb can never act on the local store.
"""
from __future__ import annotations


def connect(host: str, tls=None, context: str = "default"):
    from .engine import RemoteEngine
    from .transport import Transport
    return RemoteEngine(Transport(host, tls), context)
