#!/usr/bin/env python3
"""Times the reference Jinja2 (Debian python3-jinja2) on the conformance cases bench/templates.bench.ts sends.

Protocol, one JSON document per line:
  stdin  {"cases": [{"name", "dir", "env", "vars"}]}     (vars already decoded)
  stdout {"version", "cases": [{"name", "bytes"}]}        each template compiled once and rendered once
  then, repeatedly:
  stdin  {"case": i, "min_ms": float}
  stdout {"seconds_per_render": float}                    mean CPU time of renders over >= min_ms
until stdin closes. The bench interleaves these rounds with its own, so both engines are timed
in the same seconds of a shared, loaded machine.

Same work as the Opsdeck side: each case's Environment compiles its template once
(get_template, Jinja2's own template cache); a timed render is `template.render(vars)` only.
`auto_reload=False`: a cached template (the entry and every include/import/extends) is not
stat()ed on every use, as Opsdeck's in-memory loader is not; Jinja2's default would add a
filesystem check per include to the Python side.
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


def reply(doc):
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def main():
    job = json.loads(sys.stdin.readline())
    compiled = []
    out = []
    for case in job["cases"]:
        env_args = dict(case["env"])
        env_args["undefined"] = UNDEFINED[env_args.get("undefined", "Undefined")]
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(case["dir"]), auto_reload=False, **env_args)
        template = env.get_template("template.j2")
        text = template.render(case["vars"])
        compiled.append((template, case["vars"]))
        out.append({"name": case["name"], "bytes": len(text.encode("utf-8"))})
    reply({"version": jinja2.__version__, "cases": out})
    for line in sys.stdin:
        ask = json.loads(line)
        template, variables = compiled[ask["case"]]
        min_s = ask["min_ms"] / 1000.0
        n = 0
        start = time.process_time()
        while True:
            template.render(variables)
            n += 1
            elapsed = time.process_time() - start
            if elapsed >= min_s:
                break
        reply({"seconds_per_render": elapsed / n})


if __name__ == "__main__":
    main()
