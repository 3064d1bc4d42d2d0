#!/usr/bin/env bash
# Compile-time cost of #[differentiate] (issue 5).
#
# Generates a 50-operation function of 4x4 matrices into a temporary crate that depends on
# matdiff by path, and times `cargo check`, `cargo build` and `cargo build --release` of that
# crate alone (dependencies prebuilt) with and without `#[differentiate(wrt = x)]`. The
# difference is what the macro costs: expansion plus type-checking and code generation of
# `_grad`, `_value_and_grad` and `_hvp`, which the crate calls. The expansion alone is read from rustc's
# `-Ztime-passes` (`expand_crate`).
#
# Then how that cost grows with the body, in a second table: the macro expansion time (in a
# check build) and the `cargo build --release` time, with and without the attribute, of
#   * straight-line bodies of the same generator, by default 250, 500, 1000 and 2000
#     operations;
#   * one function whose body is a loop over a 4x4 state,
#       let mut s = x; for _ in 0..K { s = (a * s).map(|t| t.tanh()) + b; } s.norm_squared()
#     by default at K = 250, 1000 and 4000 iterations.
# A measurement that fails (a body the macro cannot compile yet) or takes longer than the
# time limit is reported as "failed" or "timeout" in the table (the first error goes to
# stderr) and the script goes on.
#
# Usage: benches/compile_time.sh [REPS] [options]   (prints the minimum of REPS runs, default 3)
#   --straight=LIST  straight-line lengths in operations, comma-separated, or "none"
#                    (default 250,500,1000,2000)
#   --loop=LIST      loop iteration counts, comma-separated, or "none" (default 250,1000,4000)
#   --no-base        skip the 50-operation check/debug/release table
#   --timeout=SECS   limit for one cargo invocation (default 900)
#   --quick          the same as `1 --no-base --straight=250 --loop=250` (about 1.5 minutes,
#                    most of it building nalgebra and matdiff once)
# Later arguments override earlier ones: `--quick --loop=1000`. `--straight=none --loop=none`
# is the 50-operation table alone.
set -euo pipefail

usage() {
    sed -n '/^# Usage:/,/^# is the 50-operation/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

reps=3
straight="250,500,1000,2000"
loops="250,1000,4000"
base=1
limit=900
for arg in "$@"; do
    case "$arg" in
    --quick)
        reps=1
        base=0
        straight=250
        loops=250
        ;;
    --straight=*) straight="${arg#*=}" ;;
    --loop=*) loops="${arg#*=}" ;;
    --no-base) base=0 ;;
    --timeout=*) limit="${arg#*=}" ;;
    -h | --help)
        usage
        exit 0
        ;;
    *[!0-9]* | "" | 0)
        echo "compile_time.sh: unexpected argument '$arg'" >&2
        usage >&2
        exit 2
        ;;
    *) reps="$arg" ;;
    esac
done
for list in "$straight" "$loops"; do
    if [ "$list" != none ] && ! [[ "$list" =~ ^[0-9]+(,[0-9]+)*$ ]]; then
        echo "compile_time.sh: a size list is comma-separated numbers or 'none', not '$list'" >&2
        exit 2
    fi
done
if ! [[ "$limit" =~ ^[1-9][0-9]*$ ]]; then
    echo "compile_time.sh: --timeout takes a number of seconds, not '$limit'" >&2
    exit 2
fi
[ "$straight" = none ] && straight=""
[ "$loops" = none ] && loops=""
for n in ${straight//,/ }; do
    if [ "$n" -lt 2 ]; then
        echo "compile_time.sh: a straight-line body has at least 2 operations" >&2
        exit 2
    fi
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/matdiff-compile-time.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"

mkdir -p "$work/src"
cat >"$work/Cargo.toml" <<EOF
[package]
name = "matdiff-compile-time"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
matdiff = { path = "$root" }

[workspace]
EOF
cp "$root/Cargo.lock" "$work/Cargo.lock" 2>/dev/null || true
cp "$root/rust-toolchain.toml" "$work/" 2>/dev/null || true

# $1 operations (default 50): $1 - 1 `let`s, each one matrix operation on the previous value,
# cycling through product, sum, transpose, product by a constant, Hadamard product, scaling,
# element-wise tanh and difference; then one dot product.
body() {
    local n="${1:-50}" prev="x" i op
    for i in $(seq 1 $((n - 1))); do
        case $((i % 8)) in
        1) op="a * $prev" ;;
        2) op="$prev + x" ;;
        3) op="$prev.transpose()" ;;
        4) op="$prev * b" ;;
        5) op="$prev.component_mul(&x)" ;;
        6) op="$prev * 0.5" ;;
        7) op="$prev.map(|t| t.tanh())" ;;
        0) op="$prev - a" ;;
        esac
        echo "    let t$i = $op;"
        prev="t$i"
    done
    echo "    $prev.dot(&x)"
}

# A loop of $1 iterations over a 4x4 state, then the squared norm of the state.
loop_body() {
    echo "    let mut s = x;"
    echo "    for _ in 0..$1 {"
    echo "        s = (a * s).map(|t| t.tanh()) + b;"
    echo "    }"
    echo "    s.norm_squared()"
}

write_lib() { # $1: the attribute line or nothing; $2: straight (default) or loop; $3: size
    local kind="${2:-straight}" size="${3:-50}" what
    if [ "$kind" = loop ]; then
        what="a $size-iteration loop over a 4x4 state"
    else
        what="$size operations on 4x4 matrices"
    fi
    {
        echo "//! Function of $what, for compile-time measurements."
        echo "use matdiff::nalgebra::SMatrix;"
        echo
        echo "/// A function of $what."
        [ -n "$1" ] && echo "$1"
        echo "pub fn big(x: SMatrix<f64, 4, 4>, a: SMatrix<f64, 4, 4>, b: SMatrix<f64, 4, 4>) -> f64 {"
        if [ "$kind" = loop ]; then
            loop_body "$size"
        else
            body "$size"
        fi
        echo "}"
        echo
        # Generated functions are #[inline]: they are compiled to machine code where they are
        # called, so call them (and, without the attribute, the function itself).
        echo "/// Uses what the build should compile."
        echo "pub fn used(x: SMatrix<f64, 4, 4>, a: SMatrix<f64, 4, 4>, b: SMatrix<f64, 4, 4>) -> f64 {"
        if [ -n "$1" ]; then
            echo "    let (value, grad) = big_value_and_grad(x, a, b);"
            echo "    value + grad.sum() + big_grad(x, a, b).sum() + big_hvp(x, a, b, a).sum()"
        else
            echo "    big(x, a, b)"
        fi
        echo "}"
    } >"$work/src/lib.rs"
}

# Seconds (minimum over $reps runs) of `cargo $*` rebuilding only the temporary crate.
time_min() {
    local best="" t0 t1 t
    for _ in $(seq 1 "$reps"); do
        touch "$work/src/lib.rs"
        t0=$(date +%s.%N)
        cargo "$@" --quiet --manifest-path "$work/Cargo.toml" >/dev/null
        t1=$(date +%s.%N)
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
    done
    printf "%.3f" "$best"
}

echo "Prebuilding dependencies (matdiff, nalgebra, the proc macro)..." >&2
write_lib ""
if [ "$base" = 1 ]; then
    prebuild=("check" "build" "build --release")
else
    prebuild=("check" "build --release")
fi
for args in "${prebuild[@]}"; do
    # shellcheck disable=SC2086
    cargo $args --quiet --manifest-path "$work/Cargo.toml" >/dev/null
done

if [ "$base" = 1 ]; then
    declare -A plain diff
    for args in "check" "build" "build --release"; do
        write_lib ""
        # shellcheck disable=SC2086
        plain[$args]=$(time_min $args)
        write_lib "#[matdiff::differentiate(wrt = x)]"
        # shellcheck disable=SC2086
        diff[$args]=$(time_min $args)
    done

    echo
    echo "Compile time of a 50-operation function (4x4 matrices), crate alone, min of $reps runs:"
    echo
    echo "| command | plain fn | with #[differentiate] | cost of the macro |"
    echo "|---|---:|---:|---:|"
    for args in "check" "build" "build --release"; do
        printf "| cargo %s | %s s | %s s | %.3f s |\n" "$args" "${plain[$args]}" "${diff[$args]}" \
            "$(awk -v a="${plain[$args]}" -v b="${diff[$args]}" 'BEGIN { print b - a }')"
    done

    # Macro expansion alone: rustc's `expand_crate` pass (`-Ztime-passes`, a nightly flag,
    # unlocked on the stable toolchain with RUSTC_BOOTSTRAP=1 for this one measurement; skipped
    # if that fails). The proc macro runs unoptimised, as cargo builds proc macros by default.
    expand_ms() {
        local best="" t
        for _ in $(seq 1 "$reps"); do
            touch "$work/src/lib.rs"
            t=$(RUSTC_BOOTSTRAP=1 cargo rustc --quiet --manifest-path "$work/Cargo.toml" -- -Ztime-passes 2>&1 |
                awk '$NF == "expand_crate" { gsub(";", "", $2); print $2 * 1000; exit }')
            [ -n "$t" ] || return 1
            if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
        done
        printf "%.1f" "$best"
    }
    write_lib ""
    if plain_expand=$(expand_ms); then
        write_lib "#[matdiff::differentiate(wrt = x)]"
        diff_expand=$(expand_ms)
        echo
        printf "Macro expansion (rustc expand_crate, min of %s): plain fn %s ms, with #[differentiate] %s ms: the macro takes %.1f ms.\n" \
            "$reps" "$plain_expand" "$diff_expand" "$(awk -v a="$plain_expand" -v b="$diff_expand" 'BEGIN { print b - a }')"
    fi
fi

[ -n "$straight$loops" ] || exit 0

# --- Scaling with the size of the body. ---------------------------------------------------
# Each measurement prints a number, or "failed" / "timeout" (and the first error to stderr).

# Cargo rebuilds the dependencies when RUSTC_BOOTSTRAP changes: do that once here, outside the
# time limit of the measurements.
write_lib ""
RUSTC_BOOTSTRAP=1 cargo rustc --profile=check --quiet --manifest-path "$work/Cargo.toml" \
    -- -Ztime-passes >/dev/null 2>&1 || true

# $1: cargo's exit status; $2: its output.
failure() {
    if [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; then
        echo "    timed out after $limit s" >&2
        echo timeout
    else
        echo "    failed (exit status $1):" >&2
        { grep -m1 -A4 '^error' "$2" || tail -n 5 "$2"; } | sed 's/^/      /' >&2
        echo failed
    fi
}

# Seconds, minimum over $reps runs, of `cargo build --release` of the temporary crate.
release_s() {
    local best="" t0 t1 t rc
    for _ in $(seq 1 "$reps"); do
        touch "$work/src/lib.rs"
        rc=0
        t0=$(date +%s.%N)
        timeout "$limit" cargo build --release --quiet --manifest-path "$work/Cargo.toml" \
            >"$work/out.log" 2>&1 || rc=$?
        t1=$(date +%s.%N)
        if [ "$rc" -ne 0 ]; then
            failure "$rc" "$work/out.log"
            return
        fi
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
    done
    printf "%.2f" "$best"
}

# Milliseconds, minimum over $reps runs, of rustc's `expand_crate` in a check build
# (RUSTC_BOOTSTRAP=1 -Ztime-passes, as above; a check build skips code generation, which
# does not change the expansion). "n/a" if rustc prints no such line.
expand_check_ms() {
    local best="" t rc
    for _ in $(seq 1 "$reps"); do
        touch "$work/src/lib.rs"
        rc=0
        RUSTC_BOOTSTRAP=1 timeout "$limit" cargo rustc --profile=check --quiet \
            --manifest-path "$work/Cargo.toml" -- -Ztime-passes >"$work/out.log" 2>&1 || rc=$?
        if [ "$rc" -ne 0 ]; then
            failure "$rc" "$work/out.log"
            return
        fi
        t=$(awk '$NF == "expand_crate" { gsub(";", "", $2); print $2 * 1000; exit }' "$work/out.log")
        if [ -z "$t" ]; then
            echo "n/a"
            return
        fi
        if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
    done
    printf "%.1f" "$best"
}

is_number() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
# "$1 $3", or $1 alone when it is a word.
with_unit() { if is_number "$1"; then echo "$1 $2"; else echo "$1"; fi; }
# $2 - $1 with $3 decimals and unit $4, or "–" unless both are numbers.
difference() {
    if is_number "$1" && is_number "$2"; then
        awk -v a="$1" -v b="$2" -v f="%.$3f $4" 'BEGIN { printf f "\n", b - a }'
    else
        echo "–"
    fi
}

echo
echo "Compile time against the size of the body (4x4 matrices), crate alone, min of $reps runs;"
echo "expansion from rustc's expand_crate in a check build, release from \`cargo build --release\`;"
echo "\"failed\": the crate does not compile, \"timeout\": over $limit s:"
echo
echo "| body | size | expansion, plain fn | expansion, with #[differentiate] | the macro's expansion | build --release, plain fn | build --release, with #[differentiate] | cost of the macro (release) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
measure() { # $1: straight or loop; $2: size
    local kind="$1" size="$2" label unit ep ed rp rd
    if [ "$kind" = loop ]; then
        label="loop over a 4x4 state"
        unit="$size iterations"
    else
        label="straight-line"
        unit="$size operations"
    fi
    echo "Measuring $label, $unit..." >&2
    write_lib "" "$kind" "$size"
    ep=$(expand_check_ms)
    rp=$(release_s)
    write_lib "#[matdiff::differentiate(wrt = x)]" "$kind" "$size"
    ed=$(expand_check_ms)
    rd=$(release_s)
    echo "| $label | $unit | $(with_unit "$ep" ms) | $(with_unit "$ed" ms) | $(difference "$ep" "$ed" 1 ms) | $(with_unit "$rp" s) | $(with_unit "$rd" s) | $(difference "$rp" "$rd" 2 s) |"
}
for n in ${straight//,/ }; do
    measure straight "$n"
done
for n in ${loops//,/ }; do
    measure loop "$n"
done
