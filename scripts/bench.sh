#!/usr/bin/env bash
# Whole-process benchmarks of platgen, all in one run so that the figures
# compare with each other on a noisy machine: check and render at 28 (the
# root platform), 1,000 and 10,000 services (and render at 100,000), against
# `cp -r` of the same output tree and the hand-written Python script in
# benches/baseline/render.py, with wall time (hyperfine, median), peak RSS
# (/usr/bin/time -v) and the callgrind instruction count of `check` on the
# root platform.
#
# Needs (Debian): apt-get install hyperfine time valgrind; pip install jinja2 pyyaml
#
# Usage: scripts/bench.sh [--quick]    (--quick: 28 and 1,000 only, 3 runs;
#        BENCH_RUNS and BENCH_WARMUP set the runs per figure, default 10 and 3)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
for tool in hyperfine /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing (see the header)" >&2; exit 2; }
done

cargo build --release --locked --quiet --bin platgen --example gen-spec
platgen="$repo/target/release/platgen"
gen="$repo/target/release/examples/gen-spec"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ "$quick" = 1 ]; then sizes=(28 1000); runs=3; warmup=1; else sizes=(28 1000 10000 100000); runs=${BENCH_RUNS:-10}; warmup=${BENCH_WARMUP:-3}; fi

# Before each timed render or copy, the previous run's tree is moved out
# of the way (renamed into $work/trash, which goes when the script ends)
# and everything written so far is written back (sync), so that no run
# pays for the one before. Not removed: on ext4 without a journal (this
# machine's), creating a file skips, one by one, every inode freed in the
# last minutes, so a render right after removing 10,000 files paid up to
# ten times the kernel time of one into a file system that had removed
# nothing (`recently_deleted` under `ext4_create` was a third of such a
# render's profile), and cp -r with it, by how much depending on what was
# removed when. Where the disk cannot hold the trees (BENCH_REMOVE=1, or
# less than 12 GiB free), they are removed instead, as the table says.
mkdir -p "$work/trash"
remove=${BENCH_REMOVE:-0}
free_kib=$(df -Pk "$work" | awk 'NR == 2 {print $4}')
[ "$quick" = 0 ] && [ "$free_kib" -lt $((12 << 20)) ] && remove=1
cat > "$work/aside" <<EOF_ASIDE
#!/bin/sh
if [ "$remove" = 1 ]; then rm -rf "\$1"; elif [ -e "\$1" ]; then mv "\$1" "\$(mktemp -d -p "$work/trash")/"; fi
sync
EOF_ASIDE
chmod +x "$work/aside"
aside="$work/aside"

# Median wall time in ms of a command, by hyperfine; $prepare runs before each.
median() { # median NAME PREPARE CMD
  hyperfine -N --style none --warmup "$w" --runs "$r" --prepare "$2" \
    --export-json "$work/$1.json" "$3" >/dev/null 2>&1 \
    || hyperfine --style none --warmup "$w" --runs "$r" --prepare "$2" \
         --export-json "$work/$1.json" "$3" >/dev/null
  python3 -c "import json,sys; print('%.1f' % (json.load(open(sys.argv[1]))['results'][0]['median']*1000))" "$work/$1.json"
}
# Mean user and system CPU time in ms of the last `median NAME`, into
# $user and $sys.
cpu() { # cpu NAME
  read -r user sys < <(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('%.0f %.0f' % (r['user']*1000, r['system']*1000))" "$work/$1.json")
}
# Peak RSS in MiB of one run.
rss() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident/ {printf "%.1f", $6/1024}'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "platgen: $(git -C "$repo" rev-parse --short HEAD)"
echo
row() { printf '| %8s | %-8s | %10s | %9s | %7s | %7s | %10s | %7s | %10s | %8s |\n' "$@"; }
row services work "platgen ms" "RSS MiB" "user ms" "sys ms" "cp -r ms" "x cp -r" "python ms" "x faster"
printf '|%s|\n' "----------|----------|------------|-----------|---------|---------|------------|---------|------------|----------"
declare -A render_ms render_rss render_cpu
for n in "${sizes[@]}"; do
  # 100,000 services: one run each (a render writes 1 GB in 100,000
  # files); BENCH_RUNS_100K sets it.
  if [ "$n" = 100000 ]; then r=${BENCH_RUNS_100K:-1}; w=0; else r=$runs; w=$warmup; fi
  if [ "$n" = 28 ]; then spec="$repo/platform.yaml"; else spec="$work/gen-$n.yaml"; "$gen" "$n" > "$spec"; fi
  out="$work/out-$n"
  if [ "$n" != 100000 ]; then
    t=$(median "check-$n" "true" "$platgen check $spec")
    m=$(rss "$platgen" check "$spec")
    cpu "check-$n"; row "$n" check "$t" "$m" "$user" "$sys" - - - -
  fi
  # A fresh render into an empty directory, as cp -r of its own tree.
  "$platgen" render "$spec" --out "$out" 2>/dev/null
  t=$(median "render-$n" "$aside $work/r" "$platgen render $spec --out $work/r")
  cpu "render-$n"; render_cpu[$n]=$((user + sys)); ru=$user; rs=$sys
  "$aside" "$work/r"; m=$(rss "$platgen" render "$spec" --out "$work/r")
  c=$(median "cp-$n" "$aside $work/c" "cp -r $out $work/c")
  ratio=$(python3 -c "print('%.2f' % ($t / $c))")
  if [ "$n" != 28 ] && [ "$n" != 100000 ] && python3 -c "import jinja2, yaml" 2>/dev/null; then
    p=$(median "py-$n" "$aside $work/p" "python3 $repo/benches/baseline/render.py $spec $work/p")
    faster=$(python3 -c "print('%.1f' % ($p / $t))")
  else
    p=-; faster=-
  fi
  row "$n" render "$t" "$m" "$ru" "$rs" "$c" "$ratio" "$p" "$faster"
  render_ms[$n]=$t; render_rss[$n]=$m
  t=$(median "again-$n" "true" "$platgen render $spec --out $out")
  cpu "again-$n"; row "$n" again "$t" - "$user" "$sys" - - - -
  if [ "$n" != 100000 ]; then
    t=$(median "drift-$n" "true" "$platgen render $spec --out $out --check")
    cpu "drift-$n"; row "$n" --check "$t" - "$user" "$sys" - - - -
    t=$(median "drift-nc-$n" "true" "env PLATGEN_NO_CACHE=1 $platgen render $spec --out $out --check")
    cpu "drift-nc-$n"; row "$n" "--check*" "$t" - "$user" "$sys" - - - -
  fi
  for d in "$out" "$work/r" "$work/c" "$work/p"; do "$aside" "$d"; done
done
echo
echo "again: a re-render with nothing changed (writes no file; answered by the render cache); --check: render --check"
echo "(drift check, answered by the cache); --check*: the same with PLATGEN_NO_CACHE=1 (renders in full)."
echo "user ms, sys ms: platgen's mean CPU time in user space and in the kernel (both cores added up); before each"
if [ "$remove" = 1 ]; then
  echo "render, copy and script run, the previous tree is removed and the removal written back (rm -rf; sync)."
else
  echo "render, copy and script run, the previous tree is moved aside, not removed, and all written back (mv; sync)."
fi
# Growth of render from one size to the next (linear: 10x the services, 10x the time).
for pair in "1000 10000" "10000 100000"; do
  read -r from to <<< "$pair"; set -- "$from" "$to"
  if [ -n "${render_ms[$1]:-}" ] && [ -n "${render_ms[$2]:-}" ]; then
    python3 -c "import sys; a,b,c,d,e,f=map(float,sys.argv[3:]); print('growth %s -> %s services: render time %.1fx, CPU time (user + sys) %.1fx, peak RSS %.1fx' % (sys.argv[1], sys.argv[2], b/a, f/e, d/c))" \
      "$1" "$2" "${render_ms[$1]}" "${render_ms[$2]}" "${render_rss[$1]}" "${render_rss[$2]}" "${render_cpu[$1]}" "${render_cpu[$2]}"
  fi
done
if command -v valgrind >/dev/null; then
  v=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$platgen" --version 2>&1 >/dev/null | awk '/Collected/ {print $4}')
  c=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$platgen" check platform.yaml 2>&1 >/dev/null | awk '/Collected/ {print $4}')
  echo "callgrind: platgen check platform.yaml: $c instructions (platgen --version: $v)"
  for n in 28 1000; do
    if [ "$n" = 28 ]; then spec="$repo/platform.yaml"; else spec="$work/gen-$n.yaml"; fi
    "$aside" "$work/cg"
    i=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$platgen" render "$spec" --out "$work/cg" 2>&1 >/dev/null | awk '/Collected/ {print $4}')
    echo "callgrind: platgen render, $n services, into an empty directory: $i instructions"
  done
fi
