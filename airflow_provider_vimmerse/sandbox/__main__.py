"""Allow ``python -m airflow_provider_vimmerse.sandbox`` as well as the ``vimmerse-sandbox`` script."""

from __future__ import annotations

from airflow_provider_vimmerse.sandbox.cli import main

raise SystemExit(main())
