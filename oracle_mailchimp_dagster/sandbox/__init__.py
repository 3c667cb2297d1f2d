"""Faithful local simulators of Oracle Fusion and Mailchimp: real HTTP servers for tests and the demo.

Nothing here imports the rest of the package: the sandbox stands alone, as the real APIs do.
"""
