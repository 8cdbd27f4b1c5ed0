#!/usr/bin/env bash
# Long variants of the fault tests, run on demand (never in `pnpm test`):
#   bash apps/coordinator/bench/soak.sh            # ~10 minutes on 2 cores
# churn: workers join and leave for SOAK_CHURN_VERSIONS versions per schedule;
# fuzz: 16 lanes x SOAK_FUZZ_MESSAGES_PER_LANE hostile messages.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_CHURN_VERSIONS="${SOAK_CHURN_VERSIONS:-1500}"
export SOAK_FUZZ_MESSAGES_PER_LANE="${SOAK_FUZZ_MESSAGES_PER_LANE:-6000}"
pnpm build
nice -n 10 pnpm exec vitest run src/integration/churn.test.ts src/integration/fuzz.test.ts \
  src/integration/crash.test.ts src/integration/stall.test.ts
