// The plugin module: ReacterClient over gRPC's callback API, built into libeventgateway_plugin.so
// (cmake/plugin.cmake) and never linked into the gateway itself.

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/encoded_notify_request.h"
#include "plugin/reacter_module.h"
#include "plugin/v1/reacter.grpc.pb.h"

// How gRPC sends an EncodedNotifyRequest: its bytes as they are, in a slice that shares them (a
// reference, no copy), which gRPC releases once they are on the wire.
template <>
class grpc::SerializationTraits<eg::plugin::EncodedNotifyRequest> {
 public:
  static grpc::Status Serialize(const eg::plugin::EncodedNotifyRequest& message, grpc::ByteBuffer* buffer,
                                bool* own_buffer) {
    auto* shared = new std::shared_ptr<const std::string>(message.bytes());
    auto* data = const_cast<char*>((*shared)->data());  // only read: grpc::Slice takes a void*
    const grpc::Slice slice(data, (*shared)->size(), &release, shared);
    grpc::ByteBuffer sent(&slice, 1);
    buffer->Swap(&sent);
    *own_buffer = true;
    return grpc::Status::OK;
  }
  // Never received: the gateway only sends these.
  static grpc::Status Deserialize(grpc::ByteBuffer*, eg::plugin::EncodedNotifyRequest*) {
    return {grpc::StatusCode::UNIMPLEMENTED, "an EncodedNotifyRequest is not read"};
  }

 private:
  static void release(void* shared) { delete static_cast<std::shared_ptr<const std::string>*>(shared); }
};

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

// The async events of one client, and how they are sent: queued, and written on a Notify stream as
// soon as a message is full (kMessageEvents or kMessageBytes), or when the gateway flushes (every
// few tens of milliseconds, while events are queued); or, for a plugin without Notify, each a React
// call of its own. Shared by the client and its stream's reactor, which may outlive the client.
//
// No gRPC operation is started while `mutex` is held: gRPC may run a reaction on the thread that
// starts an operation, and the reaction locks it too.
class NoticeStream;

// A message's events stop at this size (an event larger than it goes alone), well within the 4 MiB a
// gRPC server accepts by default.
constexpr std::size_t kMessageBytes = 1 << 20;
// Or at this many events. What a message costs the gateway, gRPC's threads and the plugin is mostly
// the system calls and wake-ups around it, whatever it carries (perf stat: about 4 context switches
// on gRPC's threads and 2 in the plugin per message): the more events share one, the less each costs.
// A quarter of the default queue (PluginOptions::async_queue), so that a full message waits for the
// one in flight with room to spare.
constexpr std::size_t kMessageEvents = 1024;

// The name gRPC calls Notify by, as the generated stub does.
const std::string& notify_method_name() {
  static const std::string name = "/" + std::string(pb::Reacter::service_full_name()) + "/Notify";
  return name;
}

struct Notices {
  Notices(ReacterSettings client_settings, pb::Reacter::Stub& client_stub,
          std::shared_ptr<grpc::Channel> client_channel)
      : settings(std::move(client_settings)),
        stub(&client_stub),
        channel(std::move(client_channel)),
        notify_method(notify_method_name().c_str(), grpc::internal::RpcMethod::CLIENT_STREAMING, channel) {}

  const ReacterSettings settings;
  pb::Reacter::Stub* const stub;  // the client's: calls start only while the client lives
  // Notify's calls carry EncodedNotifyRequest, which the generated stub does not know: they are made
  // as the stub makes its own, on its channel.
  const std::shared_ptr<grpc::Channel> channel;
  const grpc::internal::RpcMethod notify_method;
  std::mutex mutex;
  std::deque<EncodedNotifyRequest> queued;  // with a stream: the messages not yet sent, the last filling
  std::size_t queued_events = 0;
  EncodedNotifyRequest sending;    // with a stream: the message being written
  NoticeStream* stream = nullptr;  // the open stream, if any
  bool writing = false;            // `sending` is being written
  bool closed = false;             // the client is gone: the stream ends after its last write
  std::size_t react_calls = 0;     // without a stream: React calls in flight
  // A new message is made this large at once: the size of the last one sent, as the rate of events
  // changes slowly. Grown event by event, a message's bytes were copied again at each doubling.
  std::size_t last_message_bytes = 0;

  std::size_t pending() const { return queued_events + sending.events() + react_calls; }

  void queue(std::string_view event_type, std::string_view event) {
    const auto bytes = event_type.size() + event.size();
    if (queued.empty() || full(queued.back(), bytes)) {
      queued.emplace_back().reserve(std::min(last_message_bytes, kMessageBytes));
    }
    queued.back().append(event_type, event);
    ++queued_events;
  }

  static bool full(const EncodedNotifyRequest& message, std::size_t adding_bytes = 0) {
    return message.events() >= kMessageEvents ||
           (message.events() > 0 && message.size() + adding_bytes > kMessageBytes);
  }

  // The next message to write into `sending`; false when nothing is queued.
  bool take_next() {
    if (queued.empty()) return false;
    sending = std::move(queued.front());
    queued.pop_front();
    queued_events -= sending.events();
    last_message_bytes = sending.size();
    return true;
  }
};

// One long-lived Notify call. It holds itself open (a hold) until it is closed or a write fails, so
// that a notify() that finds it idle may start the next write; it deletes itself when gRPC is done.
class NoticeStream final : public grpc::ClientWriteReactor<EncodedNotifyRequest> {
 public:
  explicit NoticeStream(std::shared_ptr<Notices> notices) : notices_(std::move(notices)) {
    notices_->settings.calls_in_flight->fetch_add(1, std::memory_order_relaxed);
  }

  // With `sending` filled and `writing` set by the caller.
  void start() {
    // What the generated stub's async()->Notify() does, with the encoded message type.
    grpc::internal::ClientCallbackWriterFactory<EncodedNotifyRequest>::Create(
        notices_->channel.get(), notices_->notify_method, &context_, &response_, this);
    AddHold();  // once bound to the call (above), before StartCall
    StartWrite(&notices_->sending);
    StartCall();
  }

  // The last write has completed: no more.
  void finish() {
    StartWritesDone();
    RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    auto& notices = *notices_;
    std::unique_lock lock(notices.mutex);
    const auto written = notices.sending.events();
    notices.sending = {};
    if (!ok) {
      notices.stream = nullptr;
      notices.writing = false;
      // The next notify() opens another stream for what is queued, unless there is none to come.
      const auto abandoned = notices.closed ? std::exchange(notices.queued_events, 0) : 0;
      if (notices.closed) notices.queued.clear();
      lock.unlock();
      lost_ = written + abandoned;
      RemoveHold();  // OnDone follows, with the status, maybe at once on another thread
      return;
    }
    // Once closed, the queue is written out; before, only a full message is written at once, and the
    // rest waits for the next flush(), which gathers more events into it.
    const bool next_is_full = !notices.queued.empty() && Notices::full(notices.queued.front());
    if ((notices.closed || next_is_full) && notices.take_next()) {
      lock.unlock();
      StartWrite(&notices.sending);
      return;
    }
    notices.writing = false;
    if (notices.closed) {
      notices.stream = nullptr;
      lock.unlock();
      finish();
    }
  }

  void OnDone(const grpc::Status& status) override {
    if (lost_ > 0 && notices_->settings.notices_lost) {
      notices_->settings.notices_lost(lost_, "the Notify stream failed: " + failure_of(status).message);
    }
    auto* counter = notices_->settings.calls_in_flight;
    delete this;
    counter->fetch_sub(1, std::memory_order_release);
  }

 private:
  std::shared_ptr<Notices> notices_;
  grpc::ClientContext context_;
  pb::NotifyResponse response_;
  std::size_t lost_ = 0;  // events of a write that failed
};

// The sync calls of one client on a ReactStream, for a plugin that has one: each call is queued with
// an id and written when the Events API thread flushes (once per turn of its event loop), so that the
// calls of one turn share a message; answers come back by id, many per message. Shared by the client
// and its stream's reactor. The caller keeps each call's deadline (PluginCaller::ask); calls past it
// are dropped here when the next call comes, so that a plugin that never answers cannot grow the
// table.
class CallStream;

struct Calls {
  struct Pending {
    std::function<void(ReactResult)> done;
    ReacterClient::Deadline deadline;
    std::uint64_t stream = 0;  // the generation of the stream that carries it, once written
  };

  explicit Calls(pb::Reacter::Stub& client_stub) : stub(&client_stub) {}

  pb::Reacter::Stub* const stub;
  std::mutex mutex;
  std::unordered_map<std::uint64_t, Pending> pending;
  std::deque<std::uint64_t> by_age;  // ids, oldest first: deadlines grow with them
  std::uint64_t next_id = 1;
  pb::ReactStreamRequest queued;   // not yet written
  pb::ReactStreamRequest sending;  // being written
  CallStream* stream = nullptr;    // the open stream, if any
  std::uint64_t generation = 0;    // of `stream`
  bool writing = false;
  bool closed = false;

  // The calls whose deadline passed: the caller has answered them already.
  void drop_expired(ReacterClient::Deadline now) {
    while (!by_age.empty()) {
      const auto found = pending.find(by_age.front());
      if (found != pending.end() && found->second.deadline > now) return;
      if (found != pending.end()) pending.erase(found);
      by_age.pop_front();
    }
  }

  // Takes out the calls that `generation`'s stream carried, to be failed.
  std::vector<std::function<void(ReactResult)>> take_carried_by(std::uint64_t carrier) {
    std::vector<std::function<void(ReactResult)>> failed;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.stream != carrier) {
        ++it;
        continue;
      }
      failed.push_back(std::move(it->second.done));
      it = pending.erase(it);
    }
    return failed;
  }
};

void fail_all(std::vector<std::function<void(ReactResult)>> calls, const std::string& why) {
  for (auto& done : calls) done(ReactResult{.failure = RpcFailure{.message = why}});
}

// One long-lived ReactStream call: a read always in flight; writes started by the client's flush or
// by the write before. Holds itself open until the plugin ends the stream or the client closes.
class CallStream final : public grpc::ClientBidiReactor<pb::ReactStreamRequest, pb::ReactStreamResponse> {
 public:
  CallStream(std::shared_ptr<Calls> calls, std::atomic<std::int64_t>* calls_in_flight)
      : calls_(std::move(calls)), calls_in_flight_(calls_in_flight), generation_(calls_->generation) {
    calls_in_flight_->fetch_add(1, std::memory_order_relaxed);
  }

  void start() {
    calls_->stub->async()->ReactStream(&context_, this);
    AddHold();  // once bound to the call (above), before StartCall
    StartRead(&answers_);
    StartWrite(&calls_->sending);
    StartCall();
  }

  void finish() {
    StartWritesDone();
    RemoveHold();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return ended();
    std::vector<std::pair<std::function<void(ReactResult)>, ReactResult>> answered;
    {
      std::lock_guard lock(calls_->mutex);
      for (auto& answer : *answers_.mutable_answers()) {
        const auto found = calls_->pending.find(answer.id());
        if (found == calls_->pending.end()) continue;  // past its deadline, or not ours
        auto& response = *answer.mutable_response();
        answered.emplace_back(std::move(found->second.done),
                              ReactResult{.reply = ReactReply{.error = std::move(*response.mutable_error()),
                                                              .status_code = response.status_code(),
                                                              .data = std::move(*response.mutable_data())}});
        calls_->pending.erase(found);
      }
    }
    StartRead(&answers_);
    for (auto& [done, result] : answered) done(std::move(result));
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(calls_->mutex);
    calls_->sending.Clear();
    const bool current = calls_->stream == this;
    if (ok && current && calls_->queued.calls_size() > 0) {
      calls_->sending.Swap(&calls_->queued);
      mark_carried(calls_->sending);
      lock.unlock();
      StartWrite(&calls_->sending);
      return;
    }
    calls_->writing = false;
    if (current && calls_->closed) {
      calls_->stream = nullptr;
      lock.unlock();
      finish();
    }
  }

  void OnDone(const grpc::Status& status) override {
    std::unique_lock lock(calls_->mutex);
    if (calls_->stream == this) calls_->stream = nullptr;
    auto failed = calls_->take_carried_by(generation_);
    lock.unlock();
    fail_all(std::move(failed), "its ReactStream ended: " + failure_of(status).message);
    auto* counter = calls_in_flight_;
    delete this;
    counter->fetch_sub(1, std::memory_order_release);
  }

  // The calls of `message` travel on this stream: they fail with it.
  void mark_carried(const pb::ReactStreamRequest& message) {
    for (const auto& call : message.calls()) {
      if (auto found = calls_->pending.find(call.id()); found != calls_->pending.end()) {
        found->second.stream = generation_;
      }
    }
  }

 private:
  // The plugin ended the stream (or it broke): no new write may start on it; OnDone follows once
  // the write in flight, if any, is done. Whoever takes the stream out of `calls_->stream` removes
  // its hold, once.
  void ended() {
    std::unique_lock lock(calls_->mutex);
    if (calls_->stream != this) return;  // closed already: close() or OnWriteDone removed the hold
    calls_->stream = nullptr;
    lock.unlock();
    RemoveHold();
  }

  std::shared_ptr<Calls> calls_;
  std::atomic<std::int64_t>* const calls_in_flight_;
  const std::uint64_t generation_;
  grpc::ClientContext context_;
  pb::ReactStreamResponse answers_;
};

class GrpcReacterClient final : public ReacterClient {
 public:
  explicit GrpcReacterClient(ReacterSettings settings)
      : channel_(channel_to(settings.grpc_target)),
        stub_(pb::Reacter::NewStub(channel_)),
        react_stream_(settings.react_stream),
        calls_in_flight_(settings.calls_in_flight),
        notices_(std::make_shared<Notices>(std::move(settings), *stub_, channel_)),
        calls_(std::make_shared<Calls>(*stub_)) {}

  ~GrpcReacterClient() override { close(); }

  void close() override {
    close_calls();
    std::unique_lock lock(notices_->mutex);
    notices_->closed = true;
    if (notices_->writing) return;  // OnWriteDone writes out the queue, then ends the stream
    if (!notices_->queued.empty()) {
      start_writing(std::move(lock));
      return;
    }
    auto* idle_stream = std::exchange(notices_->stream, nullptr);
    lock.unlock();
    if (idle_stream != nullptr) idle_stream->finish();
  }

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
            result.notify_stream = call->response.notify_stream();
            result.react_stream = call->response.react_stream();
          }
          owned->done(std::move(result));
        });
  }

  void react(std::string event_type, std::string event, Deadline deadline,
             std::function<void(ReactResult)> done) override {
    if (!react_stream_)
      return react_on(*stub_, std::move(event_type), std::move(event), deadline, std::move(done));
    std::unique_lock lock(calls_->mutex);
    if (calls_->closed) {
      lock.unlock();
      return fail_all({std::move(done)}, "the plugin is being stopped");
    }
    calls_->drop_expired(std::chrono::system_clock::now());
    const auto id = calls_->next_id++;
    calls_->pending.emplace(id, Calls::Pending{.done = std::move(done), .deadline = deadline});
    calls_->by_age.push_back(id);
    auto* call = calls_->queued.add_calls();
    call->set_id(id);
    call->mutable_request()->set_event_type(std::move(event_type));
    call->mutable_request()->set_event(std::move(event));
  }

  void flush_calls() override {
    std::unique_lock lock(calls_->mutex);
    if (calls_->writing || calls_->queued.calls_size() == 0) return;
    start_writing_calls(std::move(lock));
  }

  bool notify(std::string_view event_type, std::string event) override {
    auto& notices = *notices_;
    std::unique_lock lock(notices.mutex);
    if (notices.closed || notices.pending() >= notices.settings.notice_queue) return false;
    if (!notices.settings.notify_stream) {
      ++notices.react_calls;
      lock.unlock();
      react_for(notices_, std::string(event_type), std::move(event));
      return true;
    }
    notices.queue(event_type, event);
    // A full message goes at once; the rest waits for flush_notices() to gather more.
    if (!notices.writing && Notices::full(notices.queued.front())) start_writing(std::move(lock));
    return true;
  }

  bool flush_notices() override {
    std::unique_lock lock(notices_->mutex);
    if (notices_->writing) return true;
    if (notices_->queued.empty()) return false;
    start_writing(std::move(lock));
    return true;
  }

 private:
  // Writes the queued calls, on the open stream or a new one; `lock` holds the mutex, with no write in
  // progress and calls queued.
  void start_writing_calls(std::unique_lock<std::mutex> lock) {
    auto& calls = *calls_;
    calls.writing = true;
    calls.sending.Swap(&calls.queued);
    auto* stream = calls.stream;
    const bool opening = stream == nullptr;
    if (opening) {
      ++calls.generation;
      stream = calls.stream = new CallStream(calls_, calls_in_flight_);
    } else {
      // Held until its write has started: the plugin may end the stream meanwhile (ended(), on a gRPC
      // thread, removes the stream's own hold), and with neither a hold nor a write gRPC would finish
      // and delete it before StartWrite. Adding one is allowed here: the stream's own hold stays until
      // it is taken out of `calls.stream`, which needs the mutex.
      stream->AddHold();
    }
    stream->mark_carried(calls.sending);
    lock.unlock();
    if (opening) {
      stream->start();
    } else {
      stream->StartWrite(&calls.sending);
      stream->RemoveHold();
    }
  }

  // No more calls: those queued are still written, then the stream ends, failing what it has not
  // answered.
  void close_calls() {
    std::unique_lock lock(calls_->mutex);
    calls_->closed = true;
    if (calls_->writing) return;  // OnWriteDone writes the rest, then ends the stream
    if (calls_->queued.calls_size() > 0) return start_writing_calls(std::move(lock));
    auto* idle_stream = std::exchange(calls_->stream, nullptr);
    lock.unlock();
    if (idle_stream != nullptr) idle_stream->finish();
  }

  // Writes the next queued message, on the open stream or a new one; `lock` holds the mutex, with no
  // write in progress and a message queued.
  void start_writing(std::unique_lock<std::mutex> lock) {
    auto& notices = *notices_;
    notices.writing = true;
    notices.take_next();
    auto* stream = notices.stream;
    const bool opening = stream == nullptr;
    if (opening) stream = notices.stream = new NoticeStream(notices_);
    lock.unlock();
    if (opening) {
      stream->start();
    } else {
      stream->StartWrite(&notices.sending);
    }
  }

  static void react_on(pb::Reacter::Stub& stub, std::string event_type, std::string event, Deadline deadline,
                       std::function<void(ReactResult)> done) {
    auto* call = new Call<pb::ReactRequest, pb::ReactResponse, ReactResult>{};
    call->done = std::move(done);
    call->context.set_deadline(deadline);
    call->request.set_event_type(std::move(event_type));
    call->request.set_event(std::move(event));
    stub.async()->React(&call->context, &call->request, &call->response, [call](grpc::Status status) {
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

  // A plugin without Notify: an async event as a React call of its own, counted in react_calls (by
  // the caller) until it completes.
  static void react_for(const std::shared_ptr<Notices>& notices, std::string event_type, std::string event) {
    notices->settings.calls_in_flight->fetch_add(1, std::memory_order_relaxed);
    react_on(*notices->stub, std::move(event_type), std::move(event),
             std::chrono::system_clock::now() + notices->settings.call_timeout,
             [notices](ReactResult result) {
               {
                 std::lock_guard lock(notices->mutex);
                 --notices->react_calls;
               }
               if (result.failure && notices->settings.notices_lost) {
                 notices->settings.notices_lost(1, "React failed: " + result.failure->message);
               }
               notices->settings.calls_in_flight->fetch_sub(1, std::memory_order_release);
             });
  }

  static std::shared_ptr<grpc::Channel> channel_to(const std::string& target) {
    grpc::ChannelArguments arguments;
    // A plugin's answer may carry an event's data (a transform): as large as an event may be.
    arguments.SetMaxReceiveMessageSize(-1);
    // Each client gets a connection of its own, not one shared by target: the Events API threads
    // must not contend for one, and a restarted plugin may reuse its predecessor's address.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Reacter::Stub> stub_;
  const bool react_stream_;
  std::atomic<std::int64_t>* const calls_in_flight_;
  std::shared_ptr<Notices> notices_;
  std::shared_ptr<Calls> calls_;
};

// gRPC 1.51 runs the callbacks of callback-API calls on a process-wide completion queue, which it
// creates when a channel makes its first such call and destroys, joining its threads, when the last
// channel that made one is destroyed. A call's ClientContext holds a reference to its channel and is
// freed in the call's callback, on one of those threads: when that was the last channel, gRPC
// destroyed the queue from one of its own threads, a double free (ASan, when a client that had asked
// for Subscriptions went before the Events API threads' clients had made a call). One channel that
// made a call and is never destroyed keeps the queue for the life of the process.
void keep_callback_queue() {
  // Never destroyed, on purpose; held by a static pointer, so not a leak either.
  static const std::shared_ptr<grpc::Channel>* const keeper = [] {
    const auto* channel = new std::shared_ptr<grpc::Channel>(grpc::CreateChannel(
        "unix:/nonexistent/event-gateway-keeps-the-callback-queue", grpc::InsecureChannelCredentials()));
    auto stub = pb::Reacter::NewStub(*channel);
    // Ends at once, past its deadline: what counts is that the channel made a callback call.
    auto* call = new Call<pb::SubscriptionsRequest, pb::SubscriptionsResponse, SubscriptionsResult>{};
    call->context.set_deadline(std::chrono::system_clock::now());
    stub->async()->Subscriptions(&call->context, &call->request, &call->response,
                                 [call](const grpc::Status&) { delete call; });
    return channel;
  }();
  (void)keeper;
}

}  // namespace
}  // namespace eg::plugin

std::unique_ptr<eg::plugin::ReacterClient> eg_connect_reacter(eg::plugin::ReacterSettings settings) {
  eg::plugin::keep_callback_queue();
  // Debian builds Abseil without NDEBUG, so every absl::Mutex that gRPC locks (several per call)
  // also updates a lock-order graph for deadlock detection: about 3% of the gateway's CPU with one
  // plugin, sync or async (perf). The setting is the process's (Abseil is a shared library), so the
  // etcd module's gRPC is spared it too; the gateway's own code locks no absl::Mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return std::make_unique<eg::plugin::GrpcReacterClient>(std::move(settings));
}
