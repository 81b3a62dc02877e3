#!/usr/bin/env bash
# End to end: render examples/e2e, start it with `docker compose up --wait`,
# and check it from the outside: every service healthy, dependencies
# started in order, each route reaching its backend through Nginx's host
# port, every Prometheus target up and the generated alerts loaded, and
# PostgreSQL answering with the secret password. Then the first phase
# alone, and a broken variant whose failure must name the unhealthy
# service. Everything is cleaned up, on failure too.
#
#   tests/e2e.sh [PLATGEN]
#
# PLATGEN is the platgen binary (default: target/release/platgen, built if
# missing). Compose v2 is $PLATGEN_DOCKER_COMPOSE, else `docker compose`,
# else a `docker-compose` of version 2. Exits 0 with a SKIP line when no
# Docker engine answers.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start_time=$SECONDS
say() { printf 'e2e: %s\n' "$*"; }
fail() { printf 'e2e: FAILED: %s\n' "$*" >&2; exit 1; }

if ! docker info >/dev/null 2>&1; then
  say "SKIP: no Docker engine answers (docker info failed); nothing was tested"
  exit 0
fi

compose_bin=()
if [ -n "${PLATGEN_DOCKER_COMPOSE:-}" ]; then
  compose_bin=("$PLATGEN_DOCKER_COMPOSE")
elif docker compose version >/dev/null 2>&1; then
  compose_bin=(docker compose)
elif docker-compose version --short 2>/dev/null | grep -q '^2\.'; then
  compose_bin=(docker-compose)
else
  fail "Compose v2 is needed (--wait, top-level name:); set PLATGEN_DOCKER_COMPOSE"
fi

platgen="${1:-$repo/target/release/platgen}"
if [ ! -x "$platgen" ]; then
  (cd "$repo" && cargo build --release --locked --quiet)
fi

image="$("$repo/tests/e2e/base-image.sh")"
docker tag "$image" platgen-e2e-base:bookworm

work="$(mktemp -d)"
project="platgen-e2e-$$-$RANDOM"
projects=()
cleanup() {
  local p
  for p in "${projects[@]}"; do
    "${compose_bin[@]}" -p "$p" --project-directory "$work/$p" -f "$work/$p/compose.yaml" \
      down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
  done
  if [ -n "${events_pid:-}" ]; then kill "$events_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Host ports: the spec's, moved by one offset to a block that is free on
# this machine, so that parallel runs do not collide.
free_offset() {
  python3 - "$@" <<'EOF'
import random, socket, sys
ports = [int(p) for p in sys.argv[1:]]
for _ in range(200):
    offset = random.randrange(0, 20000) - min(ports) + 30000
    ok = True
    for p in ports:
        s = socket.socket()
        try:
            s.bind(("0.0.0.0", p + offset))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(offset)
        sys.exit(0)
sys.exit("no free block of ports")
EOF
}

# render NAME SPEC: a copy of SPEC with its host ports moved, rendered into
# $work/NAME, with a fresh secret.
render() {
  local name="$1" spec="$2" dir="$work/$1"
  mkdir -p "$dir"
  local ports offset
  ports="$(sed -n 's/.*host: \([0-9][0-9]*\).*/\1/p' "$spec")"
  # shellcheck disable=SC2086
  offset="$(free_offset $ports)"
  python3 - "$spec" "$offset" >"$dir/platform.yaml" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
offset = int(sys.argv[2])
print(re.sub(r"host: (\d+)", lambda m: f"host: {int(m.group(1)) + offset}", text), end="")
EOF
  range_low=$((18000 + offset)); range_high=$((18999 + offset))
  sed -i "s/range: \[18000, 18999\]/range: [$range_low, $range_high]/" "$dir/platform.yaml"
  "$platgen" render --quiet "$dir/platform.yaml" --out "$dir"
  mkdir -p "$dir/secrets"
  # A compose secret is bind-mounted as the file is: readable by the
  # services' own users.
  head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/secrets/pg-password"
  chmod 644 "$dir/secrets/pg-password"
  echo "$offset"
}

compose() { # compose PROJECT ARGS...
  local p="$1"; shift
  "${compose_bin[@]}" -p "$p" --project-directory "$work/$p" -f "$work/$p/compose.yaml" "$@"
}

# Why each service that is not healthy is not: its state and the last
# lines of its health log.
report_unhealthy() { # report_unhealthy PROJECT
  local p="$1" id name status
  compose "$p" ps -a --format 'table {{.Service}}\t{{.State}}\t{{.Status}}' >&2 || true
  for id in $(compose "$p" ps -aq); do
    name="$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id")"
    status="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")"
    # Healthy and running ones are fine; created ones waited for another.
    case "$status" in healthy|running|created) continue ;; esac
    printf 'e2e: service %s is %s\n' "$name" "$status" >&2
    docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}    health check (exit {{.ExitCode}}): {{.Output}}{{println}}{{end}}{{end}}' "$id" \
      | grep -v '^[[:space:]]*$' | tail -n 3 >&2
    docker logs --tail 5 "$id" 2>&1 | sed 's/^/    log: /' >&2
  done
}

# --- the platform -----------------------------------------------------------
say "render examples/e2e/platform.yaml as project $project"
offset="$(render "$project" "$repo/examples/e2e/platform.yaml")"
projects+=("$project")
edge_port=$((18080 + offset))
prom_port=$((18090 + offset))
dir="$work/$project"

docker events --filter "label=com.docker.compose.project=$project" \
  --format '{{.TimeNano}}|{{.Action}}|{{index .Actor.Attributes "com.docker.compose.service"}}|{{index .Actor.Attributes "exitCode"}}' \
  >"$work/events" 2>/dev/null &
events_pid=$!
sleep 0.5

say "docker compose up -d --wait --wait-timeout 180"
up_start=$SECONDS
if ! compose "$project" up -d --wait --wait-timeout 180 >"$work/up.log" 2>&1; then
  cat "$work/up.log" >&2
  report_unhealthy "$project"
  fail "the platform did not come up healthy"
fi
say "up in $((SECONDS - up_start)) s"
sleep 1
kill "$events_pid" 2>/dev/null || true
events_pid=""

say "every service is healthy, every job finished with exit code 0"
compose "$project" config --format json >"$work/config.json"
services="$(compose "$project" config --services)"
for s in $services; do
  id="$(compose "$project" ps -aq "$s")"
  [ -n "$id" ] || fail "$s has no container"
  restart="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["services"][sys.argv[2]].get("restart", ""))' "$work/config.json" "$s")"
  if [ "$restart" = no ]; then
    status="$(docker inspect -f '{{.State.Status}} with exit code {{.State.ExitCode}}' "$id")"
    expected="exited with exit code 0"
  else
    status="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}no health check{{end}}' "$id")"
    expected=healthy
  fi
  printf '  %-12s %s\n' "$s" "$status"
  [ "$status" = "$expected" ] || { report_unhealthy "$project"; fail "$s is $status"; }
done

say "dependency order: each dependant started after its dependency was healthy (or done)"
python3 - "$work/config.json" "$work/events" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))
started, healthy, done = {}, {}, {}
for line in open(sys.argv[2]):
    parts = line.rstrip("\n").split("|")
    if len(parts) != 4:
        continue
    t, action, service, code = int(parts[0]), parts[1].strip(), parts[2], parts[3]
    if action == "start":
        started.setdefault(service, t)
    elif action == "health_status: healthy":
        healthy.setdefault(service, t)
    elif action == "die" and code == "0":
        done.setdefault(service, t)
what = {"service_healthy": "healthy", "service_started": "started",
        "service_completed_successfully": "done"}
bad = 0
for name, svc in config["services"].items():
    for dep, how in (svc.get("depends_on") or {}).items():
        cond = how.get("condition")
        if name not in started or dep not in started:
            print(f"  {name} <- {dep}: no start event"); bad += 1; continue
        gate = {"service_healthy": healthy, "service_started": started,
                "service_completed_successfully": done}[cond].get(dep)
        if gate is None:
            print(f"  {name} <- {dep}: {dep} never reported {what[cond]}"); bad += 1; continue
        ok = started[name] > gate
        print(f"  {name:<10} started {(started[name] - gate) / 1e9:6.2f} s after {dep} was {what[cond]}  {'ok' if ok else 'TOO EARLY'}")
        bad += not ok
sys.exit(1 if bad else 0)
EOF

say "routes through Nginx on host port $edge_port"
route() { # route PATH EXPECTED
  local body
  body="$(curl -fsS --max-time 5 "http://127.0.0.1:$edge_port$1")" || fail "GET $1 failed"
  case "$body" in
    "$2"*) printf '  GET %-12s -> %s\n' "$1" "$body" ;;
    *) fail "GET $1 answered '$body', expected '$2...'" ;;
  esac
}
route /healthz "ok"
route /api/hello "api: hello, start 1"   # prefix stripped: api sees /hello
route /api/ "api: root"
route /web/page "web: page, start 1"     # prefix kept: web sees /web/page
status="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$edge_port/hello")"
[ "$status" = 404 ] || fail "GET /hello (no route) answered $status, expected 404"
printf '  GET %-12s -> %s (no route)\n' /hello "$status"
status="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$edge_port/web/hello")"
[ "$status" = 404 ] || fail "GET /web/hello answered $status: web's prefix was stripped"
printf '  GET %-12s -> %s (web keeps its prefix)\n' /web/hello "$status"
# The logs are read whole, then searched: `logs | grep -q` under pipefail
# can fail when grep stops reading first (compose then gets SIGPIPE);
# and the engine hands a line to the logs a moment after nginx writes it.
logged=0
for _ in $(seq 1 20); do
  edge_logs="$(compose "$project" logs edge 2>/dev/null || true)"
  if grep -q '"uri":"/api/hello"' <<<"$edge_logs"; then logged=1; break; fi
  sleep 0.5
done
[ "$logged" = 1 ] || fail "docker compose logs edge does not show the access log (10 s)"
say "  the access log is in docker compose logs edge"

say "Prometheus on host port $prom_port: every target up, the generated alerts loaded"
python3 - "$prom_port" "$dir/prometheus/prometheus.yml" "$dir/prometheus/alerts.yml" <<'EOF'
import json, sys, time, urllib.request
port, config, alerts = sys.argv[1], sys.argv[2], sys.argv[3]
def get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.load(r)["data"]
jobs = set()
for line in open(config):
    line = line.strip()
    if line.startswith("- job_name:"):
        jobs.add(line.split(":", 1)[1].strip().strip('"'))
deadline = time.time() + 60
while True:
    targets = get("/api/v1/targets")["activeTargets"]
    health = {}
    for t in targets:
        health.setdefault(t["labels"]["job"], []).append(t["health"])
    if set(health) >= jobs and all(h == "up" for hs in health.values() for h in hs):
        break
    if time.time() > deadline:
        sys.exit(f"targets not all up after 60 s: {health}, expected jobs {sorted(jobs)}")
    time.sleep(1)
for job in sorted(health):
    print(f"  target {job:<12} {', '.join(health[job])}")
expected = set()
for line in open(alerts):
    line = line.strip()
    if line.startswith("- alert:"):
        expected.add(line.split(":", 1)[1].strip().strip('"'))
loaded = {r["name"] for g in get("/api/v1/rules")["groups"] for r in g["rules"]}
missing = expected - loaded
if missing or not expected:
    sys.exit(f"alerts not loaded: {sorted(missing)} (loaded {sorted(loaded)})")
print(f"  {len(loaded)} alert rules loaded, every one of the {len(expected)} generated: {', '.join(sorted(expected))}")
EOF

say "PostgreSQL answers with the secret password, and only with it"
password="$(cat "$dir/secrets/pg-password")"
answer="$(compose "$project" exec -T -e PGPASSWORD="$password" api \
  psql -h postgres -U postgres -qtAX -c 'select count(*) from starts')" \
  || fail "psql with the secret password failed"
[ "$answer" = 1 ] || fail "psql answered '$answer', expected 1 start of api"
say "  select count(*) from starts -> $answer (api wrote it at its start)"
migrations="$(compose "$project" exec -T -e PGPASSWORD="$password" api \
  psql -h postgres -U postgres -qtAX -c 'select count(*) from migrations')"
[ "$migrations" = 1 ] || fail "the migration ran $migrations times, expected once"
say "  select count(*) from migrations -> 1 (the job ran once, before api)"
if compose "$project" exec -T -e PGPASSWORD=wrong api psql -h postgres -U postgres -c 'select 1' >/dev/null 2>&1; then
  fail "PostgreSQL accepted a wrong password"
fi
say "  a wrong password is refused"

say "docker compose down: every container stops within its grace period"
down_start=$SECONDS
compose "$project" down --timeout 20 >/dev/null 2>&1
say "  down in $((SECONDS - down_start)) s"
[ $((SECONDS - down_start)) -lt 15 ] || fail "down took $((SECONDS - down_start)) s: a container ignored its stop signal"

say "only the first phase (COMPOSE_PROFILES=\"\")"
COMPOSE_PROFILES="" compose "$project" up -d --wait --wait-timeout 120 >"$work/up1.log" 2>&1 \
  || { cat "$work/up1.log" >&2; report_unhealthy "$project"; fail "the first phase did not come up"; }
running="$(compose "$project" ps --format '{{.Service}}' | sort | tr '\n' ' ')"
say "  running: $running"
[ "$running" = "postgres prometheus redis " ] || fail "the first phase runs '$running'"
compose "$project" down -v --timeout 20 >/dev/null 2>&1
left="$(docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l)"
vols="$(docker volume ls -q --filter "label=com.docker.compose.project=$project" | wc -l)"
if [ "$left" -ne 0 ] || [ "$vols" -ne 0 ]; then
  fail "down -v left $left containers and $vols volumes"
fi
say "  down -v: no container, no volume left"

# --- the broken variant -----------------------------------------------------
broken="$project-broken"
say "broken variant: PostgreSQL's health check never passes"
sed 's/command: \[pg_isready, -q, -h, 127.0.0.1, -U, postgres\]/command: [sh, -c, "echo no connection to the database >\&2; exit 1"]/; s/retries: 60/retries: 3/' \
  "$repo/examples/e2e/platform.yaml" >"$work/broken.yaml"
grep -q 'no connection to the database' "$work/broken.yaml" || fail "the broken variant was not made"
render "$broken" "$work/broken.yaml" >/dev/null
projects+=("$broken")
broken_start=$SECONDS
if compose "$broken" up -d --wait --wait-timeout 60 >"$work/up-broken.log" 2>&1; then
  fail "the broken platform came up"
fi
took=$((SECONDS - broken_start))
report_unhealthy "$broken" 2>"$work/broken-report"
sed 's/^/  /' "$work/up-broken.log" | tail -n 4
sed 's/^/  /' "$work/broken-report"
grep -q '^e2e: service postgres is unhealthy$' "$work/broken-report" \
  || fail "the report does not name postgres as unhealthy"
grep -q 'no connection to the database' "$work/broken-report" \
  || fail "the report does not show postgres's health log"
[ "$took" -lt 60 ] || fail "up --wait took $took s to fail"
say "  up --wait failed after $took s, naming postgres and its health log"

say "PASS in $((SECONDS - start_time)) s"
