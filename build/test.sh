#!/usr/bin/env bash
# Runs the whole test suite (README command 2; .ci/run calls exactly this).
# Fetches the small real datasets the sample smoke tests read, builds once, runs every test project,
# and ends with one summary line "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

bash build/get-data.sh mnist austen

dotnet build Mhc.sln -c Release -nologo -clp:ErrorsOnly -p:TreatWarningsAsErrors=true

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Mhc.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Sum the per-assembly lines ("Passed!  - Failed: 0, Passed: 32, Skipped: 0, ...").
awk -F'[:,]' '/(Passed|Failed)! +- +Failed:/ { f += $2; p += $4; s += $6 }
  END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
