"""The steps of one sync run (extract, plan, execute, settle), with I/O at the edges.

The Dagster assets call these and add nothing but orchestration and metadata; the logic they
apply lives in `sync/`, the wire in `fusion/` and `mailchimp/`, the tables in `store/`.
"""
