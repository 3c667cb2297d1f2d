"""Where a URL setting (pod URL, token URL, Mailchimp API base) may point.

A stored credential is sent to these URLs, so they are held to what a real deployment needs: a
public https host named in plain ASCII, or a loopback sandbox (http or https on localhost, 127.0.0.1
or ::1). Link-local, private-range, unspecified, multicast and other non-public addresses are
refused, and so are the cloud metadata hosts: a URL that reaches them from a cloud VM hands the
credential (or the VM's own) to whoever can read the answer. Look-alike hosts (IDN, punycode, mixed
scripts) are refused because a reader cannot tell them from the real one. The rules are pure: no
name is resolved, so a public name that resolves to a private address is not caught here.
"""

import ipaddress
import re
import unicodedata
from urllib.parse import SplitResult, urlsplit

from oracle_mailchimp_dagster.tenants.shown import code_point, shown
from oracle_mailchimp_dagster.tenants.text_rules import invisible_character

MAX_URL_CHARS = 2_048
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Instance metadata services (AWS, GCP, Azure, Oracle Cloud, Alibaba): addresses and names.
METADATA_HOSTS = frozenset(
    {
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
MAILCHIMP_API_VERSION_PATH = "/3.0"
DEFAULT_PORTS = {"http": 80, "https": 443}

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Numbers in the forms inet_aton also reads (2852039166, 0xa9.0xfe.0xa9.0xfe, 0251.0376...).
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$")


def is_loopback(host: str) -> bool:
    """localhost or a loopback address: the only hosts plain http may reach (sandbox, tunnels)."""
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an IP literal is no place to send a credential; None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None
    if str(address) in METADATA_HOSTS:
        return "a cloud metadata address"
    for kind, flag in (
        ("an unspecified address", address.is_unspecified),
        ("a multicast address", address.is_multicast),
        ("a link-local address", address.is_link_local),
        ("a private-range address", address.is_private),
    ):
        if flag:
            return kind
    if not address.is_global:
        return "not a public address (reserved, shared or documentation range)"
    return None


def _scripts(host: str) -> list[str]:
    """The scripts of the host's letters, in order of appearance (LATIN, CYRILLIC, ...)."""
    scripts: dict[str, None] = {}
    for char in host:
        if char.isalpha():
            scripts.setdefault(unicodedata.name(char, "UNKNOWN").split()[0].title(), None)
    return list(scripts)


def host_problem(host: str) -> str | None:
    """Why `host` (as urlsplit gives it: lower case, no brackets) is refused; None when it is fine."""
    if is_loopback(host):
        return None
    if not host.isascii():
        scripts = _scripts(host)
        mixed = f", mixing {' and '.join(scripts)} letters" if len(scripts) > 1 else ""
        first = next(char for char in host if not char.isascii())
        return (
            f"host '{shown(host)}' is an internationalized (non-ASCII) name{mixed}: a look-alike "
            f"character ({code_point(first)}) can hide another host; write the plain ASCII name"
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        problem = _address_problem(address)
        return f"host {host} is {problem}" if problem else None
    if _NUMERIC_HOST.match(host):
        return f"host '{shown(host)}' is not a standard IP address (write a dotted IPv4 address or a name)"
    labels = host.split(".")
    if any(label.startswith("xn--") for label in labels):
        return (
            f"host '{shown(host)}' has a punycode (xn--) label, an internationalized name in disguise: "
            "write the plain ASCII name"
        )
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return f"host '{shown(host)}' is not a valid host name (letters, digits and hyphens between dots)"
    if host in METADATA_HOSTS:
        return f"host {host} is a cloud metadata host"
    return None


def _port_problem(parts: SplitResult) -> str | None:
    """Why the port is refused (outside 1-65535, not a number, two of them); None without a port."""
    netloc = parts.netloc.rpartition("@")[2]
    host_end = (
        netloc.index("]") + 1 if netloc.startswith("[") and "]" in netloc else len(netloc.split(":")[0])
    )
    rest = netloc[host_end:]
    if not rest:
        return None
    port = rest[1:]
    if not rest.startswith(":") or not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return f"port '{shown(port)}' is not a number from 1 to 65535"
    return None


def url_problem(value: str) -> str | None:
    """The first reason `value` is not a URL a credential may be sent to; None when it is fine."""
    if len(value) > MAX_URL_CHARS:
        return f"'{shown(value)}' is longer than {MAX_URL_CHARS:,} characters"
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return f"'{shown(value)}' is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"'{shown(value)}' is not an absolute http(s) URL"
    invisible = invisible_character(value)
    if invisible is not None:
        return f"'{shown(value)}' contains {invisible}"
    if " " in value:
        return f"'{shown(value)}' contains a space"
    if not hostname:
        return f"'{shown(value)}' has no host"
    if parts.scheme == "http" and not is_loopback(hostname):
        return (
            f"'{shown(value)}' must use https (plain http is allowed only for localhost, 127.0.0.1 and ::1)"
        )
    if "@" in parts.netloc:
        return "the URL must not contain credentials; pass them as secrets"
    if "?" in value or "#" in value:
        return f"'{shown(value)}' must not have a query string or fragment"
    port = _port_problem(parts)
    if port is not None:
        return f"'{shown(value)}': {port}"
    host = host_problem(hostname)
    if host is not None:
        return host
    if not value.isascii():
        first = next(char for char in value if not char.isascii())
        return f"'{shown(value)}' contains a non-ASCII character ({code_point(first)}): percent-encode it"
    return None


def webhook_url_problem(value: str) -> str | None:
    """The first reason `value` is not an alert webhook URL; None when it is fine.

    The same rules as `url_problem` (https, or http on loopback; no userinfo; a public ASCII host),
    but the URL itself is a credential (a Slack webhook's path is its token), so a message names at
    most the host, never the path or query. A query string is allowed (some chat services put the
    token there); a fragment is not sent, so it is refused as a mistake.
    """
    if len(value) > MAX_URL_CHARS:
        return f"it is longer than {MAX_URL_CHARS:,} characters"
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "it is not an absolute http(s) URL"
    if invisible_character(value) is not None or " " in value:
        return "it contains a space, a control or an invisible character"
    if not hostname:
        return "it has no host"
    if "@" in parts.netloc:
        return "it must not contain userinfo (user:password@)"
    if parts.scheme == "http" and not is_loopback(hostname):
        return "it must use https (plain http is allowed only for localhost, 127.0.0.1 and ::1)"
    if "#" in value:
        return "it must not have a fragment (#...)"
    port = _port_problem(parts)
    if port is not None:
        return port
    host = host_problem(hostname)
    if host is not None:
        return host
    if not value.isascii():
        return "it contains a non-ASCII character: percent-encode it"
    return None


def service_url(value: str) -> str:
    """A URL a credential may be sent to (see `url_problem`), without its trailing slash."""
    problem = url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.rstrip("/")


def mailchimp_api_base(value: str) -> str:
    """An explicit Mailchimp API base: a service URL whose path ends with /3.0."""
    base = service_url(value)
    if not urlsplit(base).path.endswith(MAILCHIMP_API_VERSION_PATH):
        raise ValueError(
            f"'{shown(base)}' must end with {MAILCHIMP_API_VERSION_PATH}, the API version "
            "(e.g. https://us6.api.mailchimp.com/3.0 or http://127.0.0.1:8002/3.0)"
        )
    return base


def origin(url: str) -> str:
    """`https://host:443`: scheme, host and port, the unit a credential is bound to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    host = (parts.hostname or "").lower()
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def host_label(url: str) -> str:
    """`idcs-0123.identity.oraclecloud.com`, with the port only when it is not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown_host = f"[{host}]" if ":" in host else host
    if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{shown_host}:{parts.port}"
    return shown_host
