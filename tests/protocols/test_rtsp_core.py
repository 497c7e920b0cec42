"""The sans-I/O parts of RTSP: H.264 packetisation, request framing, transports, Digest."""

from __future__ import annotations

import struct
from pathlib import Path

from camnet.protocols import certificates
from camnet.protocols.rtsp import h264
from camnet.protocols.rtsp.auth import digest_response, parse_digest
from camnet.protocols.rtsp.messages import RequestReader, Transport, parse_transport


def reassemble(packets: list[bytes]) -> list[bytes]:
    """A receiver per RFC 6184: single NAL units and FU-A fragments back to NAL units."""
    units: list[bytes] = []
    current = bytearray()
    for packet in packets:
        payload = packet[12:]
        if payload[0] & 0x1F == h264.NAL_FU_A:
            start, end = payload[1] & 0x80, payload[1] & 0x40
            if start:
                current = bytearray([(payload[0] & 0xE0) | (payload[1] & 0x1F)])
            current += payload[2:]
            if end:
                units.append(bytes(current))
        else:
            units.append(payload)
    return units


def test_split_annexb_with_three_and_four_byte_start_codes() -> None:
    stream = b"\x00\x00\x00\x01\x67abc\x00\x00\x01\x68de\x00\x00\x00\x01\x65" + b"x" * 10
    assert h264.split_annexb(stream) == [b"\x67abc", b"\x68de", b"\x65" + b"x" * 10]


def test_large_units_are_fragmented_and_reassemble() -> None:
    units = [b"\x67" + bytes(20), b"\x65" + bytes(range(256)) * 20]
    packetizer = h264.RtpPacketizer(ssrc=0x1234, sequence=65534)
    packets = packetizer.packetize(units, 90_000)
    assert all(len(p) - 12 <= h264.MAX_PAYLOAD for p in packets)
    assert reassemble(packets) == units
    sequences = [struct.unpack("!H", p[2:4])[0] for p in packets]
    assert sequences[:3] == [65534, 65535, 0]
    markers = [p[1] & 0x80 for p in packets]
    assert markers[-1]
    assert not any(markers[:-1])
    assert {struct.unpack("!I", p[4:8])[0] for p in packets} == {90_000}


def test_parameter_sets_in_sdp_form() -> None:
    sets = h264.find_parameter_sets([b"\x67\x42\xc0\x1f\xaa", b"\x68\xce", b"\x65\x00"])
    assert sets is not None
    assert sets.profile_level_id == "42c01f"
    assert sets.sprop == "Z0LAH6o=,aM4="


def test_requests_framed_across_reads_and_interleaved_frames_skipped() -> None:
    reader = RequestReader()
    data = (
        b"$\x01\x00\x04abcd"
        b"SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 5\r\nContent-Length: 4\r\n\r\nab=c"
        b"PLAY rtsp://h/trackID=0 RTSP/1.0\r\nCSeq: 6\r\nSession: s1\r\n\r\n"
    )
    requests = []
    for index in range(0, len(data), 7):
        requests += list(reader.feed(data[index : index + 7]))
    assert [(r.method, r.cseq, r.body) for r in requests] == [
        ("SET_PARAMETER", "5", b"ab=c"),
        ("PLAY", "6", b""),
    ]
    assert requests[1].path == "/"
    assert requests[1].headers["session"] == "s1"


def test_transport_choices() -> None:
    assert parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3") == Transport(interleaved=(2, 3))
    assert parse_transport("RTP/AVP;unicast;client_port=5000-5001") == Transport(
        client_ports=(5000, 5001)
    )
    assert parse_transport("RTP/AVP;multicast, RTP/AVP/TCP;interleaved=0-1") == Transport(
        interleaved=(0, 1)
    )
    assert parse_transport("RAW/RAW/UDP;unicast") is None


def test_digest_as_rfc_2617_computes_it() -> None:
    # RFC 2617 §3.5's example, without qop: response = MD5(HA1:nonce:HA2).
    header = 'Digest username="Mufasa", realm="testrealm@host.com", nonce="abc", uri="/dir"'
    params = parse_digest(header.partition(" ")[2])
    assert params["username"] == "Mufasa"
    assert params["uri"] == "/dir"
    ha1 = "939e7578ed9e3c518a452acee763bce9"  # MD5("Mufasa:testrealm@host.com:Circle Of Life")
    import hashlib

    expected = hashlib.md5(f"{ha1}:abc:{hashlib.md5(b'GET:/dir').hexdigest()}".encode()).hexdigest()
    assert digest_response(ha1, "GET", "/dir", "abc") == expected


def test_generated_certificate_is_kept_and_described(tmp_path: Path) -> None:
    files = certificates.ensure(tmp_path, None, None, "box", ["box.local", "10.0.0.5", "::1"])
    first = files.cert.read_bytes()
    again = certificates.ensure(tmp_path, None, None, "box", ["other"])
    assert again.cert.read_bytes() == first  # reused, not remade
    description = certificates.describe(files)
    assert description["names"] == ["box.local", "10.0.0.5", "::1"]
    assert description["subject"] == "CN=box"
    assert (files.key.stat().st_mode & 0o777) == 0o600
