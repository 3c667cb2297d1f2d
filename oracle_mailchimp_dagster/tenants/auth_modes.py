"""How a tenant authenticates to each side (kept apart so the client settings can name them too)."""

from enum import StrEnum


class OracleAuthMode(StrEnum):
    OAUTH = "oauth"
    BASIC = "basic"


class MailchimpAuthMode(StrEnum):
    API_KEY = "api_key"
    OAUTH = "oauth"
