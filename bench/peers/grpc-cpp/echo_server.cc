// gRPC C++'s callback-API server of proto.EchoService: the bench peer (bench/grpc-server.sh)
// that says what Google's C++ gRPC stack costs on the requests EchoServer answers.
//
// Everything is gRPC's default, as a user of the callback API would write it: the handler runs
// inline on gRPC's own polling threads, whose number gRPC picks from the machine's cores.
// Only the unary method is overridden; the streaming ones answer UNIMPLEMENTED.
//
//   grpc-cpp-echo [--port N]   port from --port, else $GRPC_SERVER_PORT, else 8080
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "echo.grpc.pb.h"

namespace {

class EchoPeerService final : public proto::EchoService::CallbackService {
  // The reply EchoServer gives: the request's message after "echo ".
  grpc::ServerUnaryReactor* EchoService(grpc::CallbackServerContext* context,
                                        const proto::Message* request,
                                        proto::Message* reply) override {
    reply->set_message("echo " + request->message());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int PortFrom(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) return std::atoi(argv[i + 1]);
    if (std::strncmp(argv[i], "--port=", 7) == 0) return std::atoi(argv[i] + 7);
  }
  const char* env = std::getenv("GRPC_SERVER_PORT");
  return env != nullptr ? std::atoi(env) : 8080;
}

}  // namespace

int main(int argc, char** argv) {
  const int port = PortFrom(argc, argv);
  if (port <= 0 || port > 65535) {
    std::cerr << "grpc-cpp-echo: the port must be 1 to 65535 (--port N or GRPC_SERVER_PORT)\n";
    return 2;
  }
  const std::string address = "127.0.0.1:" + std::to_string(port);
  EchoPeerService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::cerr << "grpc-cpp-echo: could not listen on " << address << " (port in use?)\n";
    return 1;
  }
  std::cout << "grpc-cpp-echo listening on " << address << std::endl;
  server->Wait();
  return 0;
}
