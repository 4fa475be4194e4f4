#!/usr/bin/env bash
# Builds the native kernels' standalone check (native/test/kernel_check.cc: every kernel against
# naive double-precision loops, no N-API/Node) four ways and runs it:
#   (a) g++ on this machine, (b) clang++ on this machine, (c) aarch64-linux-gnu-g++ under
#   qemu-aarch64 (the NEON branches of the portable kernels), (d) g++ with AddressSanitizer and
#   UndefinedBehaviorSanitizer (a packing or tiling slip that writes past a buffer).
# Exits 1 if any build or run fails. Builds go to a temporary directory, never native/build.
#
# Missing tools: with CI=true they are installed with apt-get; otherwise the script says what
# to install and exits 1. Environment: KEEP_BUILD=1 keeps the temporary directory,
# CHECK_NATIVE_ONLY="gcc clang arm64 asan" picks a subset, JOBS=n parallel compiles.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/native/src"
HARNESS="$ROOT/native/test/kernel_check.cc"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
ONLY="${CHECK_NATIVE_ONLY:-gcc clang arm64 asan}"
ARM_SYSROOT=/usr/aarch64-linux-gnu

# binding.gyp's flags (ma_common_cflags + cflags_cc) plus the warnings node-gyp adds
# (-Wall -Wextra); -fPIC is irrelevant for an executable. No -Werror: GCC 12 reports false
# -Wmaybe-uninitialized positives inside its own avx512fintrin.h (and in reduce.cc); clang
# builds add -Werror (below), as clang 14 finds nothing.
CXXFLAGS_COMMON=(-std=c++17 -O3 -fno-math-errno -fno-trapping-math -ffp-contract=off -pthread
  -Wall -Wextra -Wno-unused-parameter -I"$SRC")
KERNELS=(gemm conv conv_direct kernels_portable ukernel_portable elementwise reduce optim thread_pool cpu_features)
AVX2_KERNELS=(ukernel_avx2 kernels_avx2)        # binding.gyp: modelauto_avx2, -mavx2 -mfma
AVX512_KERNELS=(ukernel_avx512 optim_avx512 kernels_avx512)  # modelauto_avx512, -mavx512f -mfma

log() { printf '%s\n' "$*"; }

# ---- tools ---------------------------------------------------------------------------------
MISSING_PKGS=()
need() {  # need <command> <package>
  command -v "$1" >/dev/null 2>&1 || MISSING_PKGS+=("$2")
}

find_clang() {
  local c
  for c in clang++ $(compgen -c clang++- 2>/dev/null | sort -t- -k2 -n -r | uniq) /usr/lib/llvm-*/bin/clang++; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

install_missing() {
  [ ${#MISSING_PKGS[@]} -eq 0 ] && return 0
  local pkgs
  pkgs="$(printf '%s\n' "${MISSING_PKGS[@]}" | sort -u | tr '\n' ' ')"
  pkgs="${pkgs% }"
  if [ "${CI:-}" = "true" ]; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
    log "check-native: installing $pkgs"
    # shellcheck disable=SC2086
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkgs || {
      log "check-native: apt-get install $pkgs failed"
      exit 1
    }
  else
    log "check-native: missing tools. Install them with:"
    log "  sudo apt-get install -y $pkgs"
    log "(or run with CI=true to install them automatically)"
    exit 1
  fi
}

want() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

{ want gcc || want asan; } && need g++ g++
if want clang; then find_clang >/dev/null || MISSING_PKGS+=(clang); fi
if want arm64; then
  need aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
  need qemu-aarch64 qemu-user
fi
install_missing
if want arm64 && [ ! -d "$ARM_SYSROOT/lib" ]; then
  log "check-native: $ARM_SYSROOT/lib missing (package libc6-dev-arm64-cross, a dependency of g++-aarch64-linux-gnu)"
  exit 1
fi

# ---- build + run ---------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/modelauto-check-native.XXXXXX")"
if [ "${KEEP_BUILD:-0}" = "1" ]; then
  log "check-native: build directory $WORK (kept)"
else
  trap 'rm -rf "$WORK"' EXIT
fi

# compile_all <outdir> <cxx> <x86: 1|0>: compiles the kernels and the harness, JOBS at a time.
compile_all() {
  local out="$1" cxx="$2" x86="$3" cmds=() f
  local flags=("${CXXFLAGS_COMMON[@]}" "${EXTRA_FLAGS[@]}")
  [ "$x86" = 1 ] && flags+=(-DMODELAUTO_HAVE_AVX2=1 -DMODELAUTO_HAVE_AVX512=1)
  # clang compiles the sources without a warning: keep it that way.
  "$cxx" --version 2>/dev/null | grep -q clang && flags+=(-Werror)
  mkdir -p "$out"
  cmd() { printf '%q ' "$cxx" "${flags[@]}" "$@"; }
  for f in "${KERNELS[@]}"; do cmds+=("$(cmd -c "$SRC/$f.cc" -o "$out/$f.o")"); done
  if [ "$x86" = 1 ]; then
    for f in "${AVX2_KERNELS[@]}"; do cmds+=("$(cmd -mavx2 -mfma -c "$SRC/$f.cc" -o "$out/$f.o")"); done
    for f in "${AVX512_KERNELS[@]}"; do cmds+=("$(cmd -mavx512f -mfma -c "$SRC/$f.cc" -o "$out/$f.o")"); done
  fi
  cmds+=("$(cmd -c "$HARNESS" -o "$out/kernel_check.o")")
  # Each compile's diagnostics go to <object>.log: shown whole when it fails, as one line per
  # warning otherwise (GCC 12's avx512fintrin.h false positives span dozens of lines each).
  local running=0 failed=0 c i=0
  for c in "${cmds[@]}"; do
    i=$((i + 1))
    ( eval "$c" ) >"$out/compile.$i.log" 2>&1 &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
      wait -n || failed=1
      running=$((running - 1))
    fi
  done
  while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
  done
  local lg
  for lg in "$out"/compile.*.log; do
    if [ "$failed" = 1 ]; then
      cat "$lg"
    else
      grep -E '(warning|error):' "$lg" | grep -v '^In file included' || true
    fi
  done
  [ "$failed" = 0 ] || return 1
  "$cxx" -pthread "${EXTRA_FLAGS[@]}" "$out"/*.o -o "$out/kernel_check"
}

# Added to every compile and the link of the current check (the sanitizer build sets them).
EXTRA_FLAGS=()

SUMMARY=()
STATUS=0

# check <name> <cxx> <x86: 1|0> [runner...]
check() {
  local name="$1" cxx="$2" x86="$3"
  shift 3
  local out="$WORK/$name" t0 t1 rc
  log ""
  log "=== $name: $cxx ($("$cxx" --version | head -n 1))"
  t0=$(date +%s.%N)
  if ! compile_all "$out" "$cxx" "$x86"; then
    log "check-native: $name: BUILD FAILED"
    SUMMARY+=("$name: build FAILED")
    STATUS=1
    return
  fi
  t1=$(date +%s.%N)
  log "built in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; running${*:+ under $*}"
  t0=$(date +%s.%N)
  "$@" "$out/kernel_check" 2>&1 | tee "$out/run.log"
  rc=${PIPESTATUS[0]}
  t1=$(date +%s.%N)
  local secs last
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  last="$(grep '^kernel_check: .* checks' "$out/run.log" | tail -n 1)"
  if [ "$rc" -ne 0 ]; then
    SUMMARY+=("$name: run FAILED (exit $rc, ${secs} s) ${last}")
    STATUS=1
  else
    SUMMARY+=("$name: ${last:-no summary line} [wall ${secs} s]")
  fi
}

if want gcc; then
  check gcc-native g++ "$( [ "$(uname -m)" = x86_64 ] && echo 1 || echo 0 )"
fi
if want clang; then
  check clang-native "$(find_clang)" "$( [ "$(uname -m)" = x86_64 ] && echo 1 || echo 0 )"
fi
if want asan; then
  EXTRA_FLAGS=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
  ASAN_OPTIONS=detect_leaks=1 check gcc-asan g++ "$( [ "$(uname -m)" = x86_64 ] && echo 1 || echo 0 )"
  EXTRA_FLAGS=()
fi
if want arm64; then
  check arm64-qemu aarch64-linux-gnu-g++ 0 timeout 900 qemu-aarch64 -L "$ARM_SYSROOT"
fi

log ""
log "=== check-native summary"
for s in "${SUMMARY[@]}"; do log "  $s"; done
if [ "$STATUS" -ne 0 ]; then
  log "check-native: FAILED"
  exit 1
fi
log "check-native: all builds passed"
