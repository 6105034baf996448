#!/usr/bin/env bash
# SQLite reads in worker threads (OPSDECK_SQLITE_READERS) against the one-connection path: one data
# directory seeded with 10,000 devices, the built server restarted on it with each setting in turn
# (rounds alternate 0 N 0 N), GET /api/v1/devices?limit=50 under wrk at $CONNS connections; prints
# requests/s, p50/p99, server CPU per request and event-loop lag (p99/max from /metrics over the
# run), then the median ratios N : 0.   usage: npm run build && bash bench/sqlite-readers.sh
# Loopback only; every server started here is stopped by PID.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SBS=${SBS:-/work/shared/bench/side-by-side}
READERS=${READERS:-2}; ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-10s}; CONNS=${CONNS:-50}; N=${N:-10000}
URL_PATH=${URL_PATH:-/api/v1/devices?limit=50}
PASS='Bench-Horse-Battery-7261x'
DATA=$(mktemp -d /tmp/sqlite-readers.XXXXXX); PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT; PID=
trap '[ -n "$PID" ] && kill -TERM $PID 2>/dev/null; rm -rf "$DATA"' EXIT
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
main_ticks() { awk '{print $14+$15}' /proc/$1/task/$1/stat; }  # the event loop's thread alone
start() {
  (cd "$ROOT" && exec env OPSDECK_HOST=127.0.0.1 OPSDECK_PORT=$PORT OPSDECK_DATA_DIR=$DATA OPSDECK_ADMIN_PASSWORD="$PASS" \
    OPSDECK_AUTH_RATE_LIMIT=1000000 OPSDECK_LOG_LEVEL=warn OPSDECK_SQLITE_READERS=$1 node dist/src/main.js serve) >>"$DATA/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 240); do curl -fs "$BASE/health" >/dev/null 2>&1 && return; sleep 0.5; done; echo 'server did not start' >&2; exit 1
}
stop() { kill -TERM $PID; for _ in $(seq 1 50); do kill -0 $PID 2>/dev/null || break; sleep 0.2; done; PID=; }
token() { curl -s -X POST $BASE/api/v1/auth/login -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASS\"}" | jq -r .access_token; }
# prom-client resets its event-loop histogram at every scrape: one scrape before the run, one after.
lag() { curl -s -H "Authorization: Bearer $1" $BASE/metrics | awk '$1=="opsdeck_nodejs_eventloop_lag_p99_seconds" {p=$2*1000} $1=="opsdeck_nodejs_eventloop_lag_max_seconds" {m=$2*1000} END {printf "%.1f %.1f\n", p, m}'; }

start 0; python3 "$SBS/seed_opsdeck.py" "$BASE" "$(token)" "$DATA/ids.txt" "$N" >/dev/null; stop
LUA=$DATA/get.lua; cat "$SBS/../ref-fastapi/lua/get.lua" "$SBS/../ref-fastapi/lua/report.lua" > "$LUA"
printf 'readers\trps\tp50_ms\tp99_ms\tcpu_ms_per_req\tloop_cpu_ms_per_req\tlag_p99_ms\tlag_max_ms\n' | tee "$DATA/all.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for r in 0 "$READERS"; do
    start "$r"; T=$(token)
    wrk -t 2 -c "$CONNS" -d 2s -H "Authorization: Bearer $T" "$BASE$URL_PATH" >/dev/null 2>&1 || true
    sleep 1; lag "$T" >/dev/null; c0=$(ticks $PID); l0=$(main_ticks $PID)
    res=$(wrk -t 2 -c "$CONNS" -d "$DURATION" --timeout 5s -s "$LUA" -H "Authorization: Bearer $T" "$BASE$URL_PATH" 2>&1 | grep '^RESULT')
    c1=$(ticks $PID); l1=$(main_ticks $PID); read -r p99 max < <(lag "$T"); stop
    declare -A m=(); for kv in ${res#RESULT }; do m[${kv%%=*}]=${kv#*=}; done
    per() { awk -v d="$1" -v hz="$(getconf CLK_TCK)" -v n="${m[requests]}" 'BEGIN{printf "%.3f", d*1000/hz/n}'; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "${m[rps]}" "${m[p50_ms]}" "${m[p99_ms]}" "$(per $((c1 - c0)))" "$(per $((l1 - l0)))" "$p99" "$max" | tee -a "$DATA/all.tsv"
  done
done
python3 - "$DATA/all.tsv" "$READERS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
med = lambda r, k: statistics.median(float(x[k]) for x in rows if x['readers'] == r)
for k in ('rps', 'p50_ms', 'p99_ms', 'cpu_ms_per_req', 'loop_cpu_ms_per_req', 'lag_p99_ms', 'lag_max_ms'):
    a, b = med('0', k), med(sys.argv[2], k)
    print(f"{k}: readers=0 {a:g}  readers={sys.argv[2]} {b:g}  ratio {b / a if a else float('nan'):.2f}")
PY
