"""Reading conmon's k8s-file logs as ``docker logs`` selects them (files written here)."""
from __future__ import annotations

from datetime import datetime, timezone

from pallet.runtime.logs import LogRecord, parse_time, read_logs

LOG = (b"2023-01-01T00:00:01.000000001+00:00 stdout F first\n"
       b"2023-01-01T00:00:02.500000000+00:00 stderr P par\n"
       b"2023-01-01T00:00:02.600000000+00:00 stdout F second\n"
       b"2023-01-01T00:00:02.700000000+00:00 stderr F tial\n"
       b"2023-01-01T00:00:03.000000000+00:00 stdout F \n"
       b"2023-01-01T00:00:04.000000000+00:00 stdout P no newline\n")


def write(tmp_path, data=LOG):
    path = tmp_path / "ctr.log"
    path.write_bytes(data)
    return path


def at(seconds: float) -> datetime:
    return datetime(2023, 1, 1, tzinfo=timezone.utc).fromtimestamp(
        datetime(2023, 1, 1, tzinfo=timezone.utc).timestamp() + seconds, timezone.utc)


def test_logs_join_partial_lines_and_keep_streams_apart(tmp_path):
    records = list(read_logs(write(tmp_path)))
    assert [(r.stream, r.data) for r in records] == [
        ("stdout", b"first\n"), ("stdout", b"second\n"), ("stderr", b"partial\n"),
        ("stdout", b"\n"), ("stdout", b"no newline")]


def test_logs_tail_keeps_the_last_records(tmp_path):
    records = list(read_logs(write(tmp_path), tail=2))
    assert [r.data for r in records] == [b"\n", b"no newline"]
    assert list(read_logs(write(tmp_path), tail=0)) == []


def test_logs_since_and_until_select_by_time(tmp_path):
    records = list(read_logs(write(tmp_path), since=at(2), until=at(3)))
    assert [r.data for r in records] == [b"second\n", b"partial\n", b"\n"]


def test_partial_record_takes_the_time_of_its_first_piece(tmp_path):
    partial = [r for r in read_logs(write(tmp_path)) if r.stream == "stderr"][0]
    assert partial.time == at(2.5)


def test_timestamps_print_as_docker_does():
    record = LogRecord(parse_time("2023-01-01T01:00:00.123456789+01:00"), "stdout", b"x\n")
    assert record.timestamp() == "2023-01-01T00:00:00.123456000Z"


def test_missing_log_reads_as_empty(tmp_path):
    assert list(read_logs(tmp_path / "nope")) == []


def test_garbage_lines_are_skipped(tmp_path):
    path = write(tmp_path, b"not a log line\n" + LOG)
    assert len(list(read_logs(path))) == 5
