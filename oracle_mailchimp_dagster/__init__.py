"""Keep Mailchimp audiences aligned with the Oracle Fusion Cloud ERP customer master, on Dagster."""

__version__ = "0.1.0"
