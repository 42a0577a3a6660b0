"""Which requests the API service's loop answers itself (routes marked `quick`): reads of the
store that return at once. Everything that streams, hijacks, waits or writes gets a thread."""
from __future__ import annotations

import h11
import pytest

from pallet.api.router import Router


class _NoService:
    pass


def _request(method: str, target: str) -> h11.Request:
    return h11.Request(method=method, target=target, headers=[("Host", "x")])


@pytest.fixture(scope="module")
def router():
    return Router(_NoService())


@pytest.mark.parametrize("method,target", [
    ("GET", "/_ping"), ("HEAD", "/_ping"), ("GET", "/v1.50/version"),
    ("GET", "/v1.44/containers/json?all=1"), ("GET", "/containers/abc/json"),
    ("GET", "/images/json"), ("GET", "/images/busybox:latest/json"), ("GET", "/exec/abc/json"),
])
def test_quick_reads_are_answered_by_the_loop(router, method, target):
    assert router.quick(_request(method, target)) is not None


@pytest.mark.parametrize("method,target", [
    ("GET", "/containers/json?all=1&size=1"),  # measures every container's layer: slow
    ("POST", "/containers/abc/wait?condition=removed"), ("POST", "/containers/abc/attach?stream=1"),
    ("GET", "/containers/abc/logs?follow=1"), ("GET", "/events"), ("GET", "/containers/abc/stats"),
    ("POST", "/containers/create"), ("POST", "/containers/abc/start"), ("POST", "/exec/abc/start"),
    ("POST", "/images/create?fromImage=busybox"), ("POST", "/build"), ("GET", "/info"),
    ("GET", "/v1.99/containers/json"),  # refused in dockerd's words, by the thread that answers
    ("GET", "/nosuch"),
])
def test_anything_that_may_block_or_write_gets_a_thread(router, method, target):
    assert router.quick(_request(method, target)) is None
