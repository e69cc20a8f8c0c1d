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

API_VERSIONS = ("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8")


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


def check_base_url(url: str, field: str) -> str:
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
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def check_api_version(version: str) -> str:
    value = version.strip().lower()
    if value not in API_VERSIONS:
        raise ConnectionConfigError(
            f"Connection field 'api_version' is {version!r}; expected one of {', '.join(API_VERSIONS)}."
        )
    return value
