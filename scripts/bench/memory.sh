#!/usr/bin/env bash
# Resident set of a castellan binary: idle, then after each of three bursts of 300
# concurrent sign-ups (argon2id, 19 MiB a hash). Usage: scripts/bench/memory.sh BINARY [QUEUE]
# QUEUE is the password-hashing queue: the default (16 on 2 cores) refuses most of a
# burst with 503; 400 hashes all of it.
set -euo pipefail
bin=$(realpath "$1"); queue=${2:-16}; port=${PORT:-18555}
base="http://127.0.0.1:$port"
dir=$(mktemp -d); cd "$dir"
CASTELLAN_PASSWORD_HASHING_QUEUE=$queue CASTELLAN_RATE_LIMIT_PASSWORD_CHECKS=0 \
  CASTELLAN_RATE_LIMIT_AUTHENTICATION=0 CASTELLAN_ADMIN_CLIENT_ID=bench \
  CASTELLAN_ADMIN_CLIENT_SECRET=bench-secret-bench-secret-bench-secret \
  "$bin" serve --listen "127.0.0.1:$port" >out.txt 2>err.txt &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
sleep 2
rss() { awk '/VmRSS/{print int($2/1024)}' "/proc/$pid/status"; }
echo "idle: $(rss) MiB"
token=$(curl -s "$base/oauth/token" -H 'content-type: application/json' -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"bench\",\"client_secret\":\"bench-secret-bench-secret-bench-secret\",\"audience\":\"$base/api/v2/\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
client=$(curl -s "$base/api/v2/clients" -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"name":"burst","app_type":"spa"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
for round in 1 2 3; do
  codes=$(seq 300 | xargs -P 300 -I{} curl -s -o /dev/null -w "%{http_code}\n" -X POST \
    "$base/dbconnections/signup" -H 'content-type: application/json' \
    -d "{\"client_id\":\"$client\",\"connection\":\"Username-Password-Authentication\",\"email\":\"u$round-{}@example.com\",\"password\":\"Correct-Horse-42x\"}" \
    | sort | uniq -c | awk '{printf "%s x %s, ", $1, $2}')
  sleep 3
  echo "after burst $round (${codes%, }): $(rss) MiB"
done
