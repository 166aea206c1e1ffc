"""grpc.health.v1.Health and server reflection (v1alpha through grpcio-reflection's client, v1
through the generic API)."""

from __future__ import annotations

import collections
import time

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from conftest import RPC_TIMEOUT, UNARY, deser, ser

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

EXPECTED_SERVICES = {
    "proto.EchoService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
}
V1_REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]


class _CallDetails(
        collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials",
                                                "wait_for_ready", "compression")),
        grpc.ClientCallDetails):
    pass


class TimeoutInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                         grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Gives every call (grpcio-reflection's client sets none) a deadline."""

    def __init__(self, timeout: float):
        self._timeout = timeout

    def _details(self, d):
        return _CallDetails(d.method, d.timeout if d.timeout is not None else self._timeout,
                            d.metadata, d.credentials, d.wait_for_ready, d.compression)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)


# -------------------------------------------------------------------------------------- health


@pytest.fixture
def health(channel):
    return health_pb2_grpc.HealthStub(channel)


@pytest.mark.parametrize("service", ["", "proto.EchoService"])
def test_health_check_serving(health, service):
    reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT)
    assert reply.status == SERVING


def test_health_check_unknown_service_not_found(health):
    with pytest.raises(grpc.RpcError) as info:
        health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=RPC_TIMEOUT)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_health_watch_yields_serving_first(health):
    call = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=RPC_TIMEOUT)
    try:
        assert next(call).status == SERVING
    finally:
        call.cancel()


def test_health_watch_unknown_service(health):
    """The Watch of an unknown service is not an error: it reports SERVICE_UNKNOWN."""
    call = health.Watch(health_pb2.HealthCheckRequest(service="nope"), timeout=RPC_TIMEOUT)
    try:
        assert next(call).status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
    finally:
        call.cancel()


@pytest.mark.parametrize("service", ["", "proto.EchoService"])
def test_health_watch_sees_not_serving_on_sigterm_then_ends(server_factory, service):
    srv = server_factory("--grace-period", "5")
    with grpc.insecure_channel(srv.address) as ch:
        call = health_pb2_grpc.HealthStub(ch).Watch(
            health_pb2.HealthCheckRequest(service=service), timeout=8)
        assert next(call).status == SERVING
        srv.sigterm()
        started = time.monotonic()
        statuses = []
        error = None
        try:
            for reply in call:
                statuses.append(reply.status)
        except grpc.RpcError as exc:
            error = exc
        elapsed = time.monotonic() - started
    assert statuses and statuses[0] == NOT_SERVING, (statuses, error)
    assert statuses == [NOT_SERVING], statuses
    # It ends, and well before the 5 s grace period or the call's own 8 s deadline.
    assert elapsed < 4.0, f"Watch stream ended only after {elapsed:.1f} s ({error})"
    assert srv.wait(8) == 0


# ---------------------------------------------------------------------------------- reflection


@pytest.fixture
def reflection_db(channel):
    return ProtoReflectionDescriptorDatabase(
        grpc.intercept_channel(channel, TimeoutInterceptor(RPC_TIMEOUT)))


def test_v1alpha_list_services(reflection_db):
    assert set(reflection_db.get_services()) == EXPECTED_SERVICES


def test_v1alpha_file_containing_echo_service(reflection_db):
    file = reflection_db.FindFileContainingSymbol("proto.EchoService")
    assert file.package == "proto"
    services = {s.name: [m.name for m in s.method] for s in file.service}
    assert services == {"EchoService": ["EchoService", "ServerStreamingEcho",
                                        "ClientStreamingEcho", "BidirectionalStreamingEcho"]}
    methods = {m.name: m for m in file.service[0].method}
    assert methods["EchoService"].input_type == ".proto.Message"
    assert methods["ServerStreamingEcho"].server_streaming
    assert not methods["ServerStreamingEcho"].client_streaming
    assert methods["ClientStreamingEcho"].client_streaming
    assert methods["BidirectionalStreamingEcho"].client_streaming
    assert methods["BidirectionalStreamingEcho"].server_streaming


def test_v1alpha_descriptor_pool_resolves_all_services(reflection_db):
    pool = descriptor_pool.DescriptorPool(reflection_db)
    for name in EXPECTED_SERVICES:
        assert pool.FindServiceByName(name).full_name == name
    message = pool.FindMessageTypeByName("proto.StreamingEchoRequest")
    assert [(f.name, f.number) for f in message.fields] == [("message", 1), ("count", 2)]


def test_v1alpha_unknown_symbol(reflection_db):
    with pytest.raises(KeyError):
        reflection_db.FindFileContainingSymbol("nope.Nothing")


@pytest.fixture
def v1(channel, protos):
    request_cls = protos.message("grpc.reflection.v1.ServerReflectionRequest")
    response_cls = protos.message("grpc.reflection.v1.ServerReflectionResponse")
    rpc = channel.stream_stream(V1_REFLECTION, request_serializer=ser,
                                response_deserializer=deser(response_cls))

    def exchange(*requests):
        replies = list(rpc(iter(requests), timeout=RPC_TIMEOUT))
        assert len(replies) == len(requests)
        return replies

    exchange.Request = request_cls
    return exchange


def test_v1_list_services(v1):
    (reply,) = v1(v1.Request(list_services=""))
    assert reply.WhichOneof("message_response") == "list_services_response"
    assert {s.name for s in reply.list_services_response.service} == EXPECTED_SERVICES
    assert reply.original_request.list_services == ""


def test_v1_file_containing_symbol(v1, protos):
    (reply,) = v1(v1.Request(file_containing_symbol="proto.EchoService"))
    assert reply.WhichOneof("message_response") == "file_descriptor_response"
    files = [descriptor_pb2.FileDescriptorProto.FromString(b)
             for b in reply.file_descriptor_response.file_descriptor_proto]
    echo = next(f for f in files if f.package == "proto")
    assert [m.name for m in echo.service[0].method] == [
        "EchoService", "ServerStreamingEcho", "ClientStreamingEcho",
        "BidirectionalStreamingEcho"]
    # Same descriptor as our own protoc compilation, apart from source info / file name.
    ours = next(f for f in protos.file_set.file if f.package == "proto")
    assert [m.name for m in echo.message_type] == [m.name for m in ours.message_type]


def test_v1_file_containing_method_and_message_symbols(v1):
    replies = v1(v1.Request(file_containing_symbol="proto.EchoService.ServerStreamingEcho"),
                 v1.Request(file_containing_symbol="proto.StreamingEchoRequest"),
                 v1.Request(file_containing_symbol="grpc.health.v1.HealthCheckResponse"))
    packages = []
    for reply in replies:
        assert reply.WhichOneof("message_response") == "file_descriptor_response", reply
        first = descriptor_pb2.FileDescriptorProto.FromString(
            reply.file_descriptor_response.file_descriptor_proto[0])
        packages.append(first.package)
    assert packages == ["proto", "proto", "grpc.health.v1"]


def test_v1_unknown_symbol_not_found(v1):
    (reply,) = v1(v1.Request(file_containing_symbol="nope.Nothing"))
    assert reply.WhichOneof("message_response") == "error_response"
    assert reply.error_response.error_code == NOT_FOUND
    assert reply.error_response.error_message
    assert reply.original_request.file_containing_symbol == "nope.Nothing"


def test_v1_unknown_file_not_found(v1):
    (reply,) = v1(v1.Request(file_by_filename="nope.proto"))
    assert reply.WhichOneof("message_response") == "error_response"
    assert reply.error_response.error_code == NOT_FOUND


def test_v1_several_requests_on_one_stream(v1):
    replies = v1(v1.Request(list_services=""),
                 v1.Request(file_containing_symbol="nope.Nothing"),
                 v1.Request(file_containing_symbol="proto.Message"))
    assert [r.WhichOneof("message_response") for r in replies] == [
        "list_services_response", "error_response", "file_descriptor_response"]


def test_reflection_then_call_with_discovered_types(channel):
    """A dynamic client: discover the method via reflection, then call it."""
    db = ProtoReflectionDescriptorDatabase(
        grpc.intercept_channel(channel, TimeoutInterceptor(RPC_TIMEOUT)))
    pool = descriptor_pool.DescriptorPool(db)
    method = pool.FindServiceByName("proto.EchoService").methods_by_name["EchoService"]
    from google.protobuf import message_factory

    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    rpc = channel.unary_unary(UNARY, request_serializer=ser,
                              response_deserializer=deser(response_cls))
    assert rpc(request_cls(message="dyn"), timeout=RPC_TIMEOUT).message == "echo dyn"
