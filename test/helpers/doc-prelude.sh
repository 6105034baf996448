# Sourced by test/helpers/doc-runner.ts before each documentation block (see
# test/docs-examples.test.ts for the conventions). Needs DOCTEST_BASE (the test server's URL),
# DOCTEST_ROOT (the repository) and DOCTEST_TSX (tsx's loader, as a file URL).
set -eo pipefail
shopt -s inherit_errexit

# curl as the reader types it, pointed at the test server; an answer that is not 2xx fails.
curl() {
  local args=() a
  for a in "$@"; do
    a=${a//"http://127.0.0.1:8000"/$DOCTEST_BASE}
    a=${a//"http://localhost:8000"/$DOCTEST_BASE}
    case "$a" in
      127.0.0.1:8000*) a="$DOCTEST_BASE${a#127.0.0.1:8000}" ;;
      localhost:8000*) a="$DOCTEST_BASE${a#localhost:8000}" ;;
    esac
    args+=("$a")
  done
  # a newline after each answer keeps one answer per line in the output
  command curl --fail-with-body -sS "${args[@]}" && echo
}

__opsdeck_pids=()
__opsdeck_logs=()

# `opsdeck serve|worker`: started in the background; returns once it logged that it is ready.
__opsdeck_start() {
  local log pid
  log=$(mktemp "$PWD/opsdeck-$1-XXXX.log")
  OPSDECK_PORT=${OPSDECK_PORT:-0} OPSDECK_LOG_LEVEL=info node --import "$DOCTEST_TSX" "$DOCTEST_ROOT/src/main.ts" "$@" >"$log" 2>&1 &
  pid=$!
  __opsdeck_pids+=("$pid")
  __opsdeck_logs+=("$log")
  for _ in $(seq 1200); do
    if grep -qE '"msg":"opsdeck (listening|worker started)"' "$log"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "opsdeck $1 exited before it was ready:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "opsdeck $1 was not ready after 120 s:" >&2
  cat "$log" >&2
  return 1
}

# At the end of the block every process started above gets SIGTERM and must exit 0.
__opsdeck_stop() {
  local status=$? i
  for i in "${!__opsdeck_pids[@]}"; do
    kill -TERM "${__opsdeck_pids[$i]}" 2>/dev/null || true
    if ! wait "${__opsdeck_pids[$i]}"; then
      echo "opsdeck did not stop cleanly:" >&2
      cat "${__opsdeck_logs[$i]}" >&2
      status=1
    fi
  done
  exit "$status"
}
trap __opsdeck_stop EXIT

# `opsdeck …` and `npx opsdeck …`: this repository's command line, from its sources.
opsdeck() {
  case "${1:-}" in
    serve | worker) __opsdeck_start "$@" ;;
    *) node --import "$DOCTEST_TSX" "$DOCTEST_ROOT/src/main.ts" "$@" ;;
  esac
}
npx() {
  if [ "${1:-}" = opsdeck ]; then
    shift
    opsdeck "$@"
  else
    command npx "$@"
  fi
}
