"""Shared pytest wiring: each layer keeps its fixtures in tests/fixtures/<layer>.py."""

pytest_plugins = [
    "tests.fixtures.fusion",
    "tests.fixtures.mailchimp",
    "tests.fixtures.store",
    "tests.fixtures.sync",
]
