"""The container lifecycle's one seam: plug-ins hear every event in the order the Engine
registered them, so networks, volumes, health, restart and logs keep Docker's order
(the network exists before the process starts, the health loop ends with it) without
the lifecycle or each other knowing them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pallet.services.containers.hooks import ContainerHooks, Plugin, standard_hooks

SRC = str(Path(__file__).resolve().parents[2] / "src")


class _Recorder(Plugin):
    def __init__(self, name, heard):
        self.name, self.heard = name, heard

    def on_create(self, svc, record, req, image_config):
        self.heard.append(("create", self.name))

    def on_prepare(self, svc, record, parts):
        parts[self.name] = True

    def on_start(self, svc, record):
        return {**record, "seen": [*record.get("seen", []), self.name]}

    def on_stop(self, svc, cid):
        self.heard.append(("stop", self.name))


def test_plugins_hear_each_lifecycle_event_in_registration_order():
    heard: list = []
    hooks = ContainerHooks([_Recorder("net", heard), _Recorder("health", heard)])
    hooks.on_create(None, {}, None, {})
    hooks.on_stop(None, "c1")
    hooks.on_exit(None, "c1")               # neither plug-in cares: nothing happens
    hooks.on_remove(None, {}, volumes=True)
    assert heard == [("create", "net"), ("create", "health"), ("stop", "net"), ("stop", "health")]
    assert hooks.on_prepare(None, {}) == {"net": True, "health": True}
    assert hooks.on_start(None, {"Id": "c1"})["seen"] == ["net", "health"]  # each sees the last's record


def test_standard_plugins_keep_dockers_order():
    names = [type(p).__name__ for p in standard_hooks(networks=None, volumes=None).plugins]
    # volumes recorded before the network is checked; the sandbox before volume copy-up;
    # a pending restart ended before the health loop starts, the log rotator last
    assert names == ["VolumesPlugin", "LimitsPlugin", "NetworkPlugin", "VolumeMountsPlugin",
                     "RestartPlugin", "HealthPlugin", "LogRotationPlugin"]


def test_the_seam_imports_nothing_every_run_does_not_need():
    code = ("import sys; sys.path.append(%r); before = set(sys.modules)\n"
            "import pallet.services.containers.hooks as h; h.standard_hooks(None, None)\n"
            "print(sorted(m for m in set(sys.modules) - before if m.startswith('pallet')))" % SRC)
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(["pallet", "pallet.services", "pallet.services.containers",
                                      "pallet.services.containers.hooks"])
