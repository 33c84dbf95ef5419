#!/usr/bin/env bash
# Sweep throughput (units/minute) with 1 and 2 local engine threads and with 2 BullMQ workers on a private
# loopback redis-server, for the embedded model and (when ../shared/models is present) GoogLeNet.
# Prints one line per measurement; run it twice on a quiet machine (`uptime` first) and report both.
#
#   bash scripts/bench-sweep.sh [embedded|googlenet|all]
#
# Each figure is wall time of the whole `deepvis sweep` command, engine start-up and model loading
# included (the Redis workers are started, and have loaded the model, before the clock starts).
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-all}
SHARED=${DEEPVIS_SHARED:-../shared}
DV="node bin/deepvis.mjs"
TMP=$(mktemp -d /tmp/deepvis-bench-sweep.XXXXXX)
REDIS_PID=""
WORKERS=()
cleanup() {
  # DEEPVIS_BENCH_KEEP=DIR keeps the atlases (e.g. to look at them in the app's Atlas view).
  if [ -n "${DEEPVIS_BENCH_KEEP:-}" ]; then mkdir -p "$DEEPVIS_BENCH_KEEP" && cp -r "$TMP"/atlas-* "$DEEPVIS_BENCH_KEEP"/ 2>/dev/null || true; fi
  for p in "${WORKERS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }

# bench NAME UNITS_COUNT -- sweep args...
bench_local() {
  local name=$1 workers=$2 units=$3; shift 3
  local out="$TMP/atlas-$name-local$workers"
  local t0 t1
  t0=$(now)
  $DV sweep "$@" --workers "$workers" --out "$out" >"$TMP/log" 2>&1 || { cat "$TMP/log"; exit 1; }
  t1=$(now)
  awk -v n="$units" -v a="$t0" -v b="$t1" -v w="$workers" -v m="$name" \
    'BEGIN { s = b - a; printf "%-10s local pool, %d worker(s)     %6.1f s  %6.1f units/min\n", m, w, s, n * 60 / s }'
}

bench_redis() {
  local name=$1 model=$2 units=$3; shift 3
  local out="$TMP/atlas-$name-redis"
  local port=$((20000 + RANDOM % 20000))
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --requirepass benchpw \
    --maxmemory 256mb >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  sleep 0.5
  local url="redis://:benchpw@127.0.0.1:$port"
  local qn="bench-$name-$RANDOM"
  WORKERS=()
  for i in 1 2; do
    $DV worker --queue "$url" --queue-name "$qn" --model "$model" --concurrency 1 >"$TMP/worker$i.log" 2>&1 &
    WORKERS+=($!)
  done
  sleep 20 # let the workers start their engine and load the model before the clock starts
  local t0 t1
  t0=$(now)
  $DV sweep "$@" --queue "$url" --queue-name "$qn" --out "$out" >"$TMP/log" 2>&1 || { cat "$TMP/log"; exit 1; }
  t1=$(now)
  awk -v n="$units" -v a="$t0" -v b="$t1" -v m="$name" \
    'BEGIN { s = b - a; printf "%-10s BullMQ, 2 workers            %6.1f s  %6.1f units/min\n", m, s, n * 60 / s }'
  for p in "${WORKERS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  WORKERS=()
  kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=""
}

run_model() {
  local name=$1 model=$2 units=$3; shift 3
  bench_local "$name" 1 "$units" --model "$model" "$@"
  bench_local "$name" 2 "$units" --model "$model" "$@"
  if command -v redis-server >/dev/null; then
    bench_redis "$name" "$model" "$units" --model "$model" "$@"
  else
    echo "$name: redis-server not installed, BullMQ figure skipped"
  fi
}

if [ "$WHICH" = all ] || [ "$WHICH" = embedded ]; then
  # 10 class units x 2 presets = 20 results, 100 iterations each.
  run_model embedded resources/models/deepvis-shapes 20 \
    --layers logits --units all --preset yosinski-1 --preset yosinski-3 --max-iter 100 --backend wasm
fi
if [ "$WHICH" = all ] || [ "$WHICH" = googlenet ]; then
  if [ -d "$SHARED/models/googlenet_bvlc" ]; then
    # 4 class units (loss3/classifier: their gradient is never 0, so every job runs all its iterations),
    # yosinski-3, 50 iterations each (224x224, wasm).
    run_model googlenet "$SHARED/models/googlenet_bvlc" 4 \
      --layers loss3/classifier --units 0-3 --preset yosinski-3 --max-iter 50 --backend wasm
  else
    echo "googlenet: $SHARED/models/googlenet_bvlc not found, skipped"
  fi
fi
