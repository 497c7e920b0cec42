"""The SSRF guard on its own, with a stub resolver: no test sends traffic anywhere."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from camnet.fleet.webhooks.ssrf import AllowList, Guard, Refused

NAMES = {
    "metadata.evil.example": ["169.254.169.254"],
    "inside.evil.example": ["10.0.0.1"],
    "loop.evil.example": ["127.0.0.1"],
    "six.evil.example": ["::1"],
    "mixed.evil.example": ["93.184.216.34", "10.0.0.1"],
    "mapped.evil.example": ["::ffff:127.0.0.1"],
    "public.example": ["93.184.216.34"],
}


async def stub(host: str, _port: int) -> Sequence[str]:
    if host not in NAMES:
        raise OSError("no such name")
    return NAMES[host]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1:8080/",
        "http://[::1]/",
        "http://loop.evil.example/",
        "http://metadata.evil.example/",
        "http://inside.evil.example/",
        "http://six.evil.example/",
        "http://mixed.evil.example/",
        "http://mapped.evil.example/",
        "http://[::ffff:169.254.169.254]/",
        "ftp://public.example/",
        "file:///etc/passwd",
        "http://user:secret@public.example/",
        "http://nowhere.example/",
        "http:///nohost",
    ],
)
async def test_refused(url: str) -> None:
    with pytest.raises(Refused):
        await Guard(AllowList.parse(""), stub).check(url)


async def test_public_names_pass() -> None:
    guard = Guard(AllowList.parse(""), stub)
    assert await guard.check("https://public.example/hook") == ["93.184.216.34"]
    assert await guard.check("http://93.184.216.34:8080/") == ["93.184.216.34"]


async def test_allow_list_by_cidr_and_by_host() -> None:
    guard = Guard(AllowList.parse("127.0.0.0/8, ::1 ,inside.evil.example"), stub)
    assert await guard.check("http://127.0.0.1:9/") == ["127.0.0.1"]
    assert await guard.check("http://loop.evil.example/") == ["127.0.0.1"]
    assert await guard.check("http://[::1]:9/") == ["::1"]
    assert await guard.check("http://inside.evil.example/") == ["10.0.0.1"]
    with pytest.raises(Refused):
        await guard.check("http://metadata.evil.example/")
