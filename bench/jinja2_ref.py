#!/usr/bin/env python3
"""Times the reference Jinja2 (Debian python3-jinja2) on the conformance cases bench/templates.bench.ts sends.

Input (stdin, JSON): {"min_ms": float, "rounds": int, "cases": [{"name", "dir", "env", "vars"}]}
with `vars` already decoded. Output (stdout, JSON): {"version", "cases": [{"name", "seconds_per_render", "bytes"}]}.

Each case compiles its template once (Environment + FileSystemLoader, as the corpus README
renders it), then renders repeatedly until min_ms of CPU time has elapsed; the lowest mean over
`rounds` rounds is reported.
"""
import json
import sys
import time

import jinja2

UNDEFINED = {
    "Undefined": jinja2.Undefined,
    "StrictUndefined": jinja2.StrictUndefined,
    "DebugUndefined": jinja2.DebugUndefined,
    "ChainableUndefined": jinja2.ChainableUndefined,
}


def main():
    job = json.load(sys.stdin)
    min_s = job["min_ms"] / 1000.0
    out = []
    for case in job["cases"]:
        env_args = dict(case["env"])
        env_args["undefined"] = UNDEFINED[env_args.get("undefined", "Undefined")]
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(case["dir"]), **env_args)
        template = env.get_template("template.j2")
        text = template.render(case["vars"])
        best = None
        for _ in range(job["rounds"]):
            n = 0
            start = time.process_time()
            while True:
                template.render(case["vars"])
                n += 1
                elapsed = time.process_time() - start
                if elapsed >= min_s:
                    break
            per = elapsed / n
            best = per if best is None else min(best, per)
        out.append({"name": case["name"], "seconds_per_render": best, "bytes": len(text.encode("utf-8"))})
    json.dump({"version": jinja2.__version__, "cases": out}, sys.stdout)


if __name__ == "__main__":
    main()
