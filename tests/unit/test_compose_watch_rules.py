"""`compose watch`'s pure parts and its file watcher, without containers: which changed
path a `develop.watch` rule concerns and where it goes in the container (docker compose v2's
watchRule.Matches), how `config` shows the rules, and the inotify watcher's batches."""
from __future__ import annotations

import os
import threading

from pallet.compose.project import Project
from pallet.compose.watch import rules
from pallet.compose.watcher import Watcher


def _project(tmp_path, develop: dict, build: dict | None = None) -> Project:
    svc = {"image": "busybox", "develop": develop}
    if build is not None:
        svc["build"] = build
    return Project("p", str(tmp_path), [], services={"app": svc})


def test_a_sync_rule_maps_changed_paths_under_its_target_and_leaves_out_what_it_ignores(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / ".dockerignore").write_text("logs\n")
    found = rules(_project(tmp_path, {"watch": [{"action": "sync", "path": "ctx", "target": "/app",
                                                  "ignore": ["node_modules/", "*.tmp"]}]},
                           {"context": str(ctx), "dockerfile": "Dockerfile"}), [], print)
    rule = found[0]
    assert rule.container_path(f"{ctx}/src/a.py") == "/app/src/a.py"
    assert rule.container_path(str(ctx)) == "/app"
    assert rule.container_path(f"{tmp_path}/other/a.py") is None           # not under the rule's path
    assert rule.container_path(f"{ctx}/node_modules/x/index.js") is None   # ignore, relative to the path
    assert rule.container_path(f"{ctx}/a.tmp") is None
    assert rule.container_path(f"{ctx}/src/b.tmp") == "/app/src/b.tmp"     # `*.tmp` is at the top only
    assert rule.container_path(f"{ctx}/logs/today") is None                # the context's .dockerignore
    assert rule.container_path(f"{ctx}/.a.py.swp") is None                 # an editor's swap file
    assert rule.container_path(f"{ctx}/.git/HEAD") is None


def test_include_keeps_only_what_it_names_and_rebuild_needs_no_target(tmp_path):
    found = rules(_project(tmp_path, {"watch": [{"action": "sync", "path": ".", "target": "/srv",
                                                  "include": ["*.html"]}]}), [], print)
    assert found[0].container_path(f"{tmp_path}/index.html") == "/srv/index.html"
    assert found[0].container_path(f"{tmp_path}/main.go") is None
    found = rules(_project(tmp_path, {"watch": [{"action": "rebuild", "path": "."}]}, {"context": str(tmp_path)}),
                  [], print)
    assert found[0].container_path(f"{tmp_path}/main.go") == ""


def test_a_sync_path_under_a_bind_mount_is_not_watched_with_compose_warning(tmp_path):
    warnings = []
    project = _project(tmp_path, {"watch": [{"action": "sync", "path": "src", "target": "/app"},
                                            {"action": "restart", "path": "src"}]})
    project.services["app"]["volumes"] = [{"type": "bind", "source": str(tmp_path), "target": "/app"}]
    found = rules(project, [], warnings.append)
    assert [r.action for r in found] == ["restart"]
    assert warnings == [f"path '{tmp_path}/src' also declared by a bind mount volume, this path won't be monitored!"]


def test_config_shows_watch_paths_absolute_and_refuses_sync_without_target(tmp_path, monkeypatch):
    from palletcli import Pallet
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    p = Pallet(tmp_path / "root", tmp_path / "run")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    image: busybox\n    develop:\n      watch:\n"
        "        - {action: sync, path: ./src, target: /app, ignore: '*.tmp'}\n")
    r = p("compose", "config", "--format", "json")
    assert r.code == 0, r.err
    import json
    assert json.loads(r.out)["services"]["app"]["develop"]["watch"] == [
        {"action": "sync", "path": f"{tmp_path}/src", "target": "/app", "ignore": ["*.tmp"]}]
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    image: busybox\n    develop:\n      watch:\n        - {action: hop, path: .}\n")
    r = p("compose", "config")
    assert r.code == 1 and 'services.app.develop.watch[0].action must be one of "rebuild", "sync"' in r.err


def test_the_watcher_reports_changes_in_new_subdirectories_in_one_batch(tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    with Watcher([str(root), str(tmp_path / "later")]) as watcher:
        batches = watcher.batches()

        def change():
            (root / "sub").mkdir()
            (root / "sub" / "a.txt").write_text("a")
            (tmp_path / "elsewhere.txt").write_text("not watched")
        threading.Thread(target=change).start()
        first = next(batches)
        assert f"{root}/sub" in first and all(p.startswith(str(root)) for p in first)
        (root / "sub" / "b.txt").write_text("b")   # the new directory is watched now
        os.remove(root / "sub" / "a.txt")
        assert next(batches) >= {f"{root}/sub/b.txt", f"{root}/sub/a.txt"}
        (tmp_path / "later").mkdir()                # a root that did not exist yet
        (tmp_path / "later" / "c.txt").write_text("c")
        found = next(batches)
        assert f"{tmp_path}/later" in found
        (tmp_path / "later" / "d.txt").write_text("d")
        last = next(batches)  # c.txt too, if a stalled host split its batch
        assert f"{tmp_path}/later/d.txt" in last and last <= {f"{tmp_path}/later/c.txt", f"{tmp_path}/later/d.txt"}
