"""Prometheus series and per-request/per-task counters: the platform's ground floor.

Below every other package (``.importlinter``): the host cache (tenancy), the page cache
(ops), the course cache (courses), uploads and transcodes (video), redemptions (access)
and webhook deliveries record into the objects defined here, and ``ops/prometheus.py``
serves them at ``/metrics``. Imports nothing of ours and no Django models.
"""
