"""`tenants test`: probes over the real clients and the checks that judge what they found."""
