"""Zoho data centres and the URL rules the client enforces (https everywhere but loopback)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from airflow_provider_zohorel.zoho.errors import ConnectionConfigError

#: region -> (accounts server, CRM API domain); research/zoho-api.md section 1.1.
REGIONS: dict[str, tuple[str, str]] = {
    "us": ("https://accounts.zoho.com", "https://www.zohoapis.com"),
    "eu": ("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    "in": ("https://accounts.zoho.in", "https://www.zohoapis.in"),
    "au": ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    "jp": ("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    "cn": ("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    "ca": ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    "sa": ("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
}

#: What each region is called where people pick one (the connection form's Data Centre list).
REGION_NAMES: dict[str, str] = {
    "us": "United States",
    "eu": "Europe",
    "in": "India",
    "au": "Australia",
    "jp": "Japan",
    "cn": "China",
    "ca": "Canada",
    "sa": "Saudi Arabia",
}

API_VERSIONS = ("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8")

#: Where Zoho mints tokens (research/zoho-api.md 1.1: the REGIONS above, plus accounts.zoho.uk listed
#: by Zoho Accounts) and Vertical Solutions portals (``{solution}.zohoplatform.com|eu``, 1.3).
ZOHO_ACCOUNTS_HOSTS = frozenset(urlsplit(accounts).hostname or "" for accounts, _ in REGIONS.values()) | {
    "accounts.zoho.uk"
}
#: CRM API hosts: ``www.``/``sandbox.``/``developer.`` and the bare form of each DC's zohoapis domain
#: (research 1.1, "both host forms are in use"), plus Vertical Solutions' zohoplatform domains.
ZOHO_API_SUFFIXES = (
    *sorted({(urlsplit(api).hostname or "").removeprefix("www.") for _, api in REGIONS.values()}),
    "zohoapis.ae",
    "zohoplatform.com",
    "zohoplatform.eu",
)
#: The token path of a Zoho Accounts server; a Vertical Solutions portal mints elsewhere (mint_url).
TOKEN_PATH = "/oauth/v2/token"  # noqa: S105 (a URL path, not a secret)


def accounts_url_for(region: str) -> str:
    key = region.strip().lower()
    if key not in REGIONS:
        raise ConnectionConfigError(
            f"Connection field 'region' is {region!r}; expected one of {', '.join(REGIONS)} "
            "(or set 'accounts_url')."
        )
    return REGIONS[key][0]


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _suffix_match(host: str, suffixes: tuple[str, ...]) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in suffixes)


def is_zoho_accounts_host(host: str) -> bool:
    """A host that Zoho itself runs for minting tokens (a data centre's accounts server or a
    Vertical Solutions portal): its error bodies may be quoted; anyone else's never are."""
    host = host.lower().rstrip(".")
    return host in ZOHO_ACCOUNTS_HOSTS or _suffix_match(host, ("zohoplatform.com", "zohoplatform.eu"))


def is_zoho_api_host(host: str) -> bool:
    return _suffix_match(host.lower().rstrip("."), ZOHO_API_SUFFIXES)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def check_base_url(url: str, field: str, *, allow_path: bool = True) -> str:
    """Validate a base URL from a connection or a token response; return it without a trailing slash.

    ``http://`` is accepted only for loopback hosts (the bundled emulator): anything else would send
    the client secret and tokens in clear text.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConnectionConfigError(f"Connection field {field!r} is empty; expected an https:// URL.")
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ConnectionConfigError(
            f"Connection field {field!r} is {url!r}; expected a URL such as https://accounts.zoho.eu."
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise ConnectionConfigError(
            f"Connection field {field!r} uses http:// for the non-loopback host {host!r}; Zoho must be "
            "reached over https:// (http:// is only allowed for 127.0.0.1/localhost, e.g. the emulator)."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConnectionConfigError(
            f"Connection field {field!r} must be a bare base URL without credentials, query or fragment."
        )
    path = parts.path.rstrip("/")
    if path and not allow_path:
        hint = (
            f"remove {path!r}: the client appends {TOKEN_PATH} itself"
            if "oauth" in path.lower()
            else "expected the server alone, such as https://accounts.zoho.eu"
        )
        raise ConnectionConfigError(
            f"Connection field {field!r} is {url!r}, a URL with a path; {hint}. To mint tokens at another "
            "endpoint (a Vertical Solutions portal's .../clientoauth/v2/<portal id>/token), set 'mint_url'."
        )
    return f"{parts.scheme}://{parts.netloc}{path}"


def check_mint_url(url: str, field: str = "mint_url") -> str:
    """The full URL of a token endpoint: https (or loopback http), no query, credentials or fragment."""
    checked = check_base_url(url, field)
    if not urlsplit(checked).path:
        raise ConnectionConfigError(
            f"Connection field {field!r} is {url!r}, a server without a path; it takes the full token URL, "
            f"such as https://<solution>.zohoplatform.com/clientoauth/v2/<portal id>/token (for an accounts "
            "server, set 'accounts_url' instead)."
        )
    return checked


def check_api_domain(domain: str, *, configured: str | None, mint_url: str, source: str) -> str:
    """An ``api_domain`` that came from outside the connection (a token response, a token cache).

    The access token goes wherever this points, so it must be the connection's own ``api_domain``,
    a Zoho CRM API host, or, when tokens come from a loopback endpoint (the emulator), loopback.
    """
    checked = check_base_url(domain, "api_domain")
    host = host_of(checked)
    if checked == configured or (is_zoho_api_host(host) and urlsplit(checked).scheme == "https"):
        return checked
    if is_loopback(host) and is_loopback(host_of(mint_url)):
        return checked
    raise ConnectionConfigError(
        f"{source} names api_domain {checked!r}, which is not a Zoho CRM API host (*.zohoapis.*, "
        "*.zohoplatform.*); the access token is never sent there. If this org really is served from "
        "that host, set 'api_domain' in the connection."
    )


def check_api_version(version: str) -> str:
    value = version.strip().lower()
    if value not in API_VERSIONS:
        raise ConnectionConfigError(
            f"Connection field 'api_version' is {version!r}; expected one of {', '.join(API_VERSIONS)}."
        )
    return value
