"""Swarm, services, nodes, tasks, secrets, configs: answered as an inactive-swarm dockerd
answers them (503, its words); plugins: an empty list."""
from __future__ import annotations

from .wire import json_response

NOT_SWARM = ("This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" "
             "to connect this node to swarm and try again.")


def not_a_manager(service, req, **_):
    return json_response({"message": NOT_SWARM}, 503)


def plugins(service, req):
    return json_response([])


_NOUNS = r"(?:swarm|services|nodes|tasks|secrets|configs)"
ROUTES = [(m, rf"/{_NOUNS}(?:/.*)?", not_a_manager) for m in ("GET", "POST", "DELETE", "PUT")] + [
    ("GET", "/plugins", plugins),
]
