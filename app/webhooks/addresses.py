"""Where a webhook may be sent: outside production anywhere; in production (unless
WEBHOOK_ALLOW_PRIVATE=true) only to public addresses, checked after DNS resolution, so that a
staff member cannot make the service call its own network (SSRF): loopback, private, link-local
(169.254.169.254, the cloud metadata service), shared, reserved and multicast ranges refused."""

import asyncio
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL's host is not one a webhook may reach; the message says why, for a client."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for `host`, each one allowed; AddressRefused if none may be
    used (every address of the host must be public: a name that also resolves to a private
    address is refused, rather than left to chance)."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise AddressRefused(f"The host {host!r} does not resolve.") from exc
        found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not allow_private and (refused := [a for a in found if not is_public(a)]):
        raise AddressRefused(
            f"The host {host!r} resolves to {refused[0]}, which webhooks may not reach."
        )
    return list(dict.fromkeys(str(address) for address in found))
