"""Benchmarks of the provider against the local sandbox API. Run all with ``make bench``."""

from __future__ import annotations
