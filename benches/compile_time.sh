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
# Usage: benches/compile_time.sh [repetitions, default 3]   (prints the minimum of each)
set -euo pipefail

reps="${1:-3}"
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

# The 50 operations: 49 `let`s, each one matrix operation on the previous value, cycling
# through product, sum, transpose, product by a constant, Hadamard product, scaling,
# element-wise tanh and difference; then one dot product.
body() {
    local prev="x" i op
    for i in $(seq 1 49); do
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

write_lib() { # $1: the attribute line or nothing
    {
        echo "//! 50-operation function for compile-time measurements."
        echo "use matdiff::nalgebra::SMatrix;"
        echo
        echo "/// 50 operations on 4x4 matrices."
        [ -n "$1" ] && echo "$1"
        echo "pub fn big(x: SMatrix<f64, 4, 4>, a: SMatrix<f64, 4, 4>, b: SMatrix<f64, 4, 4>) -> f64 {"
        body
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
for args in "check" "build" "build --release"; do
    # shellcheck disable=SC2086
    cargo $args --quiet --manifest-path "$work/Cargo.toml" >/dev/null
done

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

# Macro expansion alone: rustc's `expand_crate` pass (`-Ztime-passes`, a nightly flag, unlocked
# on the stable toolchain with RUSTC_BOOTSTRAP=1 for this one measurement; skipped if that
# fails). The proc macro runs unoptimised, as cargo builds proc macros by default.
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
