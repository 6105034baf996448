#!/usr/bin/env python3
"""Times the reference TextFSM (Debian python3-textfsm) on the cases bench/parsers.bench.ts sends.

Batch mode — input (stdin, JSON): {"min_ms": float, "cases": [{"id", "template", "raw"}]} with
file paths; output (stdout, JSON): {"version", "cases": [{"id", "seconds_per_run", "records",
"bytes"}], "compile": {"<template path>": seconds}}.

Interleaved mode (`--lines`): one JSON case {"min_ms", "id", "template", "raw"} per input line, one
timing per output line; the first output line is {"version"}, and an input line {"compile": true}
answers with the compile times. The bench alternates between this process and its own
measurement case by case, so both sides see the same load on a shared machine.

Each case is parsed the way ntc-templates does it for one template: a parser compiled once,
then per run Reset() + ParseText() and the conversion to dicts with lower-cased keys and str()
cells. The input is read with newline='' so both engines see the same text, "\r\n" included.
Runs repeat until min_ms of CPU time has elapsed; in batch mode the corpus is measured twice
and the lower mean time per run of the two rounds is reported (the TypeScript side decides how
many rounds it asks for in interleaved mode, and applies the same rule to its own timings).
"""
import io
import json
import sys
import time

import textfsm


def to_records(header, rows):
    keys = [h.lower() for h in header]
    out = []
    for row in rows:
        out.append({k: ([str(v) for v in c] if isinstance(c, list) else str(c)) for k, c in zip(keys, row)})
    return out


def serve_lines():
    compiled = {}
    compile_times = {}
    print(json.dumps({"version": getattr(textfsm, "__version__", "?")}), flush=True)
    for line in sys.stdin:
        case = json.loads(line)
        if case.get("compile"):
            print(json.dumps(compile_times), flush=True)
            continue
        print(json.dumps(time_case(case, compiled, compile_times, case["min_ms"] / 1000.0)), flush=True)


def main():
    if "--lines" in sys.argv:
        serve_lines()
        return
    spec = json.load(sys.stdin)
    min_s = spec["min_ms"] / 1000.0
    compiled = {}
    compile_times = {}
    best = {}
    for _round in range(2):
        for case in spec["cases"]:
            timing = time_case(case, compiled, compile_times, min_s)
            if case["id"] not in best or timing["seconds_per_run"] < best[case["id"]]["seconds_per_run"]:
                best[case["id"]] = timing
    results = [best[c["id"]] for c in spec["cases"]]
    json.dump({"version": getattr(textfsm, "__version__", "?"), "cases": results, "compile": compile_times}, sys.stdout)


def time_case(case, compiled, compile_times, min_s):
    path = case["template"]
    if path not in compiled:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        start = time.process_time()
        compiled[path] = textfsm.TextFSM(io.StringIO(text))
        compile_times[path] = time.process_time() - start
    fsm = compiled[path]
    with open(case["raw"], encoding="utf-8", newline="") as f:
        raw = f.read()
    runs = 0
    records = 0
    # CPU time of this process: on a shared machine, time spent waiting for a core is not ours.
    # The clock is read once per batch (doubling), so reading it costs nothing on tiny inputs.
    batch = 1
    start = time.process_time()
    while True:
        for _ in range(batch):
            fsm.Reset()
            records = len(to_records(fsm.header, fsm.ParseText(raw)))
        runs += batch
        batch *= 2
        elapsed = time.process_time() - start
        if elapsed >= min_s and runs >= 3:
            break
    return {"id": case["id"], "seconds_per_run": elapsed / runs, "records": records, "bytes": len(raw.encode("utf-8"))}


if __name__ == "__main__":
    main()
