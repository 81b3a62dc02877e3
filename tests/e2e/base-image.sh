#!/usr/bin/env bash
# Build the Docker image the end-to-end platform (examples/e2e) runs on, from
# Debian packages: no registry is needed, only a Debian mirror.
#
#   tests/e2e/base-image.sh            build (or reuse) the image, print its tag
#
# The image is `platgen-e2e-base:<key>`, where <key> is a hash of the suite,
# the mirror and the package list below. Nothing is built when the engine
# already has that tag. The root file system is cached as a tarball in
# ${PLATGEN_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platgen/e2e}/<key>.tar,
# so a new engine only imports it (seconds) instead of running debootstrap
# (about a minute and a half). Needs root (debootstrap) only to build the
# tarball, and the `debootstrap` package (installed if missing).
set -euo pipefail

suite=bookworm
packages=(
  nginx-light prometheus postgresql redis-server busybox-static curl ca-certificates
)
# The mirror this machine's apt sources name for the suite (deb822 or
# one-line format), else Debian's own.
mirror_of_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk -v suite="$suite" '
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = uri }
      /^$/ { uri = "" }
      END { if (found) print found }' "$f"
  done
  if [ -e /etc/apt/sources.list ]; then
    awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }' /etc/apt/sources.list
  fi
}
mirror="${PLATGEN_E2E_MIRROR:-$(mirror_of_sources | grep -v -e security -e '^$' | head -1)}"
mirror="${mirror:-http://deb.debian.org/debian}"

# The key changes with anything that changes the image's content.
recipe="suite=$suite mirror=$mirror packages=${packages[*]} recipe=2"
key="$(printf '%s' "$recipe" | sha256sum | cut -c1-12)"
tag="platgen-e2e-base:$key"
cache="${PLATGEN_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platgen/e2e}"
tarball="$cache/$key.tar"

log() { printf 'base-image: %s\n' "$*" >&2; }

if docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag is present; nothing to build"
  echo "$tag"
  exit 0
fi

if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  mkdir -p "$cache"
  rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs" "$tarball.part"' EXIT
  log "debootstrap $suite from $mirror: ${packages[*]}"
  start=$SECONDS
  include="$(IFS=,; echo "${packages[*]}")"
  debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; log "debootstrap failed (log: $cache/debootstrap.log)"; exit 1; }
  # Nothing in the image starts at boot, and apt's caches are not needed.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" --numeric-owner -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  rm -rf "$rootfs"
  trap - EXIT
  log "root file system in $((SECONDS - start)) s: $tarball ($(du -h "$tarball" | cut -f1))"
fi

start=$SECONDS
docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/15/bin' \
  --change 'CMD ["/bin/sh"]' "$tarball" "$tag" >/dev/null
log "imported $tag in $((SECONDS - start)) s"
echo "$tag"
