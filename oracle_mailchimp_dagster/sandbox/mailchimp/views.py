"""JSON renderings of the simulator's state in the shapes the Marketing API returns (§3.2, §3.7, §5.2)."""

from typing import Any

from oracle_mailchimp_dagster.sandbox.mailchimp.clock import iso
from oracle_mailchimp_dagster.sandbox.mailchimp.models import AudienceList, Member, MergeField, Segment

SCHEMA_BASE = "https://us21.api.mailchimp.com/schema/3.0"


def link(rel: str, href: str, method: str = "GET", target_schema: str | None = None) -> dict[str, str]:
    out = {"rel": rel, "href": href, "method": method}
    if target_schema:
        out["targetSchema"] = f"{SCHEMA_BASE}/{target_schema}"
    return out


def member_json(audience: AudienceList, member: Member, api_base: str) -> dict[str, Any]:
    href = f"{api_base}/lists/{audience.id}/members/{member.id}"
    merge_fields = {f.tag: member.merge_fields.get(f.tag, "") for f in _ordered(audience)}
    full_name = f"{member.merge_fields.get('FNAME', '')} {member.merge_fields.get('LNAME', '')}".strip()
    return {
        "id": member.id,
        "email_address": member.email_address,
        "unique_email_id": member.unique_email_id,
        "contact_id": member.contact_id,
        "full_name": full_name,
        "web_id": member.web_id,
        "email_type": member.email_type,
        "status": member.status,
        "consents_to_one_to_one_messaging": True,
        "merge_fields": merge_fields,
        "interests": dict(member.interests),
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": member.ip_signup,
        "timestamp_signup": member.timestamp_signup,
        "ip_opt": member.ip_opt,
        "timestamp_opt": member.timestamp_opt,
        "member_rating": member.member_rating,
        "last_changed": iso(member.last_changed),
        "language": member.language,
        "vip": member.vip,
        "email_client": "",
        "location": {
            "latitude": member.location.get("latitude", 0),
            "longitude": member.location.get("longitude", 0),
            "gmtoff": 0,
            "dstoff": 0,
            "country_code": "",
            "timezone": "",
            "region": "",
        },
        "source": member.source,
        "tags_count": len(member.tags),
        "tags": [{"id": i, "name": audience.segments[i].name} for i in member.tags],
        "list_id": audience.id,
        "_links": [
            link("self", href, "GET", "Lists/Members/Response.json"),
            link("parent", f"{api_base}/lists/{audience.id}/members", "GET"),
            link("update", href, "PATCH"),
            link("upsert", href, "PUT"),
            link("delete", href, "DELETE"),
        ],
    }


def member_tags_json(
    audience: AudienceList, member: Member, api_base: str, count: int, offset: int
) -> dict[str, Any]:
    tags = list(member.tags.items())
    return {
        "tags": [
            {"id": i, "name": audience.segments[i].name, "date_added": iso(added)}
            for i, added in tags[offset : offset + count]
        ],
        "total_items": len(tags),
        "_links": [link("self", f"{api_base}/lists/{audience.id}/members/{member.id}/tags")],
    }


def segment_json(
    audience: AudienceList, segment: Segment, member_count: int, api_base: str
) -> dict[str, Any]:
    """A static segment; `options` (the conditions of a saved segment) is left out, as for tags."""
    href = f"{api_base}/lists/{audience.id}/segments/{segment.id}"
    return {
        "id": segment.id,
        "name": segment.name,
        "member_count": member_count,
        "type": "static",
        "created_at": iso(segment.created_at),
        "updated_at": iso(segment.updated_at),
        "list_id": audience.id,
        "_links": [
            link("self", href, "GET", "Lists/Segments/Instance.json"),
            link(
                "parent", f"{api_base}/lists/{audience.id}/segments", "GET", "Lists/Segments/Collection.json"
            ),
            link("delete", href, "DELETE"),
            link("update", href, "PATCH"),
            link("members", f"{href}/members", "GET", "Lists/Segments/Members/Collection.json"),
        ],
    }


def _ordered(audience: AudienceList) -> list[MergeField]:
    return sorted(audience.merge_fields.values(), key=lambda f: (f.display_order, f.merge_id))


def merge_field_json(list_id: str, merge_field: MergeField, api_base: str) -> dict[str, Any]:
    href = f"{api_base}/lists/{list_id}/merge-fields/{merge_field.merge_id}"
    return {
        "merge_id": merge_field.merge_id,
        "tag": merge_field.tag,
        "name": merge_field.name,
        "type": merge_field.type,
        "required": merge_field.required,
        "default_value": merge_field.default_value,
        "public": merge_field.public,
        "display_order": merge_field.display_order,
        "options": dict(merge_field.options),
        "help_text": merge_field.help_text,
        "list_id": list_id,
        "_links": [link("self", href), link("update", href, "PATCH"), link("delete", href, "DELETE")],
    }


def ordered_merge_fields(audience: AudienceList) -> list[MergeField]:
    return _ordered(audience)


def list_json(audience: AudienceList, api_base: str) -> dict[str, Any]:
    members = audience.members.values()
    counts = {s: 0 for s in ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived")}
    for member in members:
        counts[member.status] = counts.get(member.status, 0) + 1
    href = f"{api_base}/lists/{audience.id}"
    settings = audience.settings
    return {
        "id": audience.id,
        "web_id": audience.web_id,
        "name": audience.name,
        "contact": settings.get("contact", {}),
        "permission_reminder": settings.get("permission_reminder", ""),
        "use_archive_bar": settings.get("use_archive_bar", False),
        "campaign_defaults": settings.get("campaign_defaults", {}),
        "notify_on_subscribe": settings.get("notify_on_subscribe", ""),
        "notify_on_unsubscribe": settings.get("notify_on_unsubscribe", ""),
        "date_created": iso(audience.date_created),
        "list_rating": 0,
        "email_type_option": settings.get("email_type_option", False),
        "subscribe_url_short": f"http://eepurl.com/{audience.id[:6]}",
        "subscribe_url_long": f"https://sandbox.us21.list-manage.com/subscribe?u=0&id={audience.id}",
        "beamer_address": f"{audience.id}@inbound.mailchimp.com",
        "visibility": settings.get("visibility", "prv"),
        "double_optin": settings.get("double_optin", False),
        "has_welcome": False,
        "marketing_permissions": settings.get("marketing_permissions", False),
        "modules": [],
        "stats": {
            "member_count": counts["subscribed"],
            "total_contacts": sum(counts.values()) - counts["archived"],
            "unsubscribe_count": counts["unsubscribed"],
            "cleaned_count": counts["cleaned"],
            "member_count_since_send": counts["subscribed"],
            "unsubscribe_count_since_send": counts["unsubscribed"],
            "cleaned_count_since_send": counts["cleaned"],
            "campaign_count": 0,
            "campaign_last_sent": "",
            "merge_field_count": len(audience.merge_fields),
            "avg_sub_rate": 0,
            "avg_unsub_rate": 0,
            "target_sub_rate": 0,
            "open_rate": 0,
            "click_rate": 0,
            "last_sub_date": "",
            "last_unsub_date": "",
        },
        "_links": [
            link("self", href, "GET", "Lists/Instance.json"),
            link("parent", f"{api_base}/lists"),
            link("update", href, "PATCH"),
            link("batch-sub-unsub-members", href, "POST"),
            link("delete", href, "DELETE"),
            link("members", f"{href}/members"),
            link("merge-fields", f"{href}/merge-fields"),
            link("segments", f"{href}/segments"),
        ],
    }


def account_json(
    account_name: str, login_email: str, dc: str, total_subscribers: int, api_base: str
) -> dict[str, Any]:
    return {
        "account_id": "8d3a3db4d97663a9074efcc16",
        "login_id": "118154891",
        "account_name": account_name,
        "email": login_email,
        "first_name": "Sandbox",
        "last_name": "Owner",
        "username": "sandbox-owner",
        "avatar_url": "",
        "role": "owner",
        "member_since": "2020-01-06T15:04:05+00:00",
        "pricing_plan_type": "monthly",
        "first_payment": "2020-01-06T15:04:05+00:00",
        "account_timezone": "UTC",
        "account_industry": "Software and Web App",
        "contact": {
            "company": account_name,
            "addr1": "1 Sandbox Way",
            "addr2": "",
            "city": "Atlanta",
            "state": "GA",
            "zip": "30308",
            "country": "US",
        },
        "pro_enabled": False,
        "last_login": "2026-01-05T10:00:00+00:00",
        "total_subscribers": total_subscribers,
        "industry_stats": {"open_rate": 0.21, "bounce_rate": 0.004, "click_rate": 0.027},
        "_links": [link("self", f"{api_base}/", "GET", "Root.json"), link("lists", f"{api_base}/lists")],
    }
