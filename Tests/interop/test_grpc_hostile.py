"""Hostile gRPC-level input over well-formed HTTP/2 (the `h2` client of h2client.py, header
validation off where the input must be malformed): each request gets a defined answer, the
exact gRPC status code with a message that says what was wrong (or, for what HTTP/2 itself calls
malformed, RST_STREAM PROTOCOL_ERROR), never a hang, and the server keeps serving.

Already covered elsewhere and not repeated here: a truncated message then END_STREAM on a unary
call, the code for the compressed flag without grpc-encoding, an unsupported grpc-encoding and
the gzip bomb (test_robustness.py); the HTTP status for text/html, application/json, a missing
content-type, application/grpc+proto and GET (test_http_port.py); a missing :path and the
HTTP/2 rules for header names and values (test_http2_conformance.py).

Where the gRPC documents leave the code open, the tests assert what the server answers and their
docstrings say how that compares with grpc-go.
"""

from __future__ import annotations

import gzip
import zlib
from urllib.parse import unquote

import grpc
import pytest
from h2.errors import ErrorCodes

from conftest import BIDI, SERVER_STREAM, UNARY, grpc_frame, method_labels, scrape
from h2client import GRPC_HEADERS, H2Client, StreamResult

#: proto.Message{message: "alive"} and the server's reply to it.
ALIVE_REQUEST = b"\x0a\x05alive"
ALIVE_REPLY = b"\x0a\x0aecho alive"
#: How long any answer may take: every one of them is immediate; this only bounds a hang.
ANSWER_WITHIN = 5.0


def call(address: str, path: str = UNARY, headers: list[tuple[str, str]] | None = None,
         body: bytes | None = grpc_frame(ALIVE_REQUEST), method: str = "POST",
         end_stream: bool = True) -> StreamResult:
    """One request on a new connection, sent exactly as given; waits for its end."""
    with H2Client(address, validate_headers=False) as client:
        stream = client.request(path, GRPC_HEADERS if headers is None else headers, body=body,
                                end_stream=end_stream, method=method)
        result = client.wait_stream(stream, timeout=ANSWER_WITHIN)
    assert result.ended, f"no answer within {ANSWER_WITHIN} s: {result}"
    return result


def message_of(result: StreamResult) -> str:
    """grpc-message, percent-decoded (the gRPC spec percent-encodes it on the wire)."""
    return unquote(result.trailers.get("grpc-message", result.headers.get("grpc-message", "")))


def assert_status(result: StreamResult, code: grpc.StatusCode, *message_parts: str,
                  http_status: int = 200) -> None:
    assert result.reset is None, f"reset {ErrorCodes(result.reset)!r}: {result}"
    assert result.status == http_status, result
    assert result.grpc_status == str(code.value[0]), result
    message = message_of(result)
    for part in message_parts:
        assert part in message, (part, message)


def assert_trailers_only(result: StreamResult) -> None:
    """The status came in the response headers themselves (gRPC "Trailers-Only")."""
    assert "grpc-status" in result.headers and result.trailers == {}, result
    assert result.data == b"", result


def assert_still_serving(address: str) -> None:
    result = call(address)
    assert result.grpc_status == "0" and result.data == grpc_frame(ALIVE_REPLY), result


# ---- Length prefixes and message counts ---------------------------------------------------------


def test_end_stream_inside_the_length_prefix_is_internal(module_server):
    """END_STREAM after 3 of the 5 prefix bytes: the stream ended in the middle of a message,
    INTERNAL, with the bytes left over counted in the message."""
    result = call(module_server.address, body=b"\x00\x00\x00")
    assert_status(result, grpc.StatusCode.INTERNAL, "ended in the middle of a message",
                  "3 bytes")
    assert_still_serving(module_server.address)


def test_truncated_message_after_a_good_one_on_a_bidi_call(module_server):
    """On a bidi call the first, complete message is answered; the second, whose prefix
    promises 100 bytes of which 3 arrive before END_STREAM, then ends the call INTERNAL."""
    body = grpc_frame(ALIVE_REQUEST) + b"\x00\x00\x00\x00\x64abc"
    result = call(module_server.address, path=BIDI, body=body)
    assert result.data == grpc_frame(ALIVE_REPLY), result
    assert_status(result, grpc.StatusCode.INTERNAL, "ended in the middle of a message",
                  "8 bytes")
    assert_still_serving(module_server.address)


def test_length_prefix_over_the_receive_limit_is_refused_before_the_body(module_server):
    """A prefix announcing 5 MiB (the limit is 4 MiB) is refused as soon as the 5 prefix bytes
    are in: RESOURCE_EXHAUSTED naming both sizes, while the client has sent no body and has not
    ended its stream."""
    with H2Client(module_server.address) as client:
        stream = client.request(UNARY, GRPC_HEADERS, body=b"\x00" + (5 << 20).to_bytes(4, "big"),
                                end_stream=False)
        result = client.wait_stream(stream, timeout=ANSWER_WITHIN)
    assert result.ended, "the server waited for a 5 MiB body it will refuse"
    assert_status(result, grpc.StatusCode.RESOURCE_EXHAUSTED, "5242880 bytes",
                  "maximum message size of 4194304 bytes")
    assert_trailers_only(result)
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("path, kind", [(UNARY, "unary method"),
                                        (SERVER_STREAM, "server-streaming method")])
def test_two_request_messages_on_a_single_request_method_is_internal(module_server, protos,
                                                                     path, kind):
    """Two messages where the method takes one: a cardinality violation, answered INTERNAL. The
    gRPC status-code table says UNIMPLEMENTED for it; grpc-go (since 1.74, PR #8385) and
    grpc-java answer INTERNAL, and so does this server."""
    message = ALIVE_REQUEST if path == UNARY else protos.StreamingEchoRequest(
        message="x", count=1).SerializeToString()
    result = call(module_server.address, path=path, body=grpc_frame(message) * 2)
    assert_status(result, grpc.StatusCode.INTERNAL, kind, "more than one request")
    assert result.data == b"", "the method ran on a request stream it does not take"
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("body", [b"", None], ids=["empty-data-frame", "headers-only"])
@pytest.mark.parametrize("path, kind", [(UNARY, "unary method"),
                                        (SERVER_STREAM, "server-streaming method")])
def test_no_request_message_on_a_single_request_method_is_internal(module_server, path, kind,
                                                                   body):
    """END_STREAM without any message where the method takes one: INTERNAL "received no
    request message" (the same cardinality rule; grpc-go and grpc-java: INTERNAL too)."""
    result = call(module_server.address, path=path, body=body)
    assert_status(result, grpc.StatusCode.INTERNAL, kind, "no request message")
    assert_trailers_only(result)


# ---- Compression flags and encodings ----------------------------------------------------------


@pytest.mark.parametrize("encoding", [None, "identity"], ids=["absent", "identity"])
def test_compressed_flag_without_a_compressing_encoding_is_internal(module_server, encoding):
    """The compressed flag needs a grpc-encoding other than identity (gRPC spec: a compressed
    message with no, or identity, encoding is a protocol error, INTERNAL). The message says which
    header to send."""
    headers = GRPC_HEADERS + ([("grpc-encoding", encoding)] if encoding else [])
    result = call(module_server.address, headers=headers,
                  body=grpc_frame(ALIVE_REQUEST, compressed=True))
    assert_status(result, grpc.StatusCode.INTERNAL, "flagged as compressed", "grpc-encoding")
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("flags", [0x02, 0x80, 0x81])
def test_undefined_message_flag_bits_are_internal(module_server, flags):
    """Only bit 0 of the message flags is defined: any other bit is a malformed message,
    INTERNAL naming the flags."""
    result = call(module_server.address, body=bytes([flags]) + len(ALIVE_REQUEST).to_bytes(
        4, "big") + ALIVE_REQUEST)
    assert_status(result, grpc.StatusCode.INTERNAL, f"Invalid message flags 0x{flags:x}")


@pytest.mark.parametrize("encoding, payload", [
    ("gzip", b"\x1f\x8b\x08\x00 not gzip at all"),
    ("gzip", gzip.compress(ALIVE_REQUEST)[:-6]),
    ("gzip", b"plain bytes"),
    ("deflate", b"\x78\x9c garbage"),
    ("deflate", zlib.compress(ALIVE_REQUEST)[:-3]),
], ids=["gzip-corrupt", "gzip-truncated", "gzip-not-gzip", "deflate-corrupt",
        "deflate-truncated"])
def test_undecompressible_message_is_internal(module_server, encoding, payload):
    """A message that does not decompress with its grpc-encoding: INTERNAL naming the
    algorithm (gRPC spec and grpc-go: INTERNAL)."""
    result = call(module_server.address,
                  headers=GRPC_HEADERS + [("grpc-encoding", encoding)],
                  body=grpc_frame(payload, compressed=True))
    assert_status(result, grpc.StatusCode.INTERNAL, "decompress", encoding)
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("payload, reason", [
    (b"\xff\xff\xff", "malformedProtobuf"),
    (b"\x0a\x10abc", "truncated"),
    (b"\x0a\x02\xff\xfe", "invalidUTF8"),
    (b"\x00\x01", "malformedProtobuf"),
], ids=["bad-tag", "length-past-the-end", "invalid-utf8-string", "field-number-0"])
def test_undecodable_protobuf_is_internal(module_server, payload, reason):
    """Bytes that are not a proto.Message: INTERNAL, as grpc-go answers ("error unmarshalling
    request"), with a message naming the type and what was wrong."""
    result = call(module_server.address, body=grpc_frame(payload))
    assert_status(result, grpc.StatusCode.INTERNAL, "could not decode the request as "
                  "proto.Message", reason)
    assert_still_serving(module_server.address)


# ---- Content types ---------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/grpc+json", "application/grpcx", "application/grpc-web",
    "application/grpc+", None,
])
def test_content_types_the_server_does_not_serve_get_415(module_server, content_type):
    """gRPC spec: a content-type that is not application/grpc SHOULD get HTTP 415. The server
    also refuses application/grpc+json, a gRPC content-type for a codec it does not have
    (grpc-go would decode it as protobuf). The answer carries grpc-status INTERNAL and a
    message naming what was sent (grpc-go sends INVALID_ARGUMENT there)."""
    headers = [("te", "trailers")] + ([("content-type", content_type)] if content_type else [])
    result = call(module_server.address, headers=headers)
    assert_status(result, grpc.StatusCode.INTERNAL,
                  f'invalid gRPC request content-type "{content_type or ""}"',
                  "expected application/grpc", http_status=415)
    assert_trailers_only(result)


@pytest.mark.parametrize("content_type", [
    "application/grpc; charset=utf-8", "APPLICATION/GRPC", "Application/gRPC+Proto",
    "application/grpc ;codec=x",
])
def test_grpc_content_types_with_parameters_or_other_case_are_served(module_server,
                                                                     content_type):
    """Media types are case-insensitive and take parameters (RFC 9110 §8.3.1): these are
    application/grpc and are served."""
    result = call(module_server.address, headers=[("content-type", content_type),
                                                  ("te", "trailers")])
    assert result.grpc_status == "0" and result.data == grpc_frame(ALIVE_REPLY), result


# ---- grpc-timeout ----------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", ["1", "1X", "-1S", "123456789S", "", "1.5S", "S", "+1S",
                                     "1s"])
def test_malformed_grpc_timeout_is_invalid_argument(module_server, timeout):
    """grpc-timeout is 1 to 8 digits and a unit of H M S m u n (gRPC spec). A malformed one is
    answered at once, trailers-only, INVALID_ARGUMENT naming the value; the spec leaves the
    code open and grpc-go answers INTERNAL ("malformed grpc-timeout")."""
    result = call(module_server.address, headers=GRPC_HEADERS + [("grpc-timeout", timeout)])
    assert_status(result, grpc.StatusCode.INVALID_ARGUMENT, f'malformed grpc-timeout "{timeout}"')
    assert_trailers_only(result)


@pytest.mark.parametrize("timeout", [" 1S", "1S "])
def test_grpc_timeout_with_outer_whitespace_is_a_malformed_http2_request(module_server,
                                                                         timeout):
    """A field value may not start or end with whitespace in HTTP/2 (RFC 9113 §8.2.1): nghttp2
    resets the stream PROTOCOL_ERROR before gRPC sees it."""
    result = call(module_server.address, headers=GRPC_HEADERS + [("grpc-timeout", timeout)])
    assert result.reset == ErrorCodes.PROTOCOL_ERROR, result
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("timeout", ["99999999H", "12345678n", "1M"])
def test_grpc_timeout_extremes_are_accepted(module_server, timeout):
    """Eight digits in any unit are valid, the largest (about 11,000 years) included."""
    result = call(module_server.address, headers=GRPC_HEADERS + [("grpc-timeout", timeout)])
    assert result.grpc_status == "0", result


# ---- :method and :path -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "post", "DELETE", "OPTIONS", "HEAD", "PRI"])
def test_methods_other_than_post_get_405(module_server, method):
    """gRPC requires POST: any other method (lower-case post too: methods are case-sensitive)
    gets HTTP 405 with grpc-status INTERNAL and a message naming the method."""
    result = call(module_server.address, method=method)
    assert_status(result, grpc.StatusCode.INTERNAL, f"HTTP method {method} not allowed",
                  "requires POST", http_status=405)
    assert_trailers_only(result)


@pytest.mark.parametrize("path", [
    "/proto.EchoService",
    "/proto.EchoService/",
    "//EchoService",
    "/proto.EchoService/../proto.EchoService/EchoService",
    "/proto.EchoService/EchoService/..",
    "/proto.EchoService/./EchoService",
    "/proto.EchoService/Echo%53ervice",
    "/proto%2EEchoService/EchoService",
    "/proto.EchoService/EchoService?x=1",
    "/proto.EchoService/EchoService/extra",
    "/" + "a" * 8000 + "/b",
], ids=["no-method", "empty-method", "empty-service", "dot-dot", "trailing-dot-dot",
        "dot-segment", "percent-encoded-method", "percent-encoded-service", "query",
        "third-segment", "8000-byte-path"])
def test_paths_that_name_no_method_are_unimplemented(module_server, path):
    """A :path is matched byte for byte (no dot-segment removal, no percent-decoding, no
    query): anything but an exact /service/method is an unknown method, UNIMPLEMENTED naming the
    path, percent-encoded on the wire as the gRPC spec requires."""
    result = call(module_server.address, path=path)
    assert_status(result, grpc.StatusCode.UNIMPLEMENTED, f"unknown method {path}")
    assert_trailers_only(result)
    assert result.headers["grpc-message"].isascii()


def test_path_over_the_header_list_limit_is_resource_exhausted(module_server):
    """A 20,000-byte :path puts the header list over 16 KiB: RESOURCE_EXHAUSTED naming the
    limit, not UNIMPLEMENTED with a 20 KB message."""
    result = call(module_server.address, path="/" + "a" * 20000 + "/b")
    assert_status(result, grpc.StatusCode.RESOURCE_EXHAUSTED, "SETTINGS_MAX_HEADER_LIST_SIZE")


def test_path_far_over_the_header_list_limit_is_reset(module_server):
    """Past twice the limit (here 40,000 bytes) the server stops reading the block and nghttp2
    resets the stream INTERNAL_ERROR; the server goes on serving."""
    result = call(module_server.address, path="/" + "a" * 40000)
    assert result.reset == ErrorCodes.INTERNAL_ERROR, result
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("path", ["/proto.EchoService/Echo Service", "/proto\x01/x"],
                         ids=["space", "control-character"])
def test_path_with_characters_http2_forbids_is_reset(module_server, path):
    """nghttp2 checks :path characters (RFC 9113 §8.3.1, RFC 3986): a space or a control
    character makes the request malformed, RST_STREAM PROTOCOL_ERROR."""
    result = call(module_server.address, path=path)
    assert result.reset == ErrorCodes.PROTOCOL_ERROR, result
    assert_still_serving(module_server.address)


# ---- Many unknown methods and the metrics ------------------------------------------------------

UNKNOWN_LABELS = method_labels("/unknown/unknown", "unary")


def test_2000_unknown_methods_are_unimplemented_and_add_no_series(fresh_server):
    """2,000 distinct unknown services and methods on one connection: every one UNIMPLEMENTED
    naming its path, and /metrics has exactly the series it had before: unknown calls are
    counted under the one pre-declared unknown/unknown label set (started and Unimplemented
    both up by 2,000)."""
    before = scrape(fresh_server.address)
    paths = [f"/hostile.Service{i}/Method{i}" if i % 2 else f"/proto.EchoService/Nope{i}"
             for i in range(2000)]
    with H2Client(fresh_server.address, timeout=10) as client:
        for start in range(0, len(paths), 250):
            streams = {client.request(p, GRPC_HEADERS, body=grpc_frame(ALIVE_REQUEST)): p
                       for p in paths[start:start + 250]}
            assert client.pump(lambda: all(client.streams[s].ended for s in streams), 10)
            for stream, path in streams.items():
                result = client.streams[stream]
                assert result.grpc_status == str(grpc.StatusCode.UNIMPLEMENTED.value[0]), result
                assert message_of(result) == f"unknown method {path}"
    after = scrape(fresh_server.address)
    assert set(after.samples) - set(before.samples) == set(), "new series"
    assert len(after.samples) == len(before.samples)
    for sample, grown_by in [("grpc_server_started_total", 2000),
                             ("grpc_server_msg_received_total", 0),
                             ("grpc_server_msg_sent_total", 0)]:
        assert after.value(sample, **UNKNOWN_LABELS) - before.value(
            sample, **UNKNOWN_LABELS) == grown_by, sample
    unimplemented = {"grpc_code": "Unimplemented", **UNKNOWN_LABELS}
    assert after.value("grpc_server_handled_total", **unimplemented) - before.value(
        "grpc_server_handled_total", **unimplemented) == 2000
    assert_still_serving(fresh_server.address)


# ---- Metadata abuse --------------------------------------------------------------------------


def test_as_many_small_headers_as_fit_under_the_limit_are_served(module_server):
    """450 one-letter headers (15,300 bytes of header list as RFC 9113 §6.5.2 counts it: 32
    per field) stay under the 16 KiB limit: an ordinary call. (1,000 small headers cannot fit
    under 16 KiB: 1,000 x 32 bytes of overhead alone is 32,000.)"""
    result = call(module_server.address, headers=GRPC_HEADERS + [("a", "b")] * 450)
    assert result.grpc_status == "0" and result.data == grpc_frame(ALIVE_REPLY), result


def test_600_small_headers_are_resource_exhausted(module_server):
    """600 one-letter headers are a 20 KB header list, over the 16 KiB
    SETTINGS_MAX_HEADER_LIST_SIZE but under twice it: the block is read to its end and the call
    answered RESOURCE_EXHAUSTED naming the limit, trailers-only."""
    result = call(module_server.address, headers=GRPC_HEADERS + [("a", "b")] * 600)
    assert_status(result, grpc.StatusCode.RESOURCE_EXHAUSTED, "SETTINGS_MAX_HEADER_LIST_SIZE")
    assert_trailers_only(result)
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("headers", [
    [("a", "b")] * 1000,
    [(f"x-{i}", "v") for i in range(1000)],
], ids=["repeated-name", "distinct-names"])
def test_1000_small_headers_are_reset(module_server, headers):
    """1,000 small headers are a 34-39 KB header list, over twice the 16 KiB limit: the server
    stops reading the block there and nghttp2 resets the stream INTERNAL_ERROR (reading on
    would let a few bytes of HPACK cost megabytes of work); the server goes on."""
    result = call(module_server.address, headers=GRPC_HEADERS + headers)
    assert result.reset == ErrorCodes.INTERNAL_ERROR, result
    assert result.headers == {}
    assert_still_serving(module_server.address)


@pytest.mark.parametrize("name", ["x-custom-bin", "x-grpc-test-echo-trailing-bin"])
@pytest.mark.parametrize("value", ["!!not base64!!", "A", "AAE=AAE="],
                         ids=["alphabet", "impossible-length", "padding-inside"])
def test_binary_header_that_is_not_base64_is_internal(module_server, name, value):
    """-bin values are base64 (gRPC spec: padded or not); anything else is malformed metadata,
    which grpc-go refuses with INTERNAL before the handler runs."""
    result = call(module_server.address, headers=GRPC_HEADERS + [(name, value)])
    assert_status(result, grpc.StatusCode.INTERNAL, name)


@pytest.mark.parametrize("value", ["a\x01b", "a\x7fb", "a\x1bb", "\x00", "a\rb", "a\nb"],
                         ids=["soh", "del", "esc", "nul", "cr", "lf"])
@pytest.mark.parametrize("name", ["x-custom", "x-grpc-test-echo-initial"])
def test_header_value_with_a_control_character_is_reset(module_server, name, value):
    """Control characters are not field content (RFC 9110 §5.5; gRPC's ASCII-Value is
    0x20-0x7E), and NUL, CR and LF MUST make the request malformed (RFC 9113 §8.2.1): nghttp2
    resets the stream PROTOCOL_ERROR, so nothing reaches the handler or is echoed back."""
    result = call(module_server.address, headers=GRPC_HEADERS + [(name, value)])
    assert result.reset == ErrorCodes.PROTOCOL_ERROR, result
    assert result.headers == {}
    assert_still_serving(module_server.address)


def test_header_value_with_a_tab_is_served_and_echoed(module_server):
    """A tab inside a value is field content (RFC 9110 §5.5): the call is served and the echo
    header comes back unchanged."""
    result = call(module_server.address,
                  headers=GRPC_HEADERS + [("x-grpc-test-echo-initial", "a\tb")])
    assert result.grpc_status == "0", result
    assert result.headers.get("x-grpc-test-echo-initial") == "a\tb", result.headers
