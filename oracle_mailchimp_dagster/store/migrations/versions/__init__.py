"""Migration scripts, one per schema version, oldest first. Never edit a released one: add a new one."""
