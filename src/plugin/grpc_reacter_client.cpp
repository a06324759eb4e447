// The plugin module: ReacterClient over gRPC's callback API, built into libeventgateway_plugin.so
// (cmake/plugin.cmake) and never linked into the gateway itself.

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "plugin/reacter_module.h"
#include "plugin/v1/reacter.grpc.pb.h"

namespace eg::plugin {
namespace {

namespace pb = eventgateway::plugin::v1;

RpcFailure failure_of(const grpc::Status& status) {
  return RpcFailure{.message = "gRPC status " + std::to_string(static_cast<int>(status.error_code())) +
                               (status.error_message().empty() ? "" : ": " + status.error_message()),
                    .deadline_exceeded = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED};
}

// One call's state, alive until gRPC has completed it.
template <typename Request, typename Response, typename Result>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
  std::function<void(Result)> done;
};

class GrpcReacterClient final : public ReacterClient {
 public:
  explicit GrpcReacterClient(const std::string& target) : stub_(pb::Reacter::NewStub(channel_to(target))) {}

  void subscriptions(Deadline deadline, std::function<void(SubscriptionsResult)> done) override {
    auto* call = new Call<pb::SubscriptionsRequest, pb::SubscriptionsResponse, SubscriptionsResult>{};
    call->done = std::move(done);
    call->context.set_deadline(deadline);
    // Waits for the plugin's socket to accept: it has just printed its handshake.
    call->context.set_wait_for_ready(true);
    stub_->async()->Subscriptions(
        &call->context, &call->request, &call->response, [call](grpc::Status status) {
          std::unique_ptr<std::remove_reference_t<decltype(*call)>> owned(call);
          SubscriptionsResult result;
          if (!status.ok()) {
            result.failure = failure_of(status);
          } else {
            for (const auto& subscription : call->response.subscriptions()) {
              result.subscriptions.push_back(
                  {.event_type = subscription.event_type(), .sync = subscription.type() == pb::SYNC});
            }
          }
          owned->done(std::move(result));
        });
  }

  void react(std::string event_type, std::string event, Deadline deadline,
             std::function<void(ReactResult)> done) override {
    auto* call = new Call<pb::ReactRequest, pb::ReactResponse, ReactResult>{};
    call->done = std::move(done);
    call->context.set_deadline(deadline);
    call->request.set_event_type(std::move(event_type));
    call->request.set_event(std::move(event));
    stub_->async()->React(&call->context, &call->request, &call->response, [call](grpc::Status status) {
      std::unique_ptr<std::remove_reference_t<decltype(*call)>> owned(call);
      ReactResult result;
      if (!status.ok()) {
        result.failure = failure_of(status);
      } else {
        auto& response = owned->response;
        result.reply = ReactReply{.error = std::move(*response.mutable_error()),
                                  .status_code = response.status_code(),
                                  .data = std::move(*response.mutable_data())};
      }
      owned->done(std::move(result));
    });
  }

 private:
  static std::shared_ptr<grpc::Channel> channel_to(const std::string& target) {
    grpc::ChannelArguments arguments;
    // A plugin's answer may carry an event's data (a transform): as large as an event may be.
    arguments.SetMaxReceiveMessageSize(-1);
    // Each plugin process gets a channel of its own, not one shared by target: a restarted plugin may
    // reuse its predecessor's address.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
  }

  std::unique_ptr<pb::Reacter::Stub> stub_;
};

}  // namespace
}  // namespace eg::plugin

std::unique_ptr<eg::plugin::ReacterClient> eg_connect_reacter(const std::string& grpc_target) {
  // Debian builds Abseil without NDEBUG, so every absl::Mutex that gRPC locks (several per call)
  // also updates a lock-order graph for deadlock detection: about 3% of the gateway's CPU with one
  // plugin, sync or async (perf). The setting is the process's (Abseil is a shared library), so the
  // etcd module's gRPC is spared it too; the gateway's own code locks no absl::Mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return std::make_unique<eg::plugin::GrpcReacterClient>(grpc_target);
}
