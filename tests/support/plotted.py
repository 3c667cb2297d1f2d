"""What the UI should plot (the int and float metadata entries) per sync asset: the few figures worth a
plot. One list for the fast asset tests and the GraphQL test."""

PLOTTED = {
    "fusion_customers": {
        "rows",
        "pages",
        "http_calls",
        "quarantined",
        "sent_while_reading",
        "duration_s",
        "spooled_mib",
    },
    "mailchimp_members": {"records", "removals", "chunks", "duration_s"},
    "mailchimp_sync_results": {
        "records",
        "outcome_created",
        "outcome_updated",
        "failed",
        "dead_letters",
        "duration_s",
    },
}
