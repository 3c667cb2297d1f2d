"""Plumbing shared by both simulators: JSON responses, faults, latency, stats and the server runner."""
