"""Render bench/results/*.json as the Markdown tables of bench/RESULTS.md (to stdout).

Reads only what the benchmarks wrote; a missing result file is reported as not run.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MB = 1 << 20


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def ms(x: float) -> str:
    return f"{1000 * x:.0f} ms"


def images(out: list[str]) -> None:
    t, m, ls = load("image_throughput"), load("import_memory"), load("images_list")
    out.append("## Issue 2: image store\n")
    if t:
        out.append(f"Throughput, MB/s of tar bytes (median of {t['runs']}; {t['when']}):\n")
        out.append("| layer | pallet import | pallet save | sha256sum | gzip | tar -x |\n|---|---|---|---|---|---|")
        for layer in t["tar_bytes"]:
            row = [f"{t['mb_per_s'].get(f'{layer}/{s}', 0):.0f}" for s in
                   ("pallet_import", "pallet_save", "sha256sum", "gzip", "tar_x")]
            out.append(f"| {layer} | " + " | ".join(row) + " |")
        out.append("")
    if m:
        out.append("Peak RSS of `pallet import` (wait4 ru_maxrss):\n")
        out.append("| input | peak RSS |\n|---|---|")
        for k, v in m["peak_rss_bytes"].items():
            out.append(f"| {k} | {v / MB:.1f} MB |")
        out.append("")
    if ls:
        out.append(f"`pallet images` latency (median of {ls['runs']}):\n")
        out.append("| images stored | median | min | max |\n|---|---|---|---|")
        for k, v in ls["seconds"].items():
            out.append(f"| {k} | {ms(v['median'])} | {ms(v['min'])} | {ms(v['max'])} |")
        out.append("")


def timing_table(seconds: dict, base: str) -> list[str]:
    """engine | median | min | max | base / engine, one row per engine of a `summary`."""
    rows = [f"| engine | median | min | max | {base} / engine |", "|---|---|---|---|---|"]
    for name, v in seconds.items():
        ratio = "" if name == base else f"{seconds[base]['median'] / v['median']:.2f}x"
        rows.append(f"| {name} | {ms(v['median'])} | {ms(v['min'])} | {ms(v['max'])} | {ratio} |")
    return rows


def containers(out: list[str]) -> None:
    r, s, p = load("run_rm"), load("start"), load("ps")
    out.append("## Issue 3: containers\n")
    if r:
        out.append(f"`run --rm --network none busybox true` (median of {r['runs']}, interleaved; "
                   f"skipped: {r['skipped'] or 'none'}):\n")
        out += timing_table(r["seconds"], "pallet")
        out.append("")
    if s:
        n = s["containers"]
        out.append(f"{n} detached containers (`run -d ... sleep 3600`, interleaved across engines):\n")
        out.append("| engine | start all | median each | engine-side RSS / PSS per container | "
                   "daemons RSS | disk per container |\n|---|---|---|---|---|---|")
        for name in ("pallet", "podman", "docker"):
            v = s.get(name)
            if not v:
                continue
            mem = v["memory"] or {}
            out.append(f"| {name} | {v['start_total_s']:.1f} s | {ms(v['start_median_s'])} | "
                       f"{mem.get('rss_per_container', 0) / MB:.2f} / {mem.get('pss_per_container', 0) / MB:.2f} MB "
                       f"(at {mem.get('running')} running) | {mem.get('daemon_rss', 0) / MB:.0f} MB | "
                       f"{v['disk_per_container_bytes'] / 1024:.0f} KiB |")
        out.append("")
    if p:
        out.append(f"`ps -a` latency, median (competitors up to {p['competitor_max']} containers):\n")
        engines = sorted({e for lv in p["seconds"].values() for e in lv})
        out.append("| containers | " + " | ".join(engines) + " |\n|---|" + "---|" * len(engines))
        for level, row in p["seconds"].items():
            out.append(f"| {level} | " + " | ".join(ms(row[e]["median"]) if e in row else "-"
                                                      for e in engines) + " |")
        out.append("")


def build(out: list[str]) -> None:
    b = load("build")
    if not b:
        return
    out.append("## Image build (`bench/build_bench.py`)\n")
    out.append(f"{b['steps']}-step Dockerfile, context of {b['files']} x {b['file_bytes'] // 1024} kB files; "
               f"pallet `build`, docker classic builder (`DOCKER_BUILDKIT=0`), `podman build --layers`; "
               f"median of {b['runs']}, interleaved; {b['when']}; skipped: {b['skipped'] or 'none'}. "
               "cold = cache pruned and image removed first; cached = no change; changed = one of the "
               "source files rewritten. `first rebuilt` = first step not taken from the cache (- = none):\n")
    out.append("| case | engine | median | min | max | pallet / engine | first rebuilt |\n"
               "|---|---|---|---|---|---|---|")
    for case, rows in b["seconds"].items():
        base = rows.get("pallet", {})
        for n, v in rows.items():
            ratio = "" if n == "pallet" else f"{base.get(f'ratio_vs_{n}', 0):.2f}x"
            first = b["first_rebuilt_step"][case].get(n)
            out.append(f"| {case} | {n} | {ms(v['median'])} | {ms(v['min'])} | {ms(v['max'])} | "
                       f"{ratio} | {first or '-'} |")
    out.append("")


def registry(out: list[str]) -> None:
    r = load("registry")
    if not r:
        return
    out.append("## Registry push/pull (`bench/registry_bench.py`)\n")
    out.append(f"Image of {' + '.join(f'{x:.0f}' for x in r['layers_mb'])} MB layers ({r['data']} data), "
               f"local docker-registry on 127.0.0.1; MB/s of uncompressed layer bytes, median of "
               f"{r['runs']}, interleaved; {r['when']}; skipped: {r['skipped'] or 'none'}. Every push "
               "goes to an empty registry; every pull starts without the image:\n")
    out.append("| operation | median | MB/s | min | max | CLI peak RSS |\n|---|---|---|---|---|---|")
    for k, v in r["results"].items():
        out.append(f"| {k} | {v['median_s']:.2f} s | {v['mb_per_s']:.0f} | {v['min_s']:.2f} s | "
                   f"{v['max_s']:.2f} s | {v['peak_rss_mib']} MiB |")
    if r.get("pallet_vs_best"):
        out.append("\n| operation | pallet MB/s | best of docker/podman | pallet / best | "
                   "pallet / docker | pallet / podman |\n|---|---|---|---|---|---|")
        for op, v in r["pallet_vs_best"].items():
            out.append(f"| {op} | {v['pallet_mb_per_s']:.0f} | {v['best_other']} {v['best_other_mb_per_s']:.0f} | "
                       f"{v['pallet_vs_best']:.2f}x | {v.get('pallet_vs_docker', 0):.2f}x | "
                       f"{v.get('pallet_vs_podman', 0):.2f}x |")
    out.append("\nSingle-core rates over the 256 MB layer's tar: " + ", ".join(
        f"{k} {v:.0f} MB/s" for k, v in r["cpu_rates_mb_per_s"].items()) + ".")
    for op, parts in r.get("pallet_time_split", {}).items():
        out.append(f"pallet {op} (estimated from the rates): " +
                   ", ".join(f"{k} {v:.0%}" for k, v in parts.items()) + ".")
    out.append("")


def context_hash(out: list[str]) -> None:
    r = load("context_hash")
    if not r:
        return
    rates = ", ".join(f"{k} {v:.0f} MB/s" for k, v in r["mb_per_s"].items())
    out.append("## Hashing a 1 GiB build context (`bench/context_hash_bench.py`)\n")
    out.append(f"Page cache dropped before each run, median of {r['runs']}: {rates}; pallet's peak RSS "
               f"{r['pallet_peak_rss_bytes'] / (1 << 20):.1f} MiB.\n")


def network(out: list[str]) -> None:
    r = load("network")
    if not r:
        return
    runs = r["runs"]
    out.append("## Networking (`bench/network_bench.py`)\n")
    out.append(f"`run --rm busybox true` on each engine's default bridge (median of "
               f"{next(iter(runs['seconds'].values()))['runs']}, interleaved; {r.get('when', '')}; "
               f"skipped: {', '.join(runs['skipped']) or 'none'}):\n")
    out += timing_table(runs["seconds"], "pallet bridge")
    tp = r["throughput"]
    out.append(f"\nThroughput of a {tp['size_mb']} MB download from busybox httpd (wget, median of "
               f"{len(next(iter(tp['samples'].values())))}, interleaved): direct to the container "
               f"{tp['mb_per_s']['direct']:.0f} MB/s, through the published port on 127.0.0.1 "
               f"{tp['mb_per_s']['published']:.0f} MB/s ({tp['published_vs_direct']:.0%})" +
               (f"; from a client namespace (another host behind a veth) direct "
                f"{tp['mb_per_s']['client direct']:.0f} MB/s, through the host's address:PORT "
                f"{tp['mb_per_s']['client published']:.0f} MB/s ({tp['client_published_vs_direct']:.0%})"
                if "client direct" in tp["mb_per_s"] else "") + ".\n")


def api(out: list[str]) -> None:
    r = load("api")
    if not r:
        return
    seconds = r["run_rm_seconds"]
    out.append("## Issue 16: the Docker Engine API service (`bench/api_bench.py`)\n")
    out.append(f"`docker run --rm --network none busybox true` (the docker CLI through each "
               f"engine's socket) beside `pallet run --rm` (median of "
               f"{next(iter(seconds.values()))['runs']}, interleaved; {r['when']}; skipped: "
               f"{', '.join(r.get('skipped') or {}) or 'none'}{_load(r)}):\n")
    out += timing_table(seconds, "docker_cli_via_pallet_socket")
    out.append("\ndocker-py `containers.run(\"busybox\", \"true\", remove=True)`:\n")
    out.append("| engine | median | min | max |\n|---|---|---|---|")
    for name, v in r["docker_py_run_remove_seconds"].items():
        out.append(f"| {name} | {ms(v['median'])} | {ms(v['min'])} | {ms(v['max'])} |")
    out.append("\n`GET /containers/json?all=1` on pallet's service (median of 20):\n")
    out.append("| containers | median | min |\n|---|---|---|")
    for n, v in r["list_all_latency"].items():
        out.append(f"| {n} | {v['median_ms']:.1f} ms | {v['min_ms']:.1f} ms |")
    out.append("\nConcurrent `GET /containers/{id}/json` (each client 100 on its own connection; the "
               "median of interleaved rounds, every round's requests/s and p99 beside it):\n")
    out.append("| engine | clients | requests/s | p50 | p99 | rounds |\n|---|---|---|---|---|---|")
    for name, v in r["concurrent_inspect"].items():
        rounds = ", ".join(f"{x['requests_per_second']:.0f}/{x['p99_ms']:.0f} ms" for x in v.get("rounds", []))
        out.append(f"| {name} | {v['clients']} | {v['requests_per_second']:.0f} | {v['p50_ms']:.1f} ms "
                   f"| {v['p99_ms']:.1f} ms | {rounds or '-'} |")
    out.append("\nResident memory (MB): " + ", ".join(
        f"{k.replace('_', ' ')} {v:.1f}" for k, v in r["idle_rss_mb"].items()) + ".\n")


def _load(r: dict) -> str:
    """"; load average 4.1 to 4.6" (1-minute, at start and end), when the result has it."""
    load = r.get("load_average")
    return f"; load average {load['start'][0]:.1f} to {load['end'][0]:.1f}" if load else ""


def compose(out: list[str]) -> None:
    r = load("compose")
    if not r or "tools" not in r:
        return
    tools, res = r["tools"], r["results"]
    steps = ("up -d", "down", "up -d (no-op)", "ps")
    out.append("## Compose (`bench/compose_bench.py`, issue 17)\n")
    out.append(f"{r['project']}; health checks every {r['health_interval_s']} s; median of {r['runs']}, "
               f"interleaved; {r['when']}; versions: "
               + ", ".join(f"{k} {v}" for k, v in r.get("versions", {}).items())
               + f"; skipped: {', '.join(r.get('skipped') or {}) or 'none'}:\n")
    out.append("| tool | " + " | ".join(f"`{s}`" for s in steps) + " |\n|---|" + "---|" * len(steps))
    for t in tools:
        out.append(f"| {t} | " + " | ".join(ms(res[f'{t}/{s}']['median']) if f"{t}/{s}" in res else "-"
                                          for s in steps) + " |")
    ratios = r.get("pallet_vs_best_other") or {}
    if ratios:
        out.append("\npallet / best other (goal <= 0.3): "
                   + ", ".join(f"`{k}` {v:.2f}" for k, v in ratios.items()) + ".\n")


def profile(out: list[str]) -> None:
    pr = load("profile_run")
    if not pr:
        return
    out.append("## Profile of `pallet run --rm --network none busybox true`\n")
    out.append("| wall (median) | |\n|---|---|")
    for k, v in pr["wall_seconds"].items():
        out.append(f"| {k} | {ms(v['median'])} |")
    out.append("\nPhases inside one CLI process (median ms; indented = inside the line above):\n")
    out.append("```")
    for k, v in pr["phases"].items():
        out.append(f"{k:42s} {v['median_ms']:7.1f}")
    out.append("```")
    imp = pr["imports"]
    out.append(f"\nImports (`-X importtime`), top-level total {imp['total_top_level_ms']:.0f} ms; "
               "slowest cumulative:\n")
    out.append("```")
    for k, v in imp["slowest_cumulative_ms"].items():
        out.append(f"{k:42s} {v:7.1f}")
    out.append("```\n")


def main() -> None:
    out = ["# pallet benchmark results\n",
           "Generated by `bench/summarise.py` from `bench/results/*.json` (see bench/README.md).\n"]
    images(out)
    containers(out)
    build(out)
    context_hash(out)
    registry(out)
    network(out)
    api(out)
    compose(out)
    profile(out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
