"""A tiny blocking HTTP/2 (h2c, prior knowledge) client on the `h2` package, for requests grpcio
will not send (wrong content types, raw frames) and for watching connection-level events."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events


class _GracefulH2Connection(h2.connection.H2Connection):
    """h2 closes the whole connection when a GOAWAY arrives; RFC 9113 lets the streams the GOAWAY
    covers run to completion, so after a graceful GOAWAY (NO_ERROR) this keeps it open."""

    def _receive_goaway_frame(self, frame):
        frames, events = super()._receive_goaway_frame(frame)
        if frame.error_code == 0:
            self.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
        return frames, events


@dataclass
class StreamResult:
    headers: dict[str, str] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    trailers: dict[str, str] = field(default_factory=dict)
    ended: bool = False
    reset: int | None = None

    @property
    def status(self) -> int | None:
        value = self.headers.get(":status")
        return int(value) if value is not None else None

    @property
    def grpc_status(self) -> str | None:
        return self.trailers.get("grpc-status", self.headers.get("grpc-status"))


class H2Client:
    def __init__(self, address: str, timeout: float = 5.0, validate_headers: bool = True,
                 acknowledge_data: bool = True):
        """``validate_headers=False`` sends header blocks exactly as given, malformed ones too.
        ``acknowledge_data=False`` plays a client that reads frames but not its responses: it never
        opens its flow-control window again, so the server can send it no more than 64 KiB."""
        self.acknowledge_data = acknowledge_data
        host, port = address.rsplit(":", 1)
        self.address = address
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.conn = _GracefulH2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8",
            validate_outbound_headers=validate_headers,
            normalize_outbound_headers=validate_headers))
        self.conn.initiate_connection()
        self.flush()
        self.streams: dict[int, StreamResult] = {}
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.unacknowledged: list[tuple[int, int]] = []

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path: str, headers: list[tuple[str, str]], body: bytes | None = None,
                end_stream: bool = True, method: str = "POST") -> int:
        stream_id = self.conn.get_next_available_stream_id()
        self.streams[stream_id] = StreamResult()
        self.conn.send_headers(stream_id, [
            (":method", method), (":scheme", "http"), (":authority", self.address),
            (":path", path), *headers,
        ], end_stream=end_stream and body is None)
        if body is not None:
            self.conn.send_data(stream_id, body, end_stream=end_stream)
        self.flush()
        return stream_id

    def raw_request(self, headers: list[tuple[bytes, bytes]]) -> int:
        """Opens a stream with exactly these header fields (no pseudo-headers added)."""
        stream_id = self.conn.get_next_available_stream_id()
        self.streams[stream_id] = StreamResult()
        self.conn.send_headers(stream_id, headers)
        self.flush()
        return stream_id

    def send(self, stream_id: int, body: bytes, end_stream: bool = False) -> None:
        self.conn.send_data(stream_id, body, end_stream=end_stream)
        self.flush()

    def send_flow_controlled(self, stream_id: int, body: bytes, timeout: float = 10.0) -> None:
        """Sends ``body`` as the server's flow-control windows allow, reading its frames (and
        WINDOW_UPDATEs) while the window is closed."""
        deadline = time.monotonic() + timeout
        while body:
            window = min(self.conn.local_flow_control_window(stream_id),
                         self.conn.max_outbound_frame_size)
            if window == 0:
                if time.monotonic() > deadline or self.closed:
                    raise TimeoutError("the server did not open its flow-control window")
                self.pump(lambda: self.conn.local_flow_control_window(stream_id) > 0, 1.0)
                continue
            self.conn.send_data(stream_id, body[:window])
            body = body[window:]
            self.flush()

    def start_reading(self) -> None:
        """Turns into a client that reads its responses, with windows opened wide (1 GiB) so
        what it kept waiting arrives without a WINDOW_UPDATE round trip every 32 KiB."""
        self.acknowledge_data = True
        self.unacknowledged.clear()
        self.conn.increment_flow_control_window(2**30)
        for stream_id, result in self.streams.items():
            if not result.ended:
                self.conn.increment_flow_control_window(2**30, stream_id)
        self.flush()

    def end(self, stream_id: int) -> None:
        self.conn.end_stream(stream_id)
        self.flush()

    def pump(self, until, timeout: float = 5.0) -> bool:
        """Reads frames until ``until()`` holds, the peer closes, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not until():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return until()
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return until()
            except ConnectionResetError:
                self.closed = True
                return until()
            if not data:
                self.closed = True
                return until()
            for event in self.conn.receive_data(data):
                self._handle(event)
            self.flush()
        return True

    def _handle(self, event) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            self.streams[event.stream_id].headers = dict(event.headers)
        elif isinstance(event, h2.events.TrailersReceived):
            self.streams[event.stream_id].trailers = dict(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.streams[event.stream_id].data += event.data
            if self.acknowledge_data:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            else:
                self.unacknowledged.append((event.flow_controlled_length, event.stream_id))
        elif isinstance(event, h2.events.StreamEnded):
            self.streams[event.stream_id].ended = True
        elif isinstance(event, h2.events.StreamReset):
            self.streams[event.stream_id].reset = event.error_code
            self.streams[event.stream_id].ended = True
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

    def wait_stream(self, stream_id: int, timeout: float = 5.0) -> StreamResult:
        self.pump(lambda: self.streams[stream_id].ended, timeout)
        return self.streams[stream_id]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "H2Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


GRPC_HEADERS = [("content-type", "application/grpc"), ("te", "trailers")]
