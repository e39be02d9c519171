"""
DAG-parse cost: what importing the provider adds on top of ``import airflow``.

Runs fresh interpreters with ``python -X importtime`` and reports the cumulative import time of the
hook module and of all operator modules, and whether any HTTP client or the sandbox got imported.

The modules are imported from their bytecode, as from an installed package: the children write and read
``.pyc`` files in a temporary ``PYTHONPYCACHEPREFIX`` (a first, unmeasured run writes them), even where the
environment sets ``PYTHONDONTWRITEBYTECODE`` (this workplace does; then every import would compile the
source and the figures would be about three times higher).

    python -m benchmarks.import_cost
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks.common import report

MODULES = {
    "hook": ["airflow_provider_vimmerse.hooks.vimmerse"],
    "operators": [
        "airflow_provider_vimmerse.operators.media",
        "airflow_provider_vimmerse.operators.batch",
        "airflow_provider_vimmerse.operators.story",
        "airflow_provider_vimmerse.operators.video",
        "airflow_provider_vimmerse.operators.tools",
        "airflow_provider_vimmerse.operators.statistics",
        "airflow_provider_vimmerse.operators.download",
        "airflow_provider_vimmerse.operators.workflow",
        "airflow_provider_vimmerse.operators.finetune",
        "airflow_provider_vimmerse.operators.delete",
        "airflow_provider_vimmerse.sensors.job",
    ],
}
#: Where the children keep the bytecode of every module they import (one folder per benchmark process).
PYCACHE = tempfile.mkdtemp(prefix="vimmerse-pycache-")
HEAVY = ("requests", "aiohttp", "tenacity", "httpx", "fastapi", "uvicorn", "airflow_provider_vimmerse.sandbox")


#: What is imported first: bare Airflow, or also what any DAG with an operator imports anyway.
BASELINES = {
    "over_import_airflow": "import airflow",
    "over_base_operator": (
        "import airflow\nfrom airflow.providers.common.compat.sdk import BaseOperator, BaseSensorOperator"
    ),
}


def one_run(modules: list[str], baseline: str) -> tuple[float, list[str]]:
    """Return (microseconds spent importing ``modules`` after ``baseline``, heavy modules they pulled in)."""
    code = (
        f"import sys\n{baseline}\nbefore = set(sys.modules)\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules and m not in before])"
    )
    env = dict(
        os.environ, AIRFLOW_HOME=os.environ.get("AIRFLOW_HOME") or tempfile.mkdtemp(), PYTHONPYCACHEPREFIX=PYCACHE
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env, check=True
    )
    ours = 0
    for line in result.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"; top-level entries have no indent
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() in modules and not parts[2].startswith("  "):
            ours += int(parts[1].strip())
    heavy = result.stdout.split("HEAVY", 1)[1].strip()
    return ours, eval(heavy)  # the child printed a list literal


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description="import cost of the provider's modules")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args(argv)
    figures: dict[str, object] = {}
    import airflow

    figures["airflow_version"] = airflow.__version__
    for name, modules in MODULES.items():
        one_run(modules, BASELINES["over_base_operator"])  # writes the bytecode; not measured
        heavy: set[str] = set()
        for baseline_name, baseline in BASELINES.items():
            runs = [one_run(modules, baseline) for _ in range(args.runs)]
            figures[f"{name}_import_ms_{baseline_name}"] = statistics.median(r[0] for r in runs) / 1000
            heavy.update(m for r in runs for m in r[1])
        figures[f"{name}_heavy_modules_imported"] = sorted(heavy)
    report(f"import_cost_airflow_{airflow.__version__}", figures, save=args.save)
    return figures


if __name__ == "__main__":
    main()
