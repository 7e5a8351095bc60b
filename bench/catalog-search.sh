#!/usr/bin/env bash
# Times `mycli plugins search` over a catalog of 10,000 plugins, against
# `mycli plugins list` of the same home as the floor, alternating, N runs.
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release}
N=${N:-21}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MYCLI_HOME=$work/home NO_COLOR=1
cd "$work"
minisign -G -W -p m.pub -s m.key >/dev/null
key=$(sed -n 2p m.pub)
python3 - "$key" > draft.toml <<'EOF'
import sys
key = sys.argv[1]
for i in range(10000):
    print(f'[[plugin]]\nname = "p{i:05}"\ndescription = "plugin {i}"\nsource = "oci://registry.example/acme/p{i:05}"\nkeys = ["{key}"]\nversions = [{{ version = "1.{i % 7}.0", api = "^1.0" }}]\n')
EOF
"$BIN/mycli" plugins catalog build draft.toml --sign m.key --to "oci-layout://$work/cat" >/dev/null
"$BIN/mycli" plugins catalog add big "oci-layout://$work/cat" --key m.pub >/dev/null
ls -l "$MYCLI_HOME/catalogs/big.json" | awk '{print "catalog copy:", $5, "bytes"}'
python3 - "$BIN/mycli" "$N" <<'EOF'
import subprocess, sys, time, statistics
mycli, n = sys.argv[1], int(sys.argv[2])
def t(args):
    s = time.perf_counter()
    subprocess.run([mycli] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - s) * 1000
cases = {"search p09999": ["plugins", "search", "p09999"], "search (all)": ["plugins", "search"], "list (floor)": ["plugins", "list"]}
res = {k: [] for k in cases}
for _ in range(n):
    for k, a in cases.items():
        res[k].append(t(a))
for k, v in res.items():
    print(f"{k}: median {statistics.median(v):.2f} ms (min {min(v):.2f}, max {max(v):.2f}), {n} runs")
EOF
