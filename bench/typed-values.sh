#!/usr/bin/env bash
# Times what the host's check of typed values (plugin API 1.3) costs a run:
# `mycli done 7` of the API 1.3 compatibility fixture (an `int` arg with a
# range, checked by the host) against the same command of the API 1.2
# fixture (the same plugin, untyped) as the floor, and `mycli done abc`
# refused by the host before the plugin starts. Alternating, N runs each.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$repo/target/release}
N=${N:-31}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1
for api in 1.2 1.3; do
  cp "$repo/tests/compat/api-$api/mycli-todo" "$work/mycli-todo-$api"
  chmod 755 "$work/mycli-todo-$api"
  MYCLI_HOME=$work/home-$api "$BIN/mycli" plugins install "$work/mycli-todo-$api" --yes >/dev/null 2>&1
done
python3 - "$BIN/mycli" "$N" "$work" <<'PY'
import os, subprocess, sys, time, statistics
mycli, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def t(api, args, status):
    env = dict(os.environ, MYCLI_HOME=f"{work}/home-{api}")
    s = time.perf_counter()
    r = subprocess.run([mycli] + args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ms = (time.perf_counter() - s) * 1000
    assert r.returncode == status, (api, args, r.returncode)
    return ms
cases = {
    "done 7, untyped (API 1.2 fixture, floor)": ("1.2", ["done", "7"], 0),
    "done 7, typed int with a range (API 1.3 fixture)": ("1.3", ["done", "7"], 0),
    "done abc, refused by the host (API 1.3 fixture)": ("1.3", ["done", "abc"], 2),
}
res = {k: [] for k in cases}
for _ in range(n):
    for k, (api, args, status) in cases.items():
        res[k].append(t(api, args, status))
for k, v in res.items():
    print(f"{k}: median {statistics.median(v):.2f} ms (min {min(v):.2f}, max {max(v):.2f}), {n} runs")
PY
