"""The byte-level short cut through big bodies (`parsers.mime_skeleton`) must give exactly the parts the
standard library's parser gives on its own, on the shapes where the two could part ways."""

from __future__ import annotations

import base64

import pytest

from mailintake.parsers import mime, mime_skeleton

BODY = base64.encodebytes(bytes(range(256)) * 40)  # 10 KB of base64 lines


def tree(msg) -> list[tuple]:
    return [(p.get_content_type(), list(p.raw_items()), p._payload if isinstance(p._payload, str) else None,
             p.preamble, p.epilogue, [type(d).__name__ for d in p.defects]) for p in msg.walk()]


def assert_same(raw: bytes, elided: int) -> None:
    assert tree(mime._parse(raw, 1, as_text=True)) == tree(mime._parse(raw, None))
    assert mime.parse_mime(raw, min_body=1) == mime.parse_mime(raw, min_body=None)
    assert len(mime_skeleton.skeleton(raw, 1).bodies) == elided


def mixed(*parts: bytes, boundary: bytes = b"b1", eol: bytes = b"\r\n", close: bytes = b"--") -> bytes:
    head = b"From: a@b.cn" + eol + b"MIME-Version: 1.0" + eol
    head += b'Content-Type: multipart/mixed; boundary="' + boundary + b'"' + eol + eol + b"preamble" + eol
    body = b"".join(b"--" + boundary + eol + p + eol for p in parts)
    return head + body + b"--" + boundary + close + eol + b"epilogue" + eol


def leaf(name: str, eol: bytes = b"\r\n", body: bytes = BODY) -> bytes:
    return (b"Content-Type: image/jpeg; name=\"" + name.encode() + b"\"" + eol + b"Content-Transfer-Encoding: base64"
            + eol + eol + body.replace(b"\n", eol))


@pytest.mark.parametrize("eol", [b"\r\n", b"\n", b"\r"], ids=["crlf", "lf", "lone-cr"])
def test_every_line_end_the_stdlib_knows_cuts_at_the_same_places(eol):
    assert_same(mixed(leaf("a.jpg", eol), leaf("b.jpg", eol), eol=eol), elided=2)


def test_blanks_after_a_delimiter_and_a_missing_close_are_read_alike():
    raw = mixed(leaf("a.jpg"), leaf("b.jpg")).replace(b"--b1\r\nContent-Type: image/jpeg; name=\"b",
                                                      b"--b1  \t\r\nContent-Type: image/jpeg; name=\"b")
    assert_same(raw, elided=2)
    truncated = raw[:raw.rindex(b"--b1--")]
    assert_same(truncated, elided=1)  # the last part has no delimiter after it: the stdlib reads it


def test_a_line_that_only_starts_like_the_boundary_stays_inside_the_body():
    body = BODY + b"--b1x not a delimiter\n--b1--trailing\n" + BODY
    assert_same(mixed(leaf("a.jpg", body=body)), elided=1)


def test_nested_multiparts_and_an_outer_delimiter_inside_an_inner_part():
    inner = b'Content-Type: multipart/related; boundary="b2"\r\n\r\n' + b"--b2\r\n" + leaf("in.jpg") + b"\r\n--b2--"
    assert_same(mixed(leaf("a.jpg"), inner, leaf("c.jpg")), elided=3)
    unclosed = b'Content-Type: multipart/related; boundary="b2"\r\n\r\n--b2\r\n' + leaf("in.jpg")
    assert_same(mixed(unclosed, leaf("c.jpg")), elided=2)


def test_digests_forwarded_messages_and_odd_headers_are_left_to_the_stdlib():
    digest = mixed(b"\r\n" + BODY, boundary=b"d").replace(b"multipart/mixed", b"multipart/digest")
    assert_same(digest, elided=0)
    forwarded = b"Content-Type: message/rfc822\r\n\r\n" + b"Subject: fwd\r\n\r\n" + BODY
    assert_same(mixed(forwarded), elided=0)
    no_separator = b"Content-Type: image/jpeg\r\nthis line is no header\r\n" + BODY
    assert_same(mixed(no_separator, leaf("b.jpg")), elided=0)  # from an odd part on, nothing more is cut


def test_a_single_part_message_and_a_reused_boundary():
    single = b"From: a@b.cn\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n" + BODY
    assert_same(single, elided=1)
    reused = b'Content-Type: multipart/related; boundary="b1"\r\n\r\n--b1\r\n' + leaf("in.jpg")
    assert_same(mixed(leaf("a.jpg"), reused), elided=1)


def test_only_big_bodies_are_cut_in_real_use():
    raw = mixed(leaf("small.jpg"), leaf("big.jpg", body=BODY * 10))
    cut = mime_skeleton.skeleton(raw)
    assert len(cut.bodies) == 1 and len(cut.raw) < len(raw) // 5
    assert tree(mime._parse(raw, as_text=True)) == tree(mime._parse(raw, None))
    assert mime.parse_mime(raw) == mime.parse_mime(raw, min_body=None)


@pytest.mark.parametrize("where", [0, len(BODY) // 2, len(BODY) - 2], ids=["first", "middle", "last"])
def test_an_eight_bit_byte_inside_a_base64_body_is_decoded_leniently_as_the_stdlib_does(where):
    body = BODY[:where] + b"\xe4" + BODY[where:]
    assert_same(mixed(leaf("a.jpg", body=body)), elided=1)
    parsed = mime.parse_mime(mixed(leaf("a.jpg", body=body)), min_body=1)
    assert "invalid_base64" in parsed.losses
