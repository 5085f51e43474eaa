"""The SSRF guard: which addresses a webhook may reach, checked after resolution."""

import asyncio
import ipaddress
import re
import socket

import pytest

from app.webhooks.addresses import AddressRefused, is_public, resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",  # multicast
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped IPv6: the IPv4 address decides
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2001:db8::1",  # documentation
    ],
)
def test_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "[::1]", "[::ffff:127.0.0.1]"]
)
async def test_private_literals_refused(host):
    with pytest.raises(AddressRefused, match="which webhooks may not reach"):
        await resolve(host, 80, allow_private=False)


async def test_public_literals_pass_without_a_lookup(monkeypatch):
    async def no_lookup(*_args, **_kwargs):
        raise AssertionError("a literal address needs no DNS")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_lookup)
    assert await resolve("93.184.215.14", 443, allow_private=False) == ["93.184.215.14"]
    assert await resolve("[2606:4700:4700::1111]", 443, allow_private=False) == [
        "2606:4700:4700::1111"
    ]


async def test_localhost_is_resolved_then_refused():
    with pytest.raises(AddressRefused) as refused:
        await resolve("localhost", 80, allow_private=False)
    assert "'localhost'" in str(refused.value)


async def test_allow_private_passes_everything():
    assert await resolve("127.0.0.1", 80, allow_private=True) == ["127.0.0.1"]
    assert await resolve("[::ffff:10.0.0.1]", 80, allow_private=True) == ["::ffff:a00:1"]
    assert set(await resolve("localhost", 8080, allow_private=True)) <= {"127.0.0.1", "::1"}


def fake_dns(monkeypatch, answers):
    """`getaddrinfo` answering `answers` (addresses) for any name."""

    async def getaddrinfo(host, port, **_kwargs):
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in answers
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)


async def test_a_name_is_allowed_when_every_address_is_public(monkeypatch):
    fake_dns(monkeypatch, ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    assert await resolve("example.com", 443, allow_private=False) == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


async def test_a_name_with_any_private_address_is_refused(monkeypatch):
    fake_dns(monkeypatch, ["93.184.215.14", "10.0.0.7", "93.184.215.14"])
    with pytest.raises(AddressRefused, match=re.escape("resolves to 10.0.0.7")):
        await resolve("rebind.example", 80, allow_private=False)
    fake_dns(monkeypatch, ["93.184.215.14", "93.184.215.14"])
    assert await resolve("twice.example", 80, allow_private=True) == ["93.184.215.14"]


async def test_scoped_ipv6_answers_lose_their_zone(monkeypatch):
    fake_dns(monkeypatch, ["fe80::1%eth0"])
    with pytest.raises(AddressRefused, match="fe80::1"):
        await resolve("link.example", 80, allow_private=False)


async def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    fake_dns(monkeypatch, None)
    with pytest.raises(AddressRefused, match="does not resolve"):
        await resolve("nowhere.invalid", 80, allow_private=False)
    with pytest.raises(AddressRefused, match="does not resolve"):
        await resolve("nowhere.invalid", 80, allow_private=True)
