"""Shared pytest wiring: each layer keeps its fixtures in tests/fixtures/<layer>.py."""

from hypothesis import settings

pytest_plugins = [
    "tests.fixtures.fusion",
    "tests.fixtures.mailchimp",
    "tests.fixtures.store",
    "tests.fixtures.sync",
]

# Property tests assert results, never time: a per-example deadline fails on a busy two-core machine
# (speed is measured by the benchmarks instead).
settings.register_profile("project", deadline=None)
settings.load_profile("project")
