#!/usr/bin/env bash
# Cold-cache test time before and after a change, measured one after another in one sitting:
# BASE (a commit, run from a worktree in one process, as `make test` ran before issue 17) against
# this checkout in one process and as `make test` runs it (one worker per core).
# Usage: bash benchmarks/test_suite_ab.sh [BASE] [TEST FILES...]  (needs `make install` first)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-2f878a6}
shift || true
FILES=${*:-tests/algos/test_dom2.py tests/test_cli_errors.py tests/algos/test_diffusion_baselines.py}
HERE=$PWD
TREE=$(mktemp -d)/base
git worktree add -q "$TREE" "$BASE"
trap 'git -C "$HERE" worktree remove --force "$TREE"' EXIT
run() {  # label, directory, pytest options
    local label=$1 dir=$2
    shift 2
    echo "== $label ($(date -u +%FT%TZ))"
    (cd "$dir" && time JAX_COMPILATION_CACHE_DIR=$(mktemp -d) PYTHONPATH="$dir/src:$dir" \
        "$HERE/.venv/bin/python" -m pytest -q -p no:cacheprovider "$@" $FILES | tail -1)
}
run "before: $BASE, one process" "$TREE" -p no:xdist
run "after: $(git rev-parse --short HEAD), one process" "$HERE" -p no:xdist
run "after: $(git rev-parse --short HEAD), make test's workers" "$HERE" -n auto --dist loadfile
