// A plugin that reacts to nothing, as cheaply as a plugin can: the C++ example of the plugin side of
// the gateway's contract (proto/plugin/v1/reacter.proto), and what bench/plugins.sh measures the cost
// of a plugin with.
//
// What every plugin does, after hashicorp/go-plugin's handshake in gRPC mode:
// 1. refuses to run unless the gateway started it (EVENT_GATEWAY_MAGIC_COOKIE) and offers protocol
//    version 1 (PLUGIN_PROTOCOL_VERSIONS);
// 2. listens on a unix socket in a fresh 0700 directory, which only this user can connect to;
// 3. prints "1|1|unix|SOCKET|grpc" on stdout and flushes: the gateway waits for that line;
// 4. answers Subscriptions, React, Notify and ReactStream until SIGTERM or SIGINT (or the gateway's death),
// then exits 0.
//
// Environment:
//   NOOP_PLUGIN_SUBSCRIPTIONS  what Subscriptions answers: EVENT_TYPE:sync|async, comma-separated
//                              (default gateway.event.received:sync)
//   NOOP_PLUGIN_COUNT_FILE     where to write, at exit, how many system events it got, by React calls
//                              and on Notify streams (it prints the numbers on stderr too, which the
//                              gateway logs at info level)
//   NOOP_PLUGIN_NOTIFY_STREAM  0: no Notify streams (each async event is then a React call); default 1
//   NOOP_PLUGIN_REACT_STREAM   0: no ReactStream (each sync event is then a React call); default 1
//
// Threads: one thread serves every call, on a completion queue of gRPC's async API, and its
// handlers never block. gRPC's callback API, used before, runs handlers on a pool of at least two
// threads (gRPC 1.51, Debian bookworm's) that poll together and hand each completion to one another:
// 4.5 context switches and 5 futex calls per ReactStream message (perf stat), against 1.5 and none
// now, which took the plugin's CPU per sync call from 9.1 to about 5 us (bench/results/plugins.md).
// The thread sleeps in epoll_wait while nothing arrives: the plugin costs CPU per call only, never by
// polling. Debian builds Abseil without NDEBUG, so every absl::Mutex that gRPC locks also updates a
// lock-order graph for deadlock detection, which took an eighth of this plugin's CPU: it is turned
// off before gRPC starts.

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "plugin/v1/reacter.grpc.pb.h"

namespace {

namespace pb = eventgateway::plugin::v1;

constexpr std::string_view kMagicCookieValue = "0329c93c-a64c-4eb5-bf72-63172430d433";

[[noreturn]] void die(const std::string& message) {
  std::cerr << "noop_plugin: " << message << std::endl;
  std::exit(1);
}

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

void check_started_by_gateway() {
  if (env_or("EVENT_GATEWAY_MAGIC_COOKIE", "") != kMagicCookieValue) {
    die("this program is a plugin for the event gateway and is not meant to be run directly; "
        "the gateway starts it: event-gateway -dev -plugin PATH");
  }
  const auto offered = "," + env_or("PLUGIN_PROTOCOL_VERSIONS", "1") + ",";
  if (offered.find(",1,") == std::string::npos) die("the gateway does not offer plugin protocol version 1");
}

// "gateway.event.received:sync,gateway.function.invoked:async" as the answer to Subscriptions.
pb::SubscriptionsResponse parse_subscriptions(const std::string& spec) {
  pb::SubscriptionsResponse response;
  std::string_view rest = spec;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto colon = entry.rfind(':');
    const auto mode = colon == std::string_view::npos ? std::string_view{} : entry.substr(colon + 1);
    if (colon == 0 || (mode != "sync" && mode != "async")) {
      die("NOOP_PLUGIN_SUBSCRIPTIONS: '" + std::string(entry) +
          "' is not EVENT_TYPE:sync or EVENT_TYPE:async");
    }
    auto* subscription = response.add_subscriptions();
    subscription->set_event_type(std::string(entry.substr(0, colon)));
    subscription->set_type(mode == "sync" ? pb::SYNC : pb::ASYNC);
  }
  return response;
}

// What every call handler is to the completion queue: the tag of its next completion.
class Handler {
 public:
  virtual ~Handler() = default;
  // One operation this handler started has completed; `ok` as the queue says.
  virtual void proceed(bool ok) = 0;
  // What to give the queue with an operation: serve() casts it back to a Handler.
  void* tag() { return this; }
};

// The counts the plugin reports at exit.
struct Counts {
  std::uint64_t react_calls = 0;  // React calls and calls on ReactStream
  std::uint64_t notices = 0;      // events on Notify streams
};

// Everything a call handler needs: the service to ask for the next call, the queue, the counts. Only
// the queue's thread touches it.
struct Serving {
  pb::Reacter::AsyncService& service;
  grpc::ServerCompletionQueue& queue;
  const pb::SubscriptionsResponse& subscriptions;
  Counts& counts;
};

// A unary call (Subscriptions or React): waits for one, asks for the next, answers at once.
template <typename Request, typename Response>
class UnaryHandler final : public Handler {
 public:
  using Ask = void (pb::Reacter::AsyncService::*)(grpc::ServerContext*, Request*,
                                                  grpc::ServerAsyncResponseWriter<Response>*,
                                                  grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                                  void*);
  using Answer = void (*)(Serving&, const Request&, Response&);

  static void wait_for_one(Serving& serving, Ask ask, Answer answer) {
    new UnaryHandler(serving, ask, answer);
  }

  void proceed(bool ok) override {
    if (!ok || answered_) {  // the server is shutting down, or the answer is written
      delete this;
      return;
    }
    wait_for_one(serving_, ask_, answer_);
    answer_(serving_, request_, response_);
    answered_ = true;
    writer_.Finish(response_, grpc::Status::OK, tag());
  }

 private:
  UnaryHandler(Serving& serving, Ask ask, Answer answer)
      : serving_(serving), ask_(ask), answer_(answer), writer_(&context_) {
    (serving_.service.*ask_)(&context_, &request_, &writer_, &serving_.queue, &serving_.queue, tag());
  }

  Serving& serving_;
  const Ask ask_;
  const Answer answer_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  bool answered_ = false;
};

// One Notify stream: reads the async events until the gateway closes it. One per Events API thread.
class NoticeReader final : public Handler {
 public:
  static void wait_for_one(Serving& serving) { new NoticeReader(serving); }

  void proceed(bool ok) override {
    switch (state_) {
      case State::Waiting:
        if (!ok) break;
        wait_for_one(serving_);
        state_ = State::Reading;
        reader_.Read(&message_, tag());
        return;
      case State::Reading:
        if (!ok) {  // the gateway closed the stream
          state_ = State::Finishing;
          reader_.Finish(response_, grpc::Status::OK, tag());
          return;
        }
        serving_.counts.notices += static_cast<std::uint64_t>(message_.events_size());
        reader_.Read(&message_, tag());
        return;
      case State::Finishing:
        break;
    }
    delete this;
  }

 private:
  enum class State { Waiting, Reading, Finishing };
  explicit NoticeReader(Serving& serving) : serving_(serving), reader_(&context_) {
    serving_.service.RequestNotify(&context_, &reader_, &serving_.queue, &serving_.queue, tag());
  }

  Serving& serving_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReader<pb::NotifyResponse, pb::NotifyRequest> reader_;
  pb::NotifyRequest message_;
  pb::NotifyResponse response_;
  State state_ = State::Waiting;
};

// One ReactStream: answers each message of sync calls with one message, an empty answer (allowed) for
// each id. One read and one write in flight at most; the answers to calls read while a write is in
// flight go in the next one. Its reads and writes complete with tags of their own.
class CallAnswerer final {
 public:
  static void wait_for_one(Serving& serving) { new CallAnswerer(serving); }

 private:
  struct Operation final : Handler {
    Operation(CallAnswerer& answerer, void (CallAnswerer::*done)(bool)) : answerer(answerer), done(done) {}
    void proceed(bool ok) override { (answerer.*done)(ok); }
    CallAnswerer& answerer;
    void (CallAnswerer::*const done)(bool);
  };

  explicit CallAnswerer(Serving& serving) : serving_(serving), stream_(&context_) {
    serving_.service.RequestReactStream(&context_, &stream_, &serving_.queue, &serving_.queue, read_.tag());
  }

  void read_done(bool ok) {
    if (!started_) {
      if (!ok) return delete this;  // the server is shutting down
      started_ = true;
      wait_for_one(serving_);
      stream_.Read(&request_, read_.tag());
      return;
    }
    if (!ok) {  // the gateway closed its side
      reading_done_ = true;
      return finish_when_idle();
    }
    serving_.counts.react_calls += static_cast<std::uint64_t>(request_.calls_size());
    for (const auto& call : request_.calls()) pending_.add_answers()->set_id(call.id());
    if (!writing_) write_pending();
    stream_.Read(&request_, read_.tag());
  }

  void write_done(bool ok) {
    writing_ = false;
    sending_.Clear();
    // After a failed write the stream is broken: its read fails too, and then it finishes.
    if (ok && pending_.answers_size() > 0) return write_pending();
    finish_when_idle();
  }

  void finish_done(bool) { delete this; }

  void write_pending() {
    writing_ = true;
    sending_.Swap(&pending_);
    stream_.Write(sending_, write_.tag());
  }

  void finish_when_idle() {
    if (!reading_done_ || writing_ || finishing_) return;
    finishing_ = true;
    stream_.Finish(grpc::Status::OK, finish_.tag());
  }

  Serving& serving_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<pb::ReactStreamResponse, pb::ReactStreamRequest> stream_;
  Operation read_{*this, &CallAnswerer::read_done};
  Operation write_{*this, &CallAnswerer::write_done};
  Operation finish_{*this, &CallAnswerer::finish_done};
  pb::ReactStreamRequest request_;
  pb::ReactStreamResponse pending_;
  pb::ReactStreamResponse sending_;
  bool started_ = false;
  bool writing_ = false;
  bool reading_done_ = false;
  bool finishing_ = false;
};

void answer_subscriptions(Serving& serving, const pb::SubscriptionsRequest&,
                          pb::SubscriptionsResponse& response) {
  response = serving.subscriptions;
}

// An empty answer: no veto, no transform.
void answer_react(Serving& serving, const pb::ReactRequest&, pb::ReactResponse&) {
  ++serving.counts.react_calls;
}

// Serves every call on this thread until the queue is shut down and drained.
void serve(Serving serving) {
  UnaryHandler<pb::SubscriptionsRequest, pb::SubscriptionsResponse>::wait_for_one(
      serving, &pb::Reacter::AsyncService::RequestSubscriptions, answer_subscriptions);
  UnaryHandler<pb::ReactRequest, pb::ReactResponse>::wait_for_one(
      serving, &pb::Reacter::AsyncService::RequestReact, answer_react);
  NoticeReader::wait_for_one(serving);
  CallAnswerer::wait_for_one(serving);
  void* tag = nullptr;
  bool ok = false;
  while (serving.queue.Next(&tag, &ok)) static_cast<Handler*>(tag)->proceed(ok);
}

}  // namespace

int main() {
  check_started_by_gateway();
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto subscriptions =
      parse_subscriptions(env_or("NOOP_PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"));
  subscriptions.set_notify_stream(env_or("NOOP_PLUGIN_NOTIFY_STREAM", "1") != "0");
  subscriptions.set_react_stream(env_or("NOOP_PLUGIN_REACT_STREAM", "1") != "0");
  pb::Reacter::AsyncService service;

  // Blocked before gRPC starts any thread, so every thread inherits the mask and the stop signals
  // wait for sigtimedwait below instead of interrupting a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // PLUGIN_UNIX_SOCKET_DIR is go-plugin's name for where the socket goes. mkdtemp makes it 0700.
  auto pattern = env_or("PLUGIN_UNIX_SOCKET_DIR", env_or("TMPDIR", "/tmp")) + "/event-gateway-plugin-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) die("cannot create a directory for the socket in " + pattern);
  const std::filesystem::path socket_dir = pattern;
  const auto socket_path = (socket_dir / "plugin.sock").string();

  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto queue = builder.AddCompletionQueue();
  auto server = builder.BuildAndStart();
  if (!server) {
    std::filesystem::remove_all(socket_dir);
    die("cannot listen on " + socket_path);
  }

  Counts counts;
  std::thread serving(
      serve, Serving{.service = service, .queue = *queue, .subscriptions = subscriptions, .counts = counts});

  // The handshake; the gateway logs whatever follows on stdout and stderr.
  std::cout << "1|1|unix|" << socket_path << "|grpc" << std::endl;

  // A gateway killed with SIGKILL cannot stop us: once we have another parent, stop.
  const pid_t parent = getppid();
  const timespec second{.tv_sec = 1, .tv_nsec = 0};
  while (sigtimedwait(&stop_signals, nullptr, &second) < 0 && getppid() == parent) {
  }

  // Calls in flight get a second to finish.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  queue->Shutdown();  // the serving thread drains it and returns
  serving.join();
  server.reset();
  std::filesystem::remove_all(socket_dir);

  const auto calls = counts.react_calls + counts.notices;
  std::cerr << "noop_plugin: answered " << counts.react_calls << " calls and got " << counts.notices
            << " events on Notify streams" << std::endl;
  if (const auto count_file = env_or("NOOP_PLUGIN_COUNT_FILE", ""); !count_file.empty()) {
    if (FILE* out = std::fopen(count_file.c_str(), "w")) {
      std::fprintf(out, "%llu\n", static_cast<unsigned long long>(calls));
      std::fclose(out);
    }
  }
  return 0;
}
