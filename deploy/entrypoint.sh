#!/bin/sh
# The image's entrypoint: one role per process of a deployment, each the very command the
# split-topology test runs (tests/support/split_topology.py COMMANDS; tests/deploy compares them).
# Everything these processes write (run history, logs, the IO manager's pickles of customer data)
# is private to the dagster user: umask 077 before exec, as README's "Files" asks.
set -eu
umask 077
[ "$#" -gt 0 ] || set -- code-server
case "$1" in
  code-server) shift; exec dagster code-server start -h 0.0.0.0 -p 4000 -m oracle_mailchimp_dagster.definitions "$@" ;;
  webserver) shift; exec dagster-webserver -h 0.0.0.0 -p 3000 -w /opt/dagster/app/workspace.yaml "$@" ;;
  daemon) shift; exec dagster-daemon run -w /opt/dagster/app/workspace.yaml "$@" ;;
  db-upgrade) shift; exec oracle-mailchimp db upgrade "$@" ;;
  *) exec "$@" ;;
esac
