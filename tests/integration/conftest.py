"""Fixtures of the container tests: the leak check every container test ends with."""
from __future__ import annotations

import subprocess

import pytest

from leaks import assert_store_reset_leaves_nothing
from polling import wait_for


@pytest.fixture
def no_leaks(pallet):
    """Every test ends with its containers and volumes removed, and no mount, monitor (conmon)
    or health loop of its store left behind; then `system reset` leaves nothing at all."""
    yield
    ids = pallet("ps", "-aq", "--no-trunc").lines
    if ids:
        pallet("rm", "-f", *ids)
    pallet("volume", "prune", "-a", "-f")
    with open("/proc/self/mountinfo") as f:
        leaked = [line.split()[4] for line in f
                  if str(pallet.root) in line or str(pallet.runroot) in line]
    assert leaked == [], f"mounts left behind: {leaked}"

    def nothing_left():  # a monitor may still be running its exit command for a moment
        return subprocess.run(["pgrep", "-f", f"(conmon|healthcheck).*{pallet.runroot}"],
                              capture_output=True).stdout == b""
    assert wait_for(nothing_left, 10), "conmon or health-check processes left behind"
    assert_store_reset_leaves_nothing(pallet, ids)



@pytest.fixture
def api(pallet, tmp_path):
    """`pallet system service` on the test's private store, serving until the test ends;
    `api.docker(...)` runs the installed docker CLI against it. Teardown stops the service
    and fails the test if its process or its socket outlives it."""
    from api_service import ApiService
    service = ApiService(pallet, tmp_path / "api.sock")
    try:
        yield service
    finally:
        service.stop()
