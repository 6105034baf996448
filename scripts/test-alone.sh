#!/usr/bin/env bash
# Runs every test file alone, one `vitest run` per file (each with its own throwaway PostgreSQL and
# Redis), to find files that pass only after another file ran. Slow; for occasional use, not CI.
# Extra arguments go to every vitest run (e.g. --sequence.seed=123). Exits 1 if any file failed;
# the output of each failed file is kept in the directory printed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d "${TMPDIR:-/tmp}/opsdeck-alone-XXXXXX")
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
failed=()
for f in "${files[@]}"; do
  log="$logs/${f//\//_}.log"
  if npx vitest run "$@" "$f" >"$log" 2>&1; then
    echo "ok    $f"
    rm -f "$log"
  else
    echo "FAIL  $f"
    failed+=("$f")
  fi
done
echo "${#files[@]} files, ${#failed[@]} failed alone${failed[*]:+: ${failed[*]}} (logs: $logs)"
[ ${#failed[@]} -eq 0 ]
