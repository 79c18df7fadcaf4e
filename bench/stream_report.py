"""The streaming benchmark's table and its one-line JSON summary."""
from __future__ import annotations

import math
from typing import Any

TOP_LEVEL_SERVER = "daphne"  # what `make run` and the Dockerfile serve Blueprint with


def _num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _rows(figures: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    for transport, ttft in figures.get("ttft", {}).items():
        for label, target in (("p50", "≤ +5 ms"), ("p95", "≤ +15 ms")):
            rows.append((f"TTFT {label} {transport.upper()} (ms)", _num(ttft[f"raw_{label}_ms"]),
                         _num(ttft[f"blueprint_{label}_ms"]), "+" + _num(ttft[f"added_{label}_ms"]), target))
    for transport, conc in figures.get("concurrency", {}).items():
        rows.append((f"max streams {transport.upper()}", _num(conc["raw"], 0), _num(conc["blueprint"], 0),
                     _num(conc["ratio"], 2), "≥ 0.80"))
    cpu = figures.get("cpu_ms_per_1k_tokens", {})
    if cpu:
        ratio = cpu["blueprint"] / cpu["raw"] if cpu.get("raw") else math.nan
        rows.append(("CPU per 1,000 tokens (ms)", _num(cpu["raw"], 0), _num(cpu["blueprint"], 0),
                     f"×{_num(ratio, 2)}", ""))
    rss = figures.get("rss_kib_per_stream", {})
    if rss:
        rows.append(("RSS per open stream (KiB)", _num(rss["raw"], 0), _num(rss["blueprint"], 0), "", ""))
    writes = figures.get("db_writes")
    if writes:
        rows.append(("DB writes per run (median/max)", "—", f"{_num(writes['median'], 0)}/{writes['max']}",
                     f"{writes['runs']} runs", "≤ 40 + 10"))
    return rows


def _probe_lines(figures: dict[str, Any]) -> list[str]:
    lines = []
    for transport, conc in figures.get("concurrency", {}).items():
        for name, search in conc.get("last_search", {}).items():
            steps = ", ".join(
                f"{p['concurrency']}{'✓' if p['pass'] else '✗'}(gap {_num(p['gap_p95_ms'], 0)}, "
                f"ttft {_num(p['ttft_p95_ms'], 0)}, cpu {p.get('server_cpu_pct')}%/{p.get('fake_cpu_pct')}%)"
                for p in search["probes"])
            note = " [budget]" if search.get("truncated_by_budget") else ""
            lines.append(f"    {transport:<3} {name:<9} {steps}{note}")
    return lines


def summary(results: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    kind = TOP_LEVEL_SERVER if TOP_LEVEL_SERVER in results else next(iter(results), None)
    top = results.get(kind, {}) if kind else {}
    ttft = top.get("ttft", {}).get("sse", {})
    conc = top.get("concurrency", {})
    return _clean({
        "added_ttft_p50_ms": ttft.get("added_p50_ms"),
        "added_ttft_p95_ms": ttft.get("added_p95_ms"),
        "concurrency_ratio_sse": conc.get("sse", {}).get("ratio"),
        "concurrency_ratio_ws": conc.get("ws", {}).get("ratio"),
        "db_writes_per_run": top.get("db_writes", {}).get("median"),
        "top_level_server": kind,
        "cpu_ms_per_1k_tokens": top.get("cpu_ms_per_1k_tokens"),
        "rss_kib_per_stream": top.get("rss_kib_per_stream"),
        "servers": {name: _compact(figures) for name, figures in results.items()},
        **meta,
    })


def _compact(figures: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in figures.items() if key != "concurrency"}
    out["concurrency"] = {t: {k: v for k, v in c.items() if k != "last_search"}
                          for t, c in figures.get("concurrency", {}).items()}
    return out


def _clean(value: Any) -> Any:
    """JSON has no NaN: missing figures become null; floats are rounded."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 2)
    return value


def print_report(results: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    print(f"Blueprint streaming benchmark ({meta['mode']}): fake OpenAI upstream, {meta['tokens']} tokens × "
          f"{meta['token_ms']} ms; one worker process per server; SDK transport {meta['http_transport']}")
    print(f"machine: {meta['cpus']} CPUs, load average {meta['load_average_start'][0]} at start, "
          f"{meta['load_average_end'][0]} at end; {meta['elapsed_s']} s")
    for kind, figures in results.items():
        print()
        print(f"{kind:<32} {'raw relay':>10} {'Blueprint':>12} {'Δ / ratio':>12}  target")
        for name, raw, bp, delta, target in _rows(figures):
            print(f"{name:<32} {raw:>10} {bp:>12} {delta:>12}  {target}")
        print("  concurrency probes (✓ pass / ✗ fail; gap and TTFT p95 in ms; CPU of server/fake):")
        for line in _probe_lines(figures):
            print(line)
    result = summary(results, meta)
    print()
    print(f"top-level JSON keys report {result['top_level_server']}")
    return result
