"""`make bench` web scenarios: seeding, the app server, wrk, round-trip counting, report.

bench/scenarios/web.py composes these modules; each one is small enough to test on
its own (tests/bench/).
"""
