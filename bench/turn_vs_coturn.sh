#!/usr/bin/env bash
# Relays the same turnutils_uclient load through Debian's coturn and through our turnserver, one
# after the other, on loopback, and prints for each: packets relayed per second, loss, round-trip
# time and server CPU-seconds per million relayed packets (from /proc/<pid>/stat), and the ratio.
#
# Usage: bench/turn_vs_coturn.sh [MEETING_BINARY]
#   env: CLIENTS (default 10), MESSAGES per client (2000), SIZE bytes (200), INTERVAL ms (1),
#        MODES ("udp tcp"), TURN_WORKERS (ours; default: one per core, like coturn)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
meeting="${1:-$here/build/release/meeting}"
clients="${CLIENTS:-10}"
messages="${MESSAGES:-2000}"
size="${SIZE:-200}"
interval="${INTERVAL:-1}"
modes="${MODES:-udp tcp}"
secret="bench-secret-$$"

for tool in turnserver turnutils_uclient turnutils_peer; do
  command -v "$tool" >/dev/null || { echo "missing $tool (Debian package coturn)" >&2; exit 1; }
done
[[ -x "$meeting" ]] || { echo "missing $meeting (build it: scripts/build.sh release)" >&2; exit 1; }

work="$(mktemp -d /tmp/turn-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk_tck="$(getconf CLK_TCK)"

wait_udp_port() {  # a TURN server answers a STUN binding request when it is ready
  for _ in $(seq 50); do
    if timeout 2 turnutils_stunclient -p "$1" 127.0.0.1 >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "server on port $1 did not come up" >&2
  return 1
}

peer_port="$(free_port)"
turnutils_peer -L 127.0.0.1 -p "$peer_port" >/dev/null 2>&1 &
pids+=($!)

# run_load NAME PID PORT MODE -> prints one result line and records CPU/Mpkt in $work/NAME-MODE
run_load() {
  local name="$1" pid="$2" port="$3" mode="$4" flags=()
  [[ "$mode" == tcp ]] && flags+=(-t)
  local before after start end out
  before="$(cpu_ticks "$pid")"
  start="$(date +%s.%N)"
  out="$(turnutils_uclient "${flags[@]}" -c -e 127.0.0.1 -r "$peer_port" -p "$port" -W "$secret" -u bench \
           -m "$clients" -n "$messages" -l "$size" -z "$interval" 127.0.0.1 2>&1 || true)"
  end="$(date +%s.%N)"
  after="$(cpu_ticks "$pid")"
  local sent recv lost rtt
  sent="$(grep -o 'start_mclient: tot_send_msgs=[0-9]*' <<<"$out" | tail -1 | grep -o '[0-9]*$' || echo 0)"
  recv="$(grep -o 'tot_recv_msgs=[0-9]*' <<<"$out" | tail -1 | grep -o '[0-9]*$' || echo 0)"
  lost="$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' <<<"$out" | tail -1 | sed 's/Total lost packets //' || echo '?')"
  rtt="$(grep -o 'Average round trip delay [0-9.]* ms' <<<"$out" | tail -1 | grep -o '[0-9.]* ms' || echo '?')"
  python3 - "$name" "$mode" "$sent" "$recv" "$lost" "$rtt" "$before" "$after" "$clk_tck" "$start" "$end" \
           "$work/$name-$mode" <<'PY'
import sys
name, mode, sent, recv, lost, rtt, before, after, tck, start, end, record = sys.argv[1:]
sent, recv = int(sent or 0), int(recv or 0)
relayed = sent + recv            # client->peer and peer->client
cpu = (int(after) - int(before)) / int(tck)
wall = float(end) - float(start)
per_m = cpu / relayed * 1e6 if relayed else float('nan')
open(record, 'w').write(f"{per_m}\n")
print(f"{name:8} {mode:4} relayed {relayed:8d} pkts  {relayed / wall:9.0f} pkt/s  loss {lost:>14}  "
      f"rtt {rtt:>9}  server cpu {cpu:6.2f} s  = {per_m:6.2f} cpu-s per million pkts")
PY
}

# --- coturn ---
coturn_port="$(free_port)"
cat >"$work/turnserver.conf" <<CONF
listening-ip=127.0.0.1
relay-ip=127.0.0.1
listening-port=$coturn_port
min-port=60000
max-port=60999
use-auth-secret
static-auth-secret=$secret
realm=meeting
allow-loopback-peers
no-tls
no-dtls
no-cli
no-stdout-log
log-file=$work/coturn.log
pidfile=$work/coturn.pid
simple-log
CONF
turnserver -c "$work/turnserver.conf" >/dev/null 2>&1 &
coturn_pid=$!
pids+=($coturn_pid)
wait_udp_port "$coturn_port"
echo "coturn $(turnserver --version 2>/dev/null | head -1) pid $coturn_pid, ours $meeting"
for mode in $modes; do run_load coturn "$coturn_pid" "$coturn_port" "$mode"; done
kill "$coturn_pid"; wait "$coturn_pid" 2>/dev/null || true

# --- ours ---
our_port="$(free_port)"
http_port="$(free_port)"
worker_flag=()
[[ -n "${TURN_WORKERS:-}" ]] && worker_flag=(--turn-workers "$TURN_WORKERS")
# uclient uses one user for all its clients: lift the per-user quota (default 10).
"$meeting" turnserver --secret "$secret" --port "$our_port" --ip 127.0.0.1 --allow-loopback-peers \
  --relay-ports 61000-61999 --user-quota 100000 --total-quota 100000 --tls-port "$(free_port)" \
  --data "$work/data" --listen "127.0.0.1:$http_port" --log-level warn "${worker_flag[@]}" >"$work/ours.log" 2>&1 &
our_pid=$!
pids+=($our_pid)
wait_udp_port "$our_port"
for mode in $modes; do run_load meeting "$our_pid" "$our_port" "$mode"; done

for mode in $modes; do
  python3 - "$work/coturn-$mode" "$work/meeting-$mode" "$mode" <<'PY'
import sys
c = float(open(sys.argv[1]).read()); m = float(open(sys.argv[2]).read())
print(f"ratio {sys.argv[3]:4}: coturn uses {c / m:.2f}x the CPU per relayed packet of ours")
PY
done
