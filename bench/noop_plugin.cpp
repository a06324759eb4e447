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
// Threads: the callback API runs each handler on one of gRPC's own threads, and these handlers never
// block, so the plugin has no thread pool of its own and no sync-server pollers (which gRPC would
// create for a grpc::Service). gRPC 1.51 (Debian bookworm's) runs callbacks on its process-wide
// callback queue, max(2, cores / 2) threads that sleep in epoll_wait while nothing arrives: the plugin
// costs CPU per call only, never by polling. Debian builds Abseil without NDEBUG, so every
// absl::Mutex that gRPC locks also updates a lock-order graph for deadlock detection, which took an
// eighth of this plugin's CPU: it is turned off before gRPC starts.

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>

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

class NoopReacter final : public pb::Reacter::CallbackService {
 public:
  explicit NoopReacter(pb::SubscriptionsResponse subscriptions) : subscriptions_(std::move(subscriptions)) {}

  // Reads the async events until the gateway closes the stream. One per Events API thread.
  class NoticeReader final : public grpc::ServerReadReactor<pb::NotifyRequest> {
   public:
    explicit NoticeReader(std::atomic<std::uint64_t>& notices) : notices_(notices) { StartRead(&message_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      notices_.fetch_add(static_cast<std::uint64_t>(message_.events_size()), std::memory_order_relaxed);
      StartRead(&message_);
    }
    void OnDone() override { delete this; }

   private:
    std::atomic<std::uint64_t>& notices_;
    pb::NotifyRequest message_;
  };

  grpc::ServerReadReactor<pb::NotifyRequest>* Notify(grpc::CallbackServerContext*,
                                                     pb::NotifyResponse*) override {
    return new NoticeReader(notices_);
  }

  // Answers each message of sync calls with one message: an empty answer (allowed) for each id. One
  // read and one write in flight at a time; answers that come while a write is in flight go in the
  // next one.
  class CallAnswerer final : public grpc::ServerBidiReactor<pb::ReactStreamRequest, pb::ReactStreamResponse> {
   public:
    explicit CallAnswerer(std::atomic<std::uint64_t>& calls) : calls_(calls) { StartRead(&request_); }

    void OnReadDone(bool ok) override {
      if (!ok) {
        std::lock_guard lock(mutex_);
        reading_done_ = true;
        if (!writing_) Finish(grpc::Status::OK);
        return;
      }
      calls_.fetch_add(static_cast<std::uint64_t>(request_.calls_size()), std::memory_order_relaxed);
      std::unique_lock lock(mutex_);
      for (const auto& call : request_.calls()) pending_.add_answers()->set_id(call.id());
      if (!writing_) {
        writing_ = true;
        sending_.Swap(&pending_);
        lock.unlock();
        StartWrite(&sending_);
      } else {
        lock.unlock();
      }
      StartRead(&request_);
    }

    void OnWriteDone(bool ok) override {
      std::unique_lock lock(mutex_);
      sending_.Clear();
      if (ok && pending_.answers_size() > 0) {
        sending_.Swap(&pending_);
        lock.unlock();
        StartWrite(&sending_);
        return;
      }
      writing_ = false;
      if (reading_done_ || !ok) Finish(grpc::Status::OK);
    }

    void OnDone() override { delete this; }

   private:
    std::atomic<std::uint64_t>& calls_;
    std::mutex mutex_;
    pb::ReactStreamRequest request_;
    pb::ReactStreamResponse pending_;
    pb::ReactStreamResponse sending_;
    bool writing_ = false;
    bool reading_done_ = false;
  };

  grpc::ServerBidiReactor<pb::ReactStreamRequest, pb::ReactStreamResponse>* ReactStream(
      grpc::CallbackServerContext*) override {
    return new CallAnswerer(react_calls_);
  }

  grpc::ServerUnaryReactor* Subscriptions(grpc::CallbackServerContext* context,
                                          const pb::SubscriptionsRequest*,
                                          pb::SubscriptionsResponse* response) override {
    *response = subscriptions_;
    return finished(context);
  }

  // An empty answer: no veto, no transform.
  grpc::ServerUnaryReactor* React(grpc::CallbackServerContext* context, const pb::ReactRequest*,
                                  pb::ReactResponse*) override {
    react_calls_.fetch_add(1, std::memory_order_relaxed);
    return finished(context);
  }

  std::uint64_t react_calls() const { return react_calls_.load(std::memory_order_relaxed); }
  std::uint64_t notices() const { return notices_.load(std::memory_order_relaxed); }

 private:
  // Answered at once, on the thread that received the call.
  static grpc::ServerUnaryReactor* finished(grpc::CallbackServerContext* context) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  const pb::SubscriptionsResponse subscriptions_;
  std::atomic<std::uint64_t> react_calls_{0};
  std::atomic<std::uint64_t> notices_{0};
};

}  // namespace

int main() {
  check_started_by_gateway();
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto subscriptions =
      parse_subscriptions(env_or("NOOP_PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"));
  subscriptions.set_notify_stream(env_or("NOOP_PLUGIN_NOTIFY_STREAM", "1") != "0");
  subscriptions.set_react_stream(env_or("NOOP_PLUGIN_REACT_STREAM", "1") != "0");
  NoopReacter reacter(std::move(subscriptions));

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
  builder.RegisterService(&reacter);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::filesystem::remove_all(socket_dir);
    die("cannot listen on " + socket_path);
  }

  // The handshake; the gateway logs whatever follows on stdout and stderr.
  std::cout << "1|1|unix|" << socket_path << "|grpc" << std::endl;

  // A gateway killed with SIGKILL cannot stop us: once we have another parent, stop.
  const pid_t parent = getppid();
  const timespec second{.tv_sec = 1, .tv_nsec = 0};
  while (sigtimedwait(&stop_signals, nullptr, &second) < 0 && getppid() == parent) {
  }

  // Calls in flight get a second to finish.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server.reset();
  std::filesystem::remove_all(socket_dir);

  const auto calls = reacter.react_calls() + reacter.notices();
  std::cerr << "noop_plugin: answered " << reacter.react_calls() << " React calls and got "
            << reacter.notices() << " events on Notify streams" << std::endl;
  if (const auto count_file = env_or("NOOP_PLUGIN_COUNT_FILE", ""); !count_file.empty()) {
    if (FILE* out = std::fopen(count_file.c_str(), "w")) {
      std::fprintf(out, "%llu\n", static_cast<unsigned long long>(calls));
      std::fclose(out);
    }
  }
  return 0;
}
