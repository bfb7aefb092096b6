#!/usr/bin/env bash
# Castellan's client_credentials token endpoint against the oidc-provider peer, in one run on
# one machine, plus the single-thread signing bench, so every figure below has its reference
# measured alongside it. Quote the ratios, not the absolute figures (shared, noisy machine).
#
#   scripts/bench/cc-vs-peer.sh
#
# Steps: install wrk if missing; copy /work/shared/peers to a temp dir (npm ci there);
# cargo build --release -p castellan; cargo bench -p castellan-core --bench signing;
# openssl speed / node sign-bench for context; start Castellan on SQLite in the temp dir,
# read its idle RSS, set up two APIs (RS256, EdDSA), one M2M client and its grants through the
# Management API; start the peer; for each round, load Castellan RS256, Castellan EdDSA and the
# peer with bench-client-credentials.sh (wrk, concurrency 1/16/64), each after waiting for the
# machine to be idle and noting how much CPU other processes took meanwhile; break Castellan's
# CPU per token down (threads, context switches, system calls, perf); print a summary with the
# ratios and the targets of BENCHMARKS.md. Takes about 10 minutes plus the build.
#
# Environment:
#   PEERS_SRC=/work/shared/peers   where the reference peers are laid out (read-only)
#   PEERS_DIR=<tmp>/peers          writable copy to use (reuse one to skip npm ci next time)
#   PORT=18080  PEER_PORT=4010
#   ROUNDS=3                       repeat the three load runs (summary takes the median)
#   QUIET_WAIT=120                 seconds to wait for the machine to be idle before each load run
#   CASTELLAN_BIN=path             benchmark this binary instead of building the working tree
#   SKIP_BUILD=1  SKIP_SIGNING=1  SKIP_CONTEXT=1   skip those steps
#   PROFILE=0                      skip the per-token cost breakdown (/proc, strace, perf)
#   KEEP=1                         keep the temp dir (logs, database, results.tsv)
#   DURATION / CONCURRENCY / THREADS / WARMUP    passed to bench-client-credentials.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PEERS_SRC="${PEERS_SRC:-/work/shared/peers}"
PORT="${PORT:-18080}"
PEER_PORT="${PEER_PORT:-4010}"
ROUNDS="${ROUNDS:-3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/castellan-bench.XXXXXX")"
PEERS_DIR="${PEERS_DIR:-$work/peers}"
results="$work/results.tsv"
summary_env="$work/summary.env"
: >"$results"
: >"$summary_env"

say() { printf '\n== %s\n' "$*"; }
note() { printf '%s=%s\n' "$1" "$2" >>"$summary_env"; }

castellan_pid=
peer_pid=
cleanup() {
  for p in $castellan_pid $peer_pid; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# One line per thread: tid, name, utime+stime ticks, voluntary+involuntary context switches.
thread_snapshot() {
  local t; for t in /proc/"$1"/task/*; do
    [[ -r $t/stat ]] || continue
    printf '%s %s %s %s\n' "${t##*/}" "$(tr -c 'A-Za-z0-9_\n-' '_' <"$t/comm")" \
      "$(sed 's/^.*) //' "$t/stat" | awk '{print $12 + $13}')" \
      "$(awk '/ctxt_switches/ {n += $2} END {print n}' "$t/status")"
  done
}
rss_mib() { awk '$1=="VmRSS:" {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# --- prerequisites ------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  sudo=; [[ "$(id -u)" == 0 ]] || sudo=sudo
  $sudo apt-get install -y wrk || { $sudo apt-get update && $sudo apt-get install -y wrk; }
fi
if [[ ! -d "$PEERS_DIR" ]]; then
  cp -r "$PEERS_SRC" "$PEERS_DIR"
fi
if [[ ! -d "$PEERS_DIR/oidc-provider/node_modules/oidc-provider" ]]; then
  say "installing the oidc-provider peer (npm ci)"
  "$PEERS_DIR/oidc-provider/setup.sh"
fi
bench="$PEERS_DIR/bench/bench-client-credentials.sh"

cd "$repo"
if [[ -n "${CASTELLAN_BIN:-}" ]]; then
  bin="$CASTELLAN_BIN"
else
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    say "cargo build --release -p castellan"
    cargo build --release -p castellan
  fi
  bin="$repo/target/release/castellan"
fi

say "machine"
echo "$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr), $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "castellan ${CASTELLAN_BIN:-$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo ' (+ uncommitted changes)')}, wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}'), node $(node --version)"

# --- single-thread signing rates ------------------------------------------------
if [[ "${SKIP_SIGNING:-0}" != 1 ]]; then
  say "cargo bench -p castellan-core --bench signing"
  cargo bench -p castellan-core --bench signing >"$work/signing.txt" 2>"$work/signing.err" ||
    { tail -n 30 "$work/signing.err" >&2; exit 1; }
  cat "$work/signing.txt"
  # RS256 row: alg raw/s jwt/s ratio raw/cpu-s jwt/cpu-s ratio
  awk '$1=="RS256" {print "raw_rs256_wall=" $2; print "raw_rs256_cpu=" $5; print "jwt_rs256_cpu=" $6}' "$work/signing.txt" >>"$summary_env"
  awk '$1=="EdDSA" {print "raw_eddsa_cpu=" $5}' "$work/signing.txt" >>"$summary_env"
fi
if [[ "${SKIP_CONTEXT:-0}" != 1 ]]; then
  say "openssl speed -seconds 5 rsa2048"
  openssl speed -seconds 5 rsa2048 2>/dev/null | tail -n 3 | tee "$work/openssl.txt"
  awk '/^rsa 2048/ || /^rsa2048/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) v[++n] = $i; print "openssl_rsa2048_sign=" v[n-1]; exit}' "$work/openssl.txt" >>"$summary_env" || true
  say "node oidc-provider/sign-bench.mjs 5"
  (cd "$PEERS_DIR/oidc-provider" && node sign-bench.mjs 5) | tee "$work/node-sign.txt"
  awk '/^crypto.sign \(sync\)/ {print "node_rs256_sign=" $3}' "$work/node-sign.txt" >>"$summary_env"
fi

# --- Castellan ----------------------------------------------------------------
say "starting Castellan on 127.0.0.1:$PORT (SQLite in $work)"
base="http://127.0.0.1:$PORT"
admin_secret="bench-admin-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
CASTELLAN_ADMIN_CLIENT_ID=bench-admin CASTELLAN_ADMIN_CLIENT_SECRET="$admin_secret" \
  CASTELLAN_DATA_DIR="$work" RUST_LOG=warn \
  "$bin" serve --listen "127.0.0.1:$PORT" --database "sqlite://$work/castellan.db" \
  >"$work/castellan.log" 2>&1 </dev/null &
castellan_pid=$!
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
  kill -0 "$castellan_pid" 2>/dev/null || { cat "$work/castellan.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "$base/healthz" || { echo "Castellan did not become healthy" >&2; cat "$work/castellan.log" >&2; exit 1; }
sleep 2
idle_rss="$(rss_mib "$castellan_pid")"
echo "pid $castellan_pid, idle VmRSS $idle_rss MiB"
note castellan_idle_rss_mib "$idle_rss"

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
api() {  # METHOD PATH JSON
  local out code
  out="$(curl -sS -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $admin_token" \
    -H 'Content-Type: application/json' --data-raw "$3" "$base$2")"
  code="${out##*$'\n'}"
  if [[ "$code" != 2* ]]; then echo "$1 $2: HTTP $code: ${out%$'\n'*}" >&2; exit 1; fi
  printf '%s\n' "${out%$'\n'*}"
}

admin_token="$(curl -fsS "$base/oauth/token" \
  --data-urlencode grant_type=client_credentials --data-urlencode client_id=bench-admin \
  --data-urlencode "client_secret=$admin_secret" --data-urlencode "audience=$base/api/v2/" |
  json_field access_token)"
api POST /api/v2/resource-servers '{"identifier":"https://api.bench.local","name":"bench","scopes":[{"value":"read:users"},{"value":"update:roles"}]}' >/dev/null
api POST /api/v2/resource-servers '{"identifier":"https://api-eddsa.bench.local","name":"bench-eddsa","signing_alg":"EdDSA","scopes":[{"value":"read:users"},{"value":"update:roles"}]}' >/dev/null
client="$(api POST /api/v2/clients '{"name":"bench-m2m","app_type":"non_interactive"}')"
client_id="$(json_field client_id <<<"$client")"
client_secret="$(json_field client_secret <<<"$client")"
for aud in https://api.bench.local https://api-eddsa.bench.local; do
  api POST /api/v2/client-grants "{\"client_id\":\"$client_id\",\"audience\":\"$aud\",\"scope\":[\"read:users\",\"update:roles\"]}" >/dev/null
done
echo "APIs, client $client_id and its grants created"
castellan_basic="Basic $(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)"
scope='scope=read%3Ausers%20update%3Aroles'

# --- the peer -----------------------------------------------------------------
say "starting oidc-provider on 127.0.0.1:$PEER_PORT"
peer_log="$work/peer.log"
(cd "$PEERS_DIR/oidc-provider" && PORT="$PEER_PORT" exec node server.mjs) >"$peer_log" 2>&1 </dev/null &
peer_pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$peer_log" && break
  sleep 0.1
done
grep -q 'listening on' "$peer_log" || { cat "$peer_log" >&2; exit 1; }
sleep 2
peer_idle_rss="$(rss_mib "$peer_pid")"
echo "pid $peer_pid, idle VmRSS $peer_idle_rss MiB"
note peer_idle_rss_mib "$peer_idle_rss"

# --- load ---------------------------------------------------------------------
status=0
hz="$(getconf CLK_TCK)"
cpu_busy_idle() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# CPU seconds used by this script's finished children (wrk, curl, ...), from a saved `times`
# (which must run in this shell, not in a $(...) subshell).
children_cpu() {
  awk 'NR == 2 {split($1, u, "m"); split($2, s, "m"); printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$1"
}
# Other people's work on a shared machine skews a run: wait (up to QUIET_WAIT s) until the
# machine is under 15 % busy over 2 s before each load run.
wait_quiet() {
  local b0 i0 b1 i1 pct=0 waited=0
  while (( waited < ${QUIET_WAIT:-120} )); do
    read -r b0 i0 < <(cpu_busy_idle); sleep 2; read -r b1 i1 < <(cpu_busy_idle)
    pct=$(( 100 * (b1 - b0) / (b1 - b0 + i1 - i0 + 1) ))
    (( pct < 15 )) && return 0
    waited=$(( waited + 2 ))
  done
  echo "machine still ${pct} % busy after ${QUIET_WAIT:-120} s of waiting; measuring anyway"
}
load() {  # LABEL PID URL BODY AUTH
  wait_quiet
  say "load: $1 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  local b0 i0 b1 i1 t0 t1 w0 w1
  read -r b0 i0 < <(cpu_busy_idle); t0="$(proc_ticks "$2")"; times >"$work/times0"; w0="$(date +%s.%N)"
  LABEL="$1" SERVER_PIDS="$2" RESULTS="$results" "$bench" "$3" "$4" "$5" || {
    rc=$?; echo "bench-client-credentials.sh exited $rc for $1" >&2; status=$rc
  }
  read -r b1 i1 < <(cpu_busy_idle); t1="$(proc_ticks "$2")"; times >"$work/times1"; w1="$(date +%s.%N)"
  # Whole-machine busy time minus the server's and the load driver's: everyone else.
  awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v d0="$(children_cpu "$work/times0")" -v d1="$(children_cpu "$work/times1")" -v w0="$w0" -v w1="$w1" \
      -v hz="$hz" -v n="$(nproc)" -v label="$1" -v round="$round" 'BEGIN {
    wall = w1 - w0; server = t / hz; driver = d1 - d0; other = b / hz - server - driver
    if (other < 0) other = 0   # tick rounding
    printf "CPU during this run (%% of all %d cores): server %.0f, load driver (wrk, curl) %.0f, other processes %.0f\n", n, 100 * server / wall / n, 100 * driver / wall / n, 100 * other / wall / n
    printf "%s\t%d\t%.1f\t%.1f\t%.1f\n", label, round, 100 * server / wall / n, 100 * driver / wall / n, 100 * other / wall / n >> ENVIRON["BG_FILE"]
  }'
}
export BG_FILE="$work/background.tsv"
: >"$BG_FILE"
for round in $(seq 1 "$ROUNDS"); do
  load castellan-RS256 "$castellan_pid" "$base/oauth/token" \
    "grant_type=client_credentials&audience=https%3A%2F%2Fapi.bench.local&$scope" "$castellan_basic"
  load castellan-EdDSA "$castellan_pid" "$base/oauth/token" \
    "grant_type=client_credentials&audience=https%3A%2F%2Fapi-eddsa.bench.local&$scope" "$castellan_basic"
  load oidc-provider "$peer_pid" "http://127.0.0.1:$PEER_PORT/token" \
    "grant_type=client_credentials&resource=https%3A%2F%2Fapi.bench.local&$scope" \
    "Basic $(printf 'bench-m2m:bench-secret' | base64 -w0)"
done
note castellan_rss_after_load_mib "$(rss_mib "$castellan_pid")"

# --- where Castellan's CPU goes per token (PROFILE=0 to skip) -----------------------------
# One 8 s run at concurrency 16 per algorithm, counting context switches and CPU per thread
# kind from /proc, then one under strace (counts only), then one under `perf record`.
# perf samples the whole machine (-a) and keeps the server's samples afterwards: sampling the
# process (-p) adds a cost to each of its context switches, which halved its token rate here
# and inflated exactly the costs being measured; -a slows it by about 5 %.
# The perf samples are then sorted into buckets (signing, malloc, the channel to sqlx's SQLite
# worker threads, TCP writes, ...) and turned into microseconds per token using the server CPU
# time measured during that same run.
cat >"$work/perf-buckets.py" <<'PY'
import collections, re, sys
us_per_token, server_cpu_s, tokens = float(sys.argv[1]), sys.argv[2], sys.argv[3]
def samples(lines):
    comm, frames = None, []
    for line in lines:
        if not line.strip():
            if comm: yield comm, frames
            comm, frames = None, []
        elif not line[0].isspace():
            comm = line.split()[0]
        else:
            parts = line.strip().split(None, 1)
            frames.append((parts[0], parts[1] if len(parts) > 1 else ""))
    if comm: yield comm, frames
buckets, n = collections.Counter(), 0
for comm, frames in samples(sys.stdin):
    n += 1
    kernel = [s for a, s in frames if a.startswith("ffffffff")]
    user = [s for a, s in frames if not a.startswith("ffffffff")]
    thread = "tokio" if comm.startswith("tokio") else "sqlite-worker" if comm.startswith("sqlx") else comm
    if kernel:
        caller = " ".join(user[:3])   # the user frames that made the system call
        if "flume" in caller: k = "kernel: flume channel to/from sqlx's SQLite worker (futex wake/wait, switches)"
        elif "writev" in caller: k = "kernel: writev (TCP send on loopback, incl. waking wrk)"
        elif re.search(r"pread|pwrite|fsync|fdatasync|fcntl", caller): k = "kernel: SQLite file I/O (pread/pwrite/fcntl/fsync)"
        elif "recv" in caller: k = "kernel: recv"
        elif re.search(r"lll_lock|mutex", caller): k = "kernel: futex (lock contention)"
        elif re.search(r"epoll|park", caller): k = "kernel: epoll/park"
        elif "getrandom" in caller: k = "kernel: getrandom"
        elif any("asm_sysvec" in s or "irqentry" in s for s in kernel): k = "kernel: interrupts, IPIs, preemption"
        else: k = "kernel: other"
    else:
        s = user[0] if user else "?"
        if re.search(r"aws_lc|edwards25519|sha512|sha256|rsaz|bn_|x25519|ed25519", s, re.I): k = "user: aws-lc (signing; the client-secret SHA-256 is under 1 us)"
        elif re.search(r"malloc|free|realloc|calloc|unlink_chunk|consolidate|_int_", s): k = "user: malloc/free"
        elif s.startswith("sqlite3") or s.startswith("pcache"): k = "user: SQLite engine (sqlite3*)"
        elif "sqlx" in s or "flume" in s or re.search(r"^syscall$|pthread_mutex", s): k = "user: sqlx, flume, locks"
        else: k = "user: other (hyper, axum, serde, castellan, tokio, memcpy)"
    buckets[(thread, k)] += 1
print(f"  {n} samples of the server; {tokens} tokens, {server_cpu_s} s of server CPU = {us_per_token:.1f} us CPU/token")
for (thread, k), c in sorted(buckets.items(), key=lambda x: -x[1]):
    if c / n >= 0.003:
        print(f"  {100 * c / n:5.1f} %  {us_per_token * c / n:6.1f} us/token  {thread:<14} {k}")
PY
if [[ "${PROFILE:-1}" == 1 ]]; then
  for alg in RS256 EdDSA; do
    say "per-token costs: castellan-$alg at concurrency 16"
    aud=https%3A%2F%2Fapi.bench.local; [[ $alg == EdDSA ]] && aud=https%3A%2F%2Fapi-eddsa.bench.local
    export BENCH_BODY="grant_type=client_credentials&audience=$aud&$scope" BENCH_AUTH="$castellan_basic"
    snap0="$(thread_snapshot "$castellan_pid")"
    # `times` in the subshell reports wrk's own CPU time (the load driver shares the cores).
    out="$(bash -c 'wrk "$@"; times' _ -t1 -c16 -d8s -s "$PEERS_DIR/bench/client-credentials.lua" "$base/oauth/token")"
    snap1="$(thread_snapshot "$castellan_pid")"
    grep '^RESULT' <<<"$out"
    n="$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")"
    tail -n 1 <<<"$out" | awk -v n="$n" '{
        split($1, u, "m"); split($2, s, "m"); cpu = u[1] * 60 + u[2] + s[1] * 60 + s[2]
        printf "  %-18s %6.0f us CPU/token  (%.0f %% of one core)\n", "wrk (load driver)", cpu / n * 1e6, cpu / 8 * 100 }'
    # Per thread kind: CPU microseconds and context switches per token.
    awk -v n="$n" -v hz="$(getconf CLK_TCK)" '
      FNR == 1 { f++ }
      f == 1 { t0[$1] = $3; c0[$1] = $4; next }
      { k = $2; cpu[k] += $3 - t0[$1]; cs[k] += $4 - c0[$1]; tcpu += $3 - t0[$1]; tcs += $4 - c0[$1] }
      END {
        for (k in cpu) if (cpu[k] > 0 || cs[k] > 0)
          printf "  %-18s %6.0f us CPU/token  %5.1f context switches/token\n", k, cpu[k] / hz / n * 1e6, cs[k] / n
        printf "  %-18s %6.0f us CPU/token  %5.1f context switches/token\n", "all threads", tcpu / hz / n * 1e6, tcs / n
      }' <(echo "$snap0") <(echo "$snap1") | tee -a "$work/per-token-$alg.txt"
    if command -v strace >/dev/null; then
      # System calls per token (strace slows the server a lot; only the counts matter).
      strace -c -f -q -o "$work/strace-$alg.txt" -p "$castellan_pid" &
      strace_pid=$!
      sleep 1
      out="$(wrk -t1 -c16 -d5s -s "$PEERS_DIR/bench/client-credentials.lua" "$base/oauth/token" | grep '^RESULT')"
      sleep 0.5; kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
      n="$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")"
      # strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
      awk -v n="$n" 'NF >= 5 && $1 ~ /^[0-9.]+$/ && $NF != "total" && $4 / n >= 0.1 { printf "%s %.1f\n", $NF, $4 / n }' \
        "$work/strace-$alg.txt" |
        sort -k2 -nr | awk -v n="$n" 'BEGIN {printf "  system calls per token (%d tokens under strace):", n} {printf " %s %s", $1, $2} END {print ""}'
    fi
    if command -v perf >/dev/null; then
      perf record -q -a -F 499 -g -o "$work/perf-$alg.data" -- sleep 9 2>/dev/null &
      perf_pid=$!
      sleep 0.5
      t0="$(proc_ticks "$castellan_pid")"
      out="$(wrk -t1 -c16 -d8s -s "$PEERS_DIR/bench/client-credentials.lua" "$base/oauth/token" | grep '^RESULT')"
      t1="$(proc_ticks "$castellan_pid")"
      echo "under perf: $out"
      wait "$perf_pid" || true
      n="$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")"
      # Self time by thread kind and shared object, then the hottest symbols (% of the server's samples).
      perf report -q -i "$work/perf-$alg.data" --pid "$castellan_pid" --percentage relative --no-children --sort comm,dso -g none >"$work/perf-$alg-dso.txt" 2>/dev/null || true
      perf report -q -i "$work/perf-$alg.data" --pid "$castellan_pid" --percentage relative --no-children --sort sym -g none >"$work/perf-$alg-sym.txt" 2>/dev/null || true
      head -8 "$work/perf-$alg-dso.txt"; echo; head -16 "$work/perf-$alg-sym.txt"; echo
      perf script -i "$work/perf-$alg.data" --pid "$castellan_pid" -F comm,ip,sym 2>/dev/null |
        python3 "$work/perf-buckets.py" "$(awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$n" 'BEGIN {print t / hz / n * 1e6}')" \
          "$(awk -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')" "$n" | tee "$work/perf-$alg-buckets.txt"
    fi
  done
fi

kill -TERM "$peer_pid"; wait "$peer_pid" 2>/dev/null || true; peer_pid=
sed -n 's/^\(.*pid=.*issued=.*\)$/peer: \1/p' "$peer_log"
kill -TERM "$castellan_pid"; wait "$castellan_pid" 2>/dev/null || true; castellan_pid=
if grep -qiE 'panic|error|warn' "$work/castellan.log"; then
  echo "Castellan logged $(grep -ciE 'panic|error|warn' "$work/castellan.log") warning/error lines, first ones:" >&2
  grep -iE 'panic|error|warn' "$work/castellan.log" | head -5 | cut -c1-300 >&2
fi

# --- summary ------------------------------------------------------------------
say "summary"
python3 - "$results" "$summary_env" "$BG_FILE" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    label, conc, rps, per_cpu, cpu_pct = f[0], int(f[1]), float(f[2]), f[10], f[9]
    rows.setdefault((label, conc), []).append(
        (rps, float(per_cpu) if per_cpu not in ("-", "") else float("nan"),
         float(cpu_pct) if cpu_pct not in ("-", "") else float("nan")))
env = dict(l.strip().split("=", 1) for l in open(sys.argv[2]) if "=" in l)
med = lambda xs: statistics.median(xs) if xs else float("nan")
def get(label, conc, i):
    return med([r[i] for r in rows.get((label, conc), [])])
C, E, P = "castellan-RS256", "castellan-EdDSA", "oidc-provider"
concs = sorted({c for (_, c) in rows})
rounds = max(len(v) for v in rows.values())
print(f"tokens/s, server CPU %, tokens per server CPU-second (median of {rounds} round(s)); ratios castellan/peer")
print(f"{'conc':>4} | {'RS256 t/s':>9} {'cpu%':>4} {'t/cpu-s':>7} | {'EdDSA t/s':>9} {'cpu%':>4} {'t/cpu-s':>7} | {'peer t/s':>8} {'cpu%':>4} {'t/cpu-s':>7} | {'RS/peer':>7} {'Ed/peer':>7} {'RS/peer cpu-s':>13} {'Ed/peer cpu-s':>13}")
for c in concs:
    cells = []
    for lab in (C, E, P):
        cells.append((get(lab, c, 0), get(lab, c, 2), get(lab, c, 1)))
    (r1, c1, k1), (r2, c2, k2), (r3, c3, k3) = cells
    print(f"{c:>4} | {r1:>9.0f} {c1:>4.0f} {k1:>7.0f} | {r2:>9.0f} {c2:>4.0f} {k2:>7.0f} | {r3:>8.0f} {c3:>4.0f} {k3:>7.0f} | "
          f"{r1/r3:>7.2f} {r2/r3:>7.2f} {k1/k3:>13.2f} {k2/k3:>13.2f}")
print()
print(f"idle RSS: castellan {env.get('castellan_idle_rss_mib', '?')} MiB, peer {env.get('peer_idle_rss_mib', '?')} MiB; "
      f"castellan after load {env.get('castellan_rss_after_load_mib', '?')} MiB")
ctx = [f"{k}={env[k]}" for k in ("raw_rs256_wall", "raw_rs256_cpu", "jwt_rs256_cpu", "raw_eddsa_cpu",
                                  "openssl_rsa2048_sign", "node_rs256_sign") if k in env]
if ctx:
    print("single-thread signing (per s / per CPU-s):", ", ".join(ctx))
bg = [l.rstrip("\n").split("\t") for l in open(sys.argv[3]) if l.strip()]
if bg:
    print("CPU share of other processes during each load run (% of all cores; wrk and curl excluded):",
          ", ".join(f"{b[0]} r{b[1]} {float(b[4]):.0f}%" for b in bg))
print()
print("targets (best concurrency level for throughput):")
def best(lab, i):
    vals = [get(lab, c, i) for c in concs]
    return max(v for v in vals if v == v) if vals else float("nan")
def verdict(ok): return "MET" if ok else "NOT MET"
if "raw_rs256_cpu" in env:
    raw = float(env["raw_rs256_cpu"]); k = best(C, 1)
    per_level = ", ".join(f"c={c}: {get(C, c, 1)/raw:.2f}" for c in concs)
    print(f"  (a) RS256 tokens per server CPU-s / raw RS256 signs per CPU-s = {k:.0f} / {raw:.0f} = {k/raw:.2f} (target >= 0.85): {verdict(k/raw >= 0.85)}  [{per_level}]")
r = best(C, 0) / best(P, 0)
print(f"  (b) castellan RS256 t/s / peer t/s = {r:.2f} (target >= 1.5): {verdict(r >= 1.5)}")
r = best(E, 0) / best(P, 0)
print(f"  (c) castellan EdDSA t/s / peer t/s = {r:.2f} (target >= 8): {verdict(r >= 8)}")
rss = float(env.get("castellan_idle_rss_mib", "nan"))
print(f"  (d) castellan idle RSS = {rss:.1f} MiB (target < 50 MB = 47.7 MiB): {verdict(rss * 1.048576 < 50)}")
PY
exit "$status"
