#!/usr/bin/env bash
# Mutation testing of the rules that matter (access, review, push, regions, contracts, feedback, analytics,
# scoring) with mutmut; configuration in pyproject.toml [tool.mutmut]. Slow (each mutant reruns the tests that
# cover it), so it is run by hand, not in CI. Prints the kill rate; `mutmut results` lists the survivors.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf mutants
.venv/bin/mutmut run --max-children "${JOBS:-2}" "$@" || true
.venv/bin/mutmut export-cicd-stats >/dev/null 2>&1 || true
.venv/bin/python - <<'PY'
import json, pathlib
stats = json.loads(pathlib.Path("mutants/mutmut-cicd-stats.json").read_text())
killed, survived = stats["killed"], stats["survived"]
judged = killed + survived
print(json.dumps(stats, indent=2))
print(f"kill rate {killed / judged:.1%} ({killed} of {judged}; no tests: {stats.get('no_tests', 0)}, "
      f"timeouts: {stats.get('timeout', 0)})")
PY
