"""Sizes, ages, durations and --since/--until as Docker prints and reads them.

Expected texts were checked against go-units and the docker CLI (`docker run -m`,
`--health-interval`, `docker events --since`).
"""
import calendar
import time

import pytest

from pallet.errors import InvalidArgument
from pallet.opts.timestamps import parse_timestamp
from pallet.opts.units import (ago, bytes_size, human_duration, human_size, parse_bytes,
                               parse_duration, parse_duration_ns)


@pytest.mark.parametrize("size, text", [
    (0, "0B"), (1, "1B"), (999, "999B"), (1000, "1kB"), (123_000, "123kB"),
    (1_234_567, "1.23MB"), (5_580_000, "5.58MB"), (4_261_000, "4.26MB"),
    (77_800_000, "77.8MB"), (1_000_000_000, "1GB"), (2_500_000_000_000, "2.5TB"),
    (999_500, "1e+03kB"),  # go-units' %.3g quirk, reproduced on purpose
])
def test_images_size_column(size, text):
    assert human_size(size) == text


def test_system_df_uses_four_significant_digits():
    assert human_size(1_234_567, precision=4) == "1.235MB"


@pytest.mark.parametrize("size, text", [
    (0, "0B"), (1023, "1023B"), (1024, "1KiB"), (1_572_864, "1.5MiB"),
    (1_234_567, "1.177MiB"), (8 * 1024 ** 3, "8GiB"),
])
def test_stats_memory_uses_binary_units(size, text):
    assert bytes_size(size) == text


@pytest.mark.parametrize("text, size", [
    ("512m", 512 * 1024 ** 2), ("512M", 512 * 1024 ** 2), ("1.5g", 1536 * 1024 ** 2),
    ("10", 10), ("1b", 1), ("1k", 1024), ("1kb", 1024), ("1KiB", 1024), ("1 KiB", 1024),
    ("2t", 2 * 1024 ** 4), ("1p", 1024 ** 5), ("0.5k", 512), ("1e3k", 1_024_000),
])
def test_memory_flags_parse_binary_sizes(text, size):
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text, message", [
    ("5x", "invalid suffix: 'x'"),
    ("1kbb", "invalid suffix: 'kbb'"),
    ("1KBB", "invalid suffix: 'kbb'"),
    ("1ABCD", "invalid suffix: 'ABCD'"),
    ("1kx", "invalid suffix: 'kx'"),
    ("abc", "invalid size: 'abc'"),
    ("", "invalid size: ''"),
    ("-1", "invalid size: '-1'"),
    ("1.2.3m", 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'),
    ("1_0", 'strconv.ParseFloat: parsing "1_0": invalid syntax'),
])
def test_memory_flags_reject_bad_sizes_in_go_units_words(text, message):
    with pytest.raises(InvalidArgument) as info:
        parse_bytes(text)
    assert str(info.value) == message


@pytest.mark.parametrize("seconds, text", [
    (-5, "Less than a second"), (0, "Less than a second"), (0.9, "Less than a second"),
    (1, "1 second"), (2, "2 seconds"), (59, "59 seconds"), (60, "About a minute"),
    (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"),
    (3600, "About an hour"), (5399, "About an hour"), (5400, "2 hours"),
    (47 * 3600, "47 hours"), (47.5 * 3600, "2 days"), (13 * 86400, "13 days"),
    (14 * 86400, "2 weeks"), (59 * 86400, "8 weeks"), (60 * 86400, "2 months"),
    (729 * 86400, "24 months"), (730 * 86400, "2 years"), (5 * 365 * 86400, "5 years"),
])
def test_human_duration_matches_go_units(seconds, text):
    assert human_duration(seconds) == text


def test_created_column_says_ago():
    assert ago(1000.0, 1000.0 + 2 * 3600) == "2 hours ago"
    assert ago(1000.0, 1000.5) == "Less than a second ago"


@pytest.mark.parametrize("text, seconds", [
    ("1m30s", 90.0), ("1.5h", 5400.0), (".5s", 0.5), ("-1m", -60.0), ("+0", 0.0),
    ("0", 0.0), ("1h2m3.5s", 3723.5), ("300ms", 0.3), ("2us", 2e-6), ("3\u00b5s", 3e-6),
    ("10ns", 1e-8),
])
def test_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_duration_in_nanoseconds_is_exact():
    assert parse_duration_ns("1h0.000000001s") == 3_600_000_000_001


@pytest.mark.parametrize("text, message", [
    ("5", 'time: missing unit in duration "5"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'),
    ("1 s", 'time: unknown unit " s" in duration "1 s"'),
    ("-", 'time: invalid duration "-"'),
    ("", 'time: invalid duration ""'),
    (".s", 'time: invalid duration ".s"'),
    ("9999999999h", 'time: invalid duration "9999999999h"'),
])
def test_bad_durations_use_gos_words(text, message):
    with pytest.raises(InvalidArgument) as info:
        parse_duration(text)
    assert str(info.value) == message


NOW = 1_700_000_000.0


@pytest.mark.parametrize("value, expected", [
    ("10m", NOW - 600), ("1h30m", NOW - 5400), ("-5m", NOW + 300),
    ("0", 0.0), ("1700000000", 1_700_000_000.0), ("1.5", 1.5),
    ("1.1234567891", 1.1234567891),
    ("2020-01-01T10:00:00Z", calendar.timegm((2020, 1, 1, 10, 0, 0))),
    ("2020-01-01T10:00:00.5+01:00", calendar.timegm((2020, 1, 1, 9, 0, 0)) + 0.5),
    ("2020-01-01Z", calendar.timegm((2020, 1, 1, 0, 0, 0))),
    ("2020-01-01T10Z", calendar.timegm((2020, 1, 1, 10, 0, 0))),
    ("2020-01-01T10:30-02:00", calendar.timegm((2020, 1, 1, 12, 30, 0))),
    ("2024-02-29T00:00:00Z", calendar.timegm((2024, 2, 29, 0, 0, 0))),
])
def test_since_and_until_values(value, expected):
    assert parse_timestamp(value, NOW) == pytest.approx(expected)


def test_dates_without_zone_are_local_time():
    offset = time.localtime(NOW).tm_gmtoff
    expected = calendar.timegm((2020, 1, 1, 10, 0, 0)) - offset
    assert parse_timestamp("2020-01-01T10:00:00", NOW) == expected
    assert parse_timestamp("2020-01-01", NOW) == calendar.timegm((2020, 1, 1, 0, 0, 0)) - offset


@pytest.mark.parametrize("value, message", [
    ("xyz", 'failed to parse value as time or duration: "xyz"'),
    ("1.5.5", 'failed to parse value as time or duration: "1.5.5"'),
    ("12abc", 'failed to parse value as time or duration: "12abc"'),
    ("2020-13-01", 'parsing time "2020-13-01": month out of range'),
    ("2020-02-30", 'parsing time "2020-02-30": day out of range'),
    ("2020-01-01T25", 'parsing time "2020-01-01T25": hour out of range'),
    ("2020-01-01T10:61", 'parsing time "2020-01-01T10:61": minute out of range'),
    ("2020-01-01T10:00:00Q", 'parsing time "2020-01-01T10:00:00Q": extra text: "Q"'),
    ("-5", 'parsing time "-5" as "2006-01-02": cannot parse "-5" as "2006"'),
    ("2020-1-01", 'parsing time "2020-1-01" as "2006-01-02": cannot parse "1-01" as "01"'),
    ("2020-01-01z",
     'parsing time "2020-01-01z" as "2006-01-02Z07:00": cannot parse "z" as "Z07:00"'),
    ("2020-01-01T10:00:00+25:00",
     'parsing time "2020-01-01T10:00:00+25:00": time zone offset hour out of range'),
])
def test_bad_since_values_use_dockers_words(value, message):
    with pytest.raises(InvalidArgument) as info:
        parse_timestamp(value, NOW)
    assert str(info.value) == message
