#!/usr/bin/env bash
# Real Redis 8 (vector sets: VADD/VSIM/VREM) on a Debian bookworm machine, without
# touching the system: downloads trixie's redis-server and redis-tools plus the
# libraries they need with `apt-get download` against a PRIVATE trixie source list,
# unpacks them with `dpkg -x` into .cache/redis8/, and runs the binaries through
# trixie's own dynamic loader (`ld-linux-x86-64.so.2 --library-path ...`).
# The system's apt sources, package lists and libc are never changed.
#
# Usage:
#   scripts/redis8.sh install           # idempotent; prints the root folder
#   scripts/redis8.sh start PORT [DIR]  # foreground redis-server on 127.0.0.1:PORT
#   scripts/redis8.sh cluster PORT [DIR] # Redis Cluster: 3 masters + 3 replicas on PORT..PORT+5
#                                       # (foreground; Ctrl-C stops all six)
#   scripts/redis8.sh cli ARGS...       # redis-cli through the same loader
#   scripts/redis8.sh check             # starts a server, checks VADD/VSIM, stops it
#   scripts/redis8.sh env               # prints ROOT, LOADER, LIBRARY_PATH
#   scripts/redis8.sh mirror            # prints the Debian archive it downloads from
#
# Environment: REDIS8_CACHE (default <repo>/.cache/redis8), REDIS8_MIRROR (default: the Debian
# archive this machine's own apt sources use, read from $REDIS8_APT_ETC/sources.list.d/*.sources
# and $REDIS8_APT_ETC/sources.list, REDIS8_APT_ETC defaulting to /etc/apt), REDIS8_SUITE
# (default trixie).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${REDIS8_CACHE:-$repo/.cache/redis8}"
# The first Debian archive URI of the machine's apt sources: deb822 paragraphs (.sources) and
# one-line entries (.list), skipping security archives and non-Debian repositories (URIs not
# ending in /debian).
apt_etc="${REDIS8_APT_ETC:-/etc/apt}"
system_mirror() {
  local files=()
  shopt -s nullglob
  files=("$apt_etc"/sources.list.d/*.sources)
  shopt -u nullglob
  if ((${#files[@]} > 0)); then
    awk '
      BEGIN { IGNORECASE = 1 }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { for (i = 2; i <= NF; i++) uris = uris " " $i }
      /^Suites:/ { suites = $0 }
      function flush() {
        if (uris != "" && suites !~ /-security/) {
          n = split(uris, u, " ")
          for (i = 1; i <= n; i++) if (u[i] ~ /\/debian\/?$/) { print u[i]; found = 1; exit }
        }
        uris = ""; suites = ""
      }
      END { if (!found) flush() }
    ' "${files[@]}" | head -n 1
  fi
  files=()
  local f
  for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
    [[ -f "$f" ]] && files+=("$f")
  done
  if ((${#files[@]} > 0)); then
    awk '$1 == "deb" && $0 !~ /-security/ {
      for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit }
    }' "${files[@]}" 2>/dev/null | head -n 1
  fi
}

mirror="${REDIS8_MIRROR:-$(system_mirror | head -n 1 || true)}"
mirror="${mirror%/}"
suite="${REDIS8_SUITE:-trixie}"
arch="$(dpkg --print-architecture)"
root="$cache/root"
apt_dir="$cache/apt"
debs="$cache/debs"
stamp="$cache/.installed"

# The issue's list plus what `ld.so --list` showed resolved from the host (zlib1g,
# libzstd1), so nothing is taken from bookworm's /lib.
packages=(
  redis-server redis-tools
  libc6 libstdc++6 libgcc-s1 libatomic1 libjemalloc2 liblzf1 libssl3t64
  libsystemd0 libcap2 libzstd1 zlib1g
)

case "$arch" in
  amd64) loader_name=ld-linux-x86-64.so.2; triplet=x86_64-linux-gnu ;;
  arm64) loader_name=ld-linux-aarch64.so.1; triplet=aarch64-linux-gnu ;;
  *) echo "redis8.sh: unsupported architecture $arch" >&2; exit 1 ;;
esac
loader="$root/usr/lib/$triplet/$loader_name"
lib_path="$root/usr/lib/$triplet:$root/lib/$triplet"

apt_opts() {
  printf '%s\n' \
    -o "Dir::Etc::sourcelist=$apt_dir/sources.list" \
    -o "Dir::Etc::sourceparts=$apt_dir/empty" \
    -o "Dir::Etc::preferences=$apt_dir/empty/preferences" \
    -o "Dir::Etc::preferencesparts=$apt_dir/empty" \
    -o "Dir::State::Lists=$apt_dir/lists" \
    -o "Dir::Cache=$apt_dir/cache" \
    -o "APT::Architecture=$arch" \
    -o "APT::Architectures=$arch" \
    -o "Acquire::Languages=none" \
    -o "APT::Sandbox::User=$(id -un)" \
    -o "Debug::NoLocking=1"
}

is_installed() {
  [[ -f "$stamp" && -x "$root/usr/bin/redis-server" && -e "$loader" ]]
}

install() {
  if is_installed; then
    echo "$root"
    return 0
  fi
  # Parallel test workers may all call install: one downloads, the others wait.
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  if is_installed; then
    flock -u 9
    echo "$root"
    return 0
  fi
  mkdir -p "$apt_dir/empty" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$debs" "$root"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  if [[ -z "$mirror" ]]; then
    echo "redis8.sh: no Debian archive found in this machine's apt sources; set REDIS8_MIRROR" >&2
    exit 1
  fi
  echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
  mapfile -t opts < <(apt_opts)
  echo "redis8.sh: apt-get update (private $suite list)" >&2
  apt-get "${opts[@]}" -qq update >&2
  (cd "$debs" && apt-get "${opts[@]}" -qq download "${packages[@]}" >&2)
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
  # The server binary decides its mode from argv[0]; keep a real name for it.
  if [[ ! -x "$root/usr/bin/redis-server" ]]; then
    echo "redis8.sh: redis-server missing after unpack" >&2
    exit 1
  fi
  local missing
  missing="$(LD_LIBRARY_PATH= "$loader" --library-path "$lib_path" --list "$root/usr/bin/redis-check-rdb" | grep 'not found' || true)"
  if [[ -n "$missing" ]]; then
    echo "redis8.sh: libraries still missing:" >&2
    echo "$missing" >&2
    exit 1
  fi
  "$loader" --library-path "$lib_path" --argv0 redis-server "$root/usr/bin/redis-check-rdb" --version >&2
  touch "$stamp"
  flock -u 9
  echo "$root"
}

start() {
  local port="${1:?usage: redis8.sh start PORT [DIR]}"
  local dir="${2:-$cache/run-$port}"
  install >/dev/null
  mkdir -p "$dir"
  # --argv0 keeps argv[0] = redis-server: the binary is redis-check-rdb and picks
  # its mode from its name. exec so the caller's pid is the server's pid.
  exec "$loader" --library-path "$lib_path" --argv0 redis-server "$root/usr/bin/redis-check-rdb" \
    --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --protected-mode yes --daemonize no --loglevel warning
}

cluster() {
  local port="${1:?usage: redis8.sh cluster PORT [DIR]}"
  local dir="${2:-$cache/cluster-$port}"
  install >/dev/null
  local pids=() seeds=() p
  trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
  for p in $(seq "$port" $((port + 5))); do
    mkdir -p "$dir/$p"
    rm -f "$dir/$p/nodes.conf"
    (cd "$dir/$p" && exec "$loader" --library-path "$lib_path" --argv0 redis-server "$root/usr/bin/redis-check-rdb" \
      --port "$p" --bind 127.0.0.1 --dir "$dir/$p" --save "" --appendonly no --protected-mode yes \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
      --daemonize no --loglevel warning) &
    pids+=($!)
    seeds+=("127.0.0.1:$p")
  done
  local c=("$loader" --library-path "$lib_path" --argv0 redis-cli "$root/usr/bin/redis-cli")
  for p in $(seq "$port" $((port + 5))); do
    local up=""
    for _ in $(seq 100); do "${c[@]}" -p "$p" ping >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
    # A node that never answers (its port or its bus port, PORT+10000, taken) fails the start at once.
    [[ -n "$up" ]] || { echo "redis8.sh: cluster node $p did not start (is $p or $((p + 10000)) in use?)" >&2; exit 1; }
  done
  "${c[@]}" --cluster create "${seeds[@]}" --cluster-replicas 1 --cluster-yes >&2 ||
    { echo "redis8.sh: redis-cli --cluster create failed" >&2; exit 1; }
  # A line of its own: redis-cli ends its report inside a colour escape.
  printf '\n' >&2
  echo "redis8.sh: cluster up; REDIS_CLUSTER=true REDIS_URL=$(printf 'redis://%s,' "${seeds[@]}" | sed 's/,$//')" >&2
  wait
}

cli() {
  install >/dev/null
  exec "$loader" --library-path "$lib_path" --argv0 redis-cli "$root/usr/bin/redis-cli" "$@"
}

check() {
  install >/dev/null
  local port="${1:-$(( 20000 + RANDOM % 20000 ))}"
  "$0" start "$port" "$cache/check-$port" &
  check_pid=$!
  check_dir="$cache/check-$port"
  trap 'kill "$check_pid" 2>/dev/null || true; wait "$check_pid" 2>/dev/null || true; rm -rf "$check_dir"' EXIT
  local c=("$loader" --library-path "$lib_path" --argv0 redis-cli "$root/usr/bin/redis-cli" -p "$port")
  for _ in $(seq 50); do "${c[@]}" ping >/dev/null 2>&1 && break; sleep 0.1; done
  "${c[@]}" info server | grep -E '^redis_version'
  "${c[@]}" VADD check:vs VALUES 3 1 0 0 a >/dev/null
  "${c[@]}" VADD check:vs VALUES 3 0 1 0 b >/dev/null
  local out
  out="$("${c[@]}" VSIM check:vs VALUES 3 0.9 0.1 0 WITHSCORES COUNT 1 | head -1)"
  if [[ "$out" != "a" ]]; then
    echo "redis8.sh: VSIM returned '$out', expected 'a'" >&2
    exit 1
  fi
  echo "VADD/VSIM ok"
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  cluster) shift; cluster "$@" ;;
  cli) shift; cli "$@" ;;
  check) shift; check "$@" ;;
  env) install >/dev/null; printf 'ROOT=%s\nLOADER=%s\nLIBRARY_PATH=%s\n' "$root" "$loader" "$lib_path" ;;
  mirror) [[ -n "$mirror" ]] || { echo "redis8.sh: no Debian archive in the apt sources" >&2; exit 1; }; echo "$mirror" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
