"""Who may use this kiosk: ``KIOSK_ALLOWED_CLIENTS``, checked before anything else on every request.

The check itself is ``kiosk.app.refuse_other_clients``; the setting is read by the registry
(``kiosk.settings``, default: this machine only); this module matches addresses (it imports no web framework).

A counter with only an Android tablet uses it as a browser onto a box on the
counter's LAN; that box must not take surveys (or staff PINs) from any other
machine on the network. Every request from an address outside the list gets a
403 page (Vietnamese first, English one tap away) before any other handler
runs, so nothing is read from or written to the store. Only the static files
and the language switch (which sets a cookie, nothing else) stay open, so the
refusal itself can be read.
"""

import ipaddress

#: Endpoints any client may reach: the 403 page's own style sheet and its language switch.
OPEN_ENDPOINTS = ("static", "survey.switch_language")


def allowed(address: str | None, networks: tuple) -> bool:
    """Whether a peer address (as the server saw it; IPv4-mapped IPv6 counts as IPv4) is in `networks`."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks if network.version == ip.version)
