"""`docker events --filter event=...` as dockerd matches it (daemon/events/filter.go)."""
from __future__ import annotations

from types import SimpleNamespace

from pallet.services.events import EventService

ACTIONS = ["start", "health_status: healthy", "exec_create: ls -l", "exec_start: ls -l", "exec_die", "stop"]


def _matching(tmp_path, *values: str) -> list[str]:
    journal = tmp_path / f"events-{len(list(tmp_path.iterdir()))}"  # a fresh journal each time
    events = EventService(SimpleNamespace(events=journal))
    for action in ACTIONS:
        events.record("container", action, "c" * 64)
    return [doc["Action"] for doc in events.read(filters={"event": list(values)})]


def test_event_filter_matches_whole_actions(tmp_path):
    assert _matching(tmp_path, "start", "exec_die") == ["start", "exec_die"]
    assert _matching(tmp_path, "health_status: healthy") == ["health_status: healthy"]
    assert _matching(tmp_path, "sta") == []


def test_event_filter_matches_detailed_actions_by_their_name_before_the_colon(tmp_path):
    assert _matching(tmp_path, "health_status") == ["health_status: healthy"]
    assert _matching(tmp_path, "exec_create", "exec_start") == ["exec_create: ls -l", "exec_start: ls -l"]


def test_a_bare_detailed_action_makes_every_event_value_a_prefix_as_dockerd_does(tmp_path):
    # moby#25798's rule applies to all the values once one of them is such a name
    assert _matching(tmp_path, "health_status", "st") == ["start", "health_status: healthy", "stop"]
