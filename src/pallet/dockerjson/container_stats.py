"""Docker's StatsResponse (`GET /containers/{id}/stats`) from one `pallet stats` sample.

docker/cli computes CPU % as cpu_delta / system_delta * online_cpus * 100; the sample
already holds the percentage pallet measured over its interval, so the deltas are
written to give exactly that (one CPU-second of system time as the base).
"""
from __future__ import annotations

import time

NS = 1_000_000_000


def stats_response(row) -> dict:
    record = row.record
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"
    running = record["State"]["Running"]
    cpu = {"cpu_usage": {"total_usage": int(row.cpu_percent / 100 * NS), "usage_in_kernelmode": 0,
                         "usage_in_usermode": 0},
           "system_cpu_usage": NS, "online_cpus": 1, "throttling_data": {}}
    precpu = {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": 1, "throttling_data": {}}
    return {
        "name": record["Name"], "id": record["Id"], "read": stamp if running else "0001-01-01T00:00:00Z",
        "preread": stamp if running else "0001-01-01T00:00:00Z",
        "pids_stats": {"current": row.pids} if running else {},
        "blkio_stats": {"io_service_bytes_recursive": [{"major": 0, "minor": 0, "op": "read", "value": row.block_read},
                                                       {"major": 0, "minor": 0, "op": "write", "value": row.block_write}]
                        if running else None},
        "num_procs": 0, "storage_stats": {},
        "cpu_stats": cpu if running else {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
        "precpu_stats": precpu if running else {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
        "memory_stats": {"usage": row.memory, "limit": row.memory_limit, "stats": {}} if running else {},
        "networks": {"eth0": {"rx_bytes": row.net_rx, "tx_bytes": row.net_tx, "rx_packets": 0, "tx_packets": 0,
                              "rx_errors": 0, "tx_errors": 0, "rx_dropped": 0, "tx_dropped": 0}} if running else {},
    }
