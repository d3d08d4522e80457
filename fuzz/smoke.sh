#!/usr/bin/env bash
# Fuzz smoke test, for CI: builds every fuzz target with cargo-fuzz, then runs each for a few
# seconds from the committed seeds only (fuzz/corpus/<target>/seed-*), about a minute in all,
# and fails on any crash, panic, leak or timeout. The repository is left untouched: each run
# works on a copy of the seeds in a temporary directory, and artifacts go there too (a crash
# is copied to fuzz/smoke-artifacts/ so that it can be reproduced).
#
#   bash fuzz/smoke.sh              # 8 s per target
#   SMOKE_SECONDS=60 bash fuzz/smoke.sh
#
# cargo-fuzz needs nightly features; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them.
set -euo pipefail
cd "$(dirname "$0")"

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
seconds="${SMOKE_SECONDS:-8}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

echo "=== building the fuzz targets"
cargo fuzz build
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="target/${triple}/release"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=()
ran=0
for target in $(cargo fuzz list); do
    corpus="$work/$target/corpus"
    artifacts="$work/$target/artifacts"
    mkdir -p "$corpus" "$artifacts"
    seeds=0
    for seed in "corpus/$target"/seed-*; do
        [ -e "$seed" ] || continue
        cp "$seed" "$corpus/"
        seeds=$((seeds + 1))
    done
    echo "=== $target: ${seconds} s from $seeds seeds"
    log="$work/$target/log"
    if "$bin_dir/$target" "$corpus" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 || true
        grep -E '^stat::number_of_executed_units' "$log" || true
    else
        echo "!!! $target crashed:"
        grep -E 'panicked|ERROR|SUMMARY' -A 8 "$log" | head -n 40 || tail -n 40 "$log"
        mkdir -p smoke-artifacts
        cp "$artifacts"/* smoke-artifacts/ 2>/dev/null || true
        failed+=("$target")
    fi
    # Saved regressions (inputs that showed bugs in src/, see regressions/README.md) must not
    # crash the targets as they are now.
    if compgen -G "regressions/$target/*" >/dev/null; then
        if ! "$bin_dir/$target" regressions/"$target"/* >"$log.regressions" 2>&1; then
            echo "!!! $target crashed on a saved regression:"
            grep -E 'panicked|ERROR|SUMMARY' -A 8 "$log.regressions" | head -n 40 || tail -n 40 "$log.regressions"
            failed+=("$target")
        fi
    fi
    ran=$((ran + 1))
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz smoke: ${#failed[@]} of $ran targets crashed: ${failed[*]} (inputs in fuzz/smoke-artifacts/)"
    exit 1
fi
echo "fuzz smoke: $ran targets ran ${seconds} s each without a crash"
