#include "store/etcd/etcd_store.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "etcd/kv.pb.h"
#include "etcd/rpc.grpc.pb.h"

// How the etcd store works:
//   - One gRPC channel per endpoint, shared by every call and every watch stream of the store (gRPC
//     multiplexes them over one HTTP/2 connection). The channels reconnect by themselves, with a
//     short backoff (at most kMaxReconnectBackoff) so that a restarted etcd is found again quickly.
//   - A Connection (channels, stubs, token, endpoint choice) is shared by the store and its watches,
//     so a watch handle may outlive the store.
//   - Each watch has a thread that owns its Watch stream. The handle cancels the stream with
//     ClientContext::TryCancel, which wakes the thread from a blocking Read, and joins the thread;
//     from within a callback (the watch's own thread) it only marks the watch stopped, and the store
//     joins the thread later (on the next watch_prefix or in its destructor).

namespace eg::store {
namespace {

namespace pb = etcdserverpb;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kWatchBackoffMin = 100ms;
constexpr auto kWatchBackoffMax = 2s;
constexpr int kInitialReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 1'000;
// etcd closes connections that ping more often than --grpc-keepalive-min-time (5 s by default).
constexpr int kKeepaliveTimeMs = 10'000;
constexpr int kKeepaliveTimeoutMs = 5'000;

// etcd's range_end of a single NUL byte: every key from the start of the range on.
bool reaches_end_of_keyspace(const std::string& range_end) {
  return range_end.size() == 1 && range_end[0] == '\0';
}

// A failed gRPC call. A StoreUnavailable for callers; the code lets the store map the few answers
// that are not about availability (a future compaction revision, an invalid transaction).
class EtcdError : public StoreUnavailable {
 public:
  EtcdError(const std::string& message, grpc::StatusCode code, std::string detail)
      : StoreUnavailable(message), code_(code), detail_(std::move(detail)) {}
  grpc::StatusCode code() const { return code_; }
  const std::string& detail() const { return detail_; }  // etcd's own message

 private:
  grpc::StatusCode code_;
  std::string detail_;
};

std::string status_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "status " + std::to_string(static_cast<int>(code));
  }
}

// The endpoint could not be reached or did not answer in time: another one may do better.
bool is_connection_failure(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// etcd refused the auth token (expired, or issued before an auth change): authenticate again.
bool is_token_rejected(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         status.error_message().find("auth store is old") != std::string::npos;
}

// gRPC takes deadlines on the system clock only; the store measures time on the steady one.
void set_deadline(grpc::ClientContext& context, Clock::time_point deadline) {
  context.set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - Clock::now()));
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// A cluster or member id as etcdctl shows it.
std::string hex_id(std::uint64_t id) {
  std::ostringstream text;
  text << std::hex << id;
  return text.str();
}

std::string read_file(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  if (file) content << file.rdbuf();
  if (!file || file.bad()) throw StoreUnavailable("cannot read the etcd " + std::string(what) + " " + path);
  return content.str();
}

// etcd's namespace: a prefix added to every key sent and removed from every key received.
class KeyPrefix {
 public:
  explicit KeyPrefix(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string key(const std::string& key) const { return prefix_ + key; }
  std::string range_end(const std::string& range_end) const {
    if (range_end.empty() || prefix_.empty()) return range_end;
    if (reaches_end_of_keyspace(range_end)) return prefix_range_end(prefix_);
    return prefix_ + range_end;
  }
  std::string strip(const std::string& key) const {
    return key.compare(0, prefix_.size(), prefix_) == 0 ? key.substr(prefix_.size()) : key;
  }

 private:
  std::string prefix_;
};

struct Endpoint {
  std::string target;  // host:port
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Watch::Stub> watch;
  std::unique_ptr<pb::Auth::Stub> auth;
};

struct EndpointSpec {
  std::string target;
  bool tls = false;
};

std::vector<EndpointSpec> parse_endpoints(const std::string& list) {
  std::vector<EndpointSpec> endpoints;
  std::stringstream items(list);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    item = item.substr(first, item.find_last_not_of(" \t") - first + 1);
    EndpointSpec spec;
    if (item.starts_with("https://")) {
      spec.tls = true;
      item.erase(0, 8);
    } else if (item.starts_with("http://")) {
      item.erase(0, 7);
    }
    while (!item.empty() && item.back() == '/') item.pop_back();
    if (item.empty()) continue;
    spec.target = item;
    endpoints.push_back(std::move(spec));
  }
  if (endpoints.empty()) throw std::invalid_argument("no etcd endpoint in \"" + list + "\"");
  return endpoints;
}

KeyValue to_key_value(const mvccpb::KeyValue& kv, const KeyPrefix& keys) {
  return KeyValue{keys.strip(kv.key()), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version()};
}

// The channels, the choice of endpoint and the auth token: shared by the store and its watches.
class Connection {
 public:
  explicit Connection(EtcdOptions options) : options_(std::move(options)), keys_(options_.key_prefix) {
    const auto specs = parse_endpoints(options_.endpoints);
    const bool tls =
        !options_.tls_ca_file.empty() || !options_.tls_cert_file.empty() || !options_.tls_key_file.empty() ||
        std::any_of(specs.begin(), specs.end(), [](const EndpointSpec& spec) { return spec.tls; });
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (tls) {
      grpc::SslCredentialsOptions ssl;
      if (!options_.tls_ca_file.empty()) ssl.pem_root_certs = read_file(options_.tls_ca_file, "CA file");
      if (!options_.tls_cert_file.empty())
        ssl.pem_cert_chain = read_file(options_.tls_cert_file, "certificate");
      if (!options_.tls_key_file.empty()) ssl.pem_private_key = read_file(options_.tls_key_file, "key");
      credentials = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kInitialReconnectBackoffMs);
    // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also takes it as the timeout of one connection
    // attempt, and etcd may need more than a few hundred milliseconds to answer a new connection.
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
    arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    arguments.SetMaxReceiveMessageSize(-1);  // a prefix read may return the whole configuration
    for (const auto& spec : specs) {
      Endpoint endpoint;
      endpoint.target = spec.target;
      endpoint.channel = grpc::CreateCustomChannel(spec.target, credentials, arguments);
      endpoint.kv = pb::KV::NewStub(endpoint.channel);
      endpoint.watch = pb::Watch::NewStub(endpoint.channel);
      endpoint.auth = pb::Auth::NewStub(endpoint.channel);
      if (!targets_.empty()) targets_ += ",";
      targets_ += spec.target;
      endpoints_.push_back(std::move(endpoint));
    }
  }

  const EtcdOptions& options() const { return options_; }
  const KeyPrefix& keys() const { return keys_; }
  const std::string& targets() const { return targets_; }
  Endpoint& endpoint(std::size_t index) { return endpoints_[index]; }

  // The endpoint for the next call: the active one, unless its connection is failing and another
  // one's is not.
  std::size_t pick() {
    std::size_t active = active_.load();
    if (endpoints_.size() == 1) return 0;
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      const std::size_t index = (active + i) % endpoints_.size();
      const auto state = endpoints_[index].channel->GetState(true);
      if (state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN) {
        if (index != active) active_.compare_exchange_strong(active, index);
        return index;
      }
    }
    return active;
  }

  // A call on `index` could not reach etcd: the next call starts with the next endpoint.
  void failed(std::size_t index) {
    std::size_t expected = index;
    active_.compare_exchange_strong(expected, (index + 1) % endpoints_.size());
  }

  // The token to send with calls; empty without a username. Authenticates through `index` when
  // there is none yet.
  std::string token(std::size_t index, Clock::time_point deadline) {
    if (options_.username.empty()) return {};
    std::lock_guard lock(token_mutex_);
    if (token_) return *token_;
    pb::AuthenticateRequest request;
    request.set_name(options_.username);
    request.set_password(options_.password);
    pb::AuthenticateResponse response;
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    set_deadline(context, deadline);
    const auto status = endpoints_[index].auth->Authenticate(&context, request, &response);
    if (status.ok()) {
      token_ = response.token();
    } else if (contains(status.error_message(), "authentication is not enabled")) {
      token_ = std::string();  // as etcd's own client: a username is harmless when auth is off
    } else {
      throw error("authenticate as '" + options_.username + "'", index, status);
    }
    return *token_;
  }

  // etcd refused `token`: forget it, unless another thread already has a new one.
  void token_rejected(const std::string& token) {
    std::lock_guard lock(token_mutex_);
    if (token_ && *token_ == token) token_.reset();
  }

  EtcdError error(std::string_view what, std::size_t index, const grpc::Status& status) const {
    std::string message = "etcd " + endpoints_[index].target + ": " + std::string(what);
    const auto timeout = std::to_string(options_.request_timeout.count()) + " ms";
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
        endpoints_[index].channel->GetState(false) != GRPC_CHANNEL_READY) {
      message += " failed: cannot connect (no connection within " + timeout + ")";
    } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
               endpoints_[index].channel->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      message += " failed: cannot connect (" + status.error_message() + ")";
    } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      message += " failed: no answer within " + timeout;
    } else {
      message += " failed: " + status_code_name(status.error_code()) + ": " + status.error_message();
    }
    return EtcdError(message, status.error_code(), status.error_message());
  }

  // Whether a call on `index` should wait for a connection. Calls wait (gRPC's wait_for_ready) until
  // their deadline, unless the last connection attempt failed and gRPC is backing off: then they fail
  // at once, so that while etcd is down a queue of Configuration API calls does not wait one
  // deadline each. Asking for the state also starts a connection attempt when the channel is idle.
  bool should_wait_for_connection(std::size_t index) {
    return endpoints_[index].channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_TRANSIENT_FAILURE;
  }

  // The store's revision now, with a linearizable count-only read of one key (as sent, with the key
  // prefix): at least every revision etcd committed before the call, on whichever member answers.
  std::int64_t current_revision(const std::string& wire_key) {
    pb::RangeRequest request;
    request.set_key(wire_key);
    request.set_count_only(true);
    return unary<pb::RangeResponse>(
               "read", true,
               [&](Endpoint& endpoint, grpc::ClientContext& context, pb::RangeResponse& out) {
                 return endpoint.kv->Range(&context, request, &out);
               })
        .header()
        .revision();
  }

  // The revision and cluster id of the last answer from etcd: where a new watch starts checking that
  // etcd keeps its history (EtcdWatch::history_lost). The last rather than the highest, so that once
  // a rewind has been noticed, watches created after it follow the new history. 0: no answer yet.
  void observe(const pb::ResponseHeader& header) {
    last_revision_.store(header.revision(), std::memory_order_relaxed);
    last_cluster_id_.store(header.cluster_id(), std::memory_order_relaxed);
  }
  std::int64_t last_revision() const { return last_revision_.load(std::memory_order_relaxed); }
  std::uint64_t last_cluster_id() const { return last_cluster_id_.load(std::memory_order_relaxed); }

  // One unary call with the request deadline, the token, and endpoint failover. `call` is
  // grpc::Status(Endpoint&, grpc::ClientContext&, Response&). An
  // idempotent call with other endpoints left gives each endpoint its share of the deadline and moves
  // on; a transaction has one attempt. Every call is retried once after a rejected token (etcd
  // checks the token before doing anything).
  template <typename Response, typename Call>
  Response unary(std::string_view what, bool idempotent, const Call& call) {
    const auto deadline = Clock::now() + options_.request_timeout;
    bool token_renewed = false;
    std::size_t attempts = 0;
    while (true) {
      const std::size_t index = pick();
      const std::size_t left = idempotent ? endpoints_.size() - attempts : 1;
      ++attempts;
      const Clock::time_point attempt_deadline =
          left > 1 ? Clock::now() + (deadline - Clock::now()) / static_cast<int>(left) : deadline;
      const bool may_retry = left > 1;
      std::string token;
      try {
        token = this->token(index, attempt_deadline);
      } catch (const EtcdError& failure) {
        if (failure.code() != grpc::StatusCode::UNAVAILABLE &&
            failure.code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
          throw;
        }
        failed(index);
        if (may_retry && Clock::now() < deadline) continue;
        throw;
      }
      grpc::ClientContext context;
      context.set_wait_for_ready(should_wait_for_connection(index));
      set_deadline(context, attempt_deadline);
      if (!token.empty()) context.AddMetadata("token", token);
      Response response;
      const grpc::Status status = call(endpoints_[index], context, response);
      if (status.ok()) {
        observe(response.header());
        return response;
      }
      if (!token.empty() && !token_renewed && is_token_rejected(status)) {
        token_rejected(token);
        token_renewed = true;
        --attempts;
        continue;
      }
      if (is_connection_failure(status)) {
        failed(index);
        if (may_retry && Clock::now() < deadline) continue;
      }
      throw error(what, index, status);
    }
  }

 private:
  const EtcdOptions options_;
  const KeyPrefix keys_;
  std::vector<Endpoint> endpoints_;
  std::string targets_;
  std::atomic<std::size_t> active_{0};
  std::atomic<std::int64_t> last_revision_{0};
  std::atomic<std::uint64_t> last_cluster_id_{0};
  std::mutex token_mutex_;
  std::optional<std::string> token_;  // none: not authenticated yet
};

// One watch: its thread, its stream and its callbacks.
class EtcdWatch {
 public:
  enum class Stop { None, Cancelled, Closed };

  EtcdWatch(std::shared_ptr<Connection> connection, std::string key, std::string range_end,
            std::int64_t next_revision, WatchCallback on_events, WatchErrorCallback on_error)
      : connection_(std::move(connection)),
        key_(std::move(key)),
        range_end_(std::move(range_end)),
        next_revision_(next_revision),
        known_revision_(connection_->last_revision()),
        cluster_id_(connection_->last_cluster_id()),
        on_events_(std::move(on_events)),
        on_error_(std::move(on_error)) {}

  static void start(const std::shared_ptr<EtcdWatch>& watch) {
    std::lock_guard lock(watch->mutex_);
    watch->thread_ = std::thread([watch] { watch->run(); });
    watch->thread_id_ = watch->thread_.get_id();
  }

  // Ends the stream and stops the thread soon; callable from any thread, the watch's own included.
  void request_stop(Stop reason) {
    std::lock_guard lock(mutex_);
    if (stop_ == Stop::None) stop_ = reason;
    if (context_ != nullptr) context_->TryCancel();
    changed_.notify_all();
  }

  // Waits until the thread has finished, unless called from the thread itself.
  void wait() {
    std::unique_lock lock(mutex_);
    if (std::this_thread::get_id() == thread_id_) return;
    std::thread thread = std::move(thread_);
    lock.unlock();
    if (thread.joinable()) thread.join();
    lock.lock();
    changed_.wait(lock, [&] { return exited_; });
  }

  bool exited() {
    std::lock_guard lock(mutex_);
    return exited_;
  }

 private:
  struct Outcome {
    bool created = false;        // etcd accepted the watch: the backoff starts over
    bool token_refused = false;  // etcd refused the watch for its token
    std::exception_ptr error;    // the watch cannot continue
    grpc::Status status;
  };

  Stop stop() {
    std::lock_guard lock(mutex_);
    return stop_;
  }

  void run() {
    std::exception_ptr error;
    try {
      error = stream_until_stopped();
    } catch (...) {
      error = std::current_exception();
    }
    const Stop reason = stop();
    if (reason == Stop::Closed && !error) error = std::make_exception_ptr(StoreUnavailable("store closed"));
    if (reason != Stop::Cancelled && error) {
      try {
        on_error_(error);
      } catch (...) {
        // Nobody is left to tell.
      }
    }
    // Released here, on the watch's thread, after its last callback returned: they may own anything.
    WatchCallback on_events = std::move(on_events_);
    WatchErrorCallback on_error = std::move(on_error_);
    on_events = nullptr;
    on_error = nullptr;
    std::lock_guard lock(mutex_);
    exited_ = true;
    changed_.notify_all();
  }

  // Streams, reconnecting after breaks, until stopped (returns nothing) or until the watch cannot
  // continue (returns why).
  std::exception_ptr stream_until_stopped() {
    auto backoff = std::chrono::milliseconds(kWatchBackoffMin);
    bool token_renewed = false;  // since the last watch etcd accepted
    while (true) {
      const std::size_t index = connection_->pick();
      if (!wait_until_connected(connection_->endpoint(index))) {
        if (stop() != Stop::None) return nullptr;
        connection_->failed(index);
        continue;
      }
      std::string token;
      try {
        token = connection_->token(index, Clock::now() + connection_->options().request_timeout);
      } catch (const EtcdError& failure) {
        if (failure.code() != grpc::StatusCode::UNAVAILABLE &&
            failure.code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
          return std::current_exception();  // wrong credentials: retrying will not help
        }
      }
      Outcome outcome;
      {
        grpc::ClientContext context;
        context.set_wait_for_ready(true);
        if (!token.empty()) context.AddMetadata("token", token);
        // Ask etcd to end the stream when its member loses the cluster leader, as etcd's own client
        // does: a member cut off from the others would otherwise stay silent.
        context.AddMetadata("hasleader", "true");
        {
          std::lock_guard lock(mutex_);
          if (stop_ != Stop::None) return nullptr;
          context_ = &context;
        }
        if (token.empty() && !connection_->options().username.empty()) {
          outcome.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot authenticate");
        } else {
          outcome = stream_once(connection_->endpoint(index), context);
        }
        std::lock_guard lock(mutex_);
        context_ = nullptr;
        if (stop_ != Stop::None) return nullptr;
      }
      if (outcome.token_refused && !token.empty() && !token_renewed) {
        connection_->token_rejected(token);  // try once more with a new token before giving up
        token_renewed = true;
        continue;
      }
      if (outcome.error) return outcome.error;
      if (outcome.created) token_renewed = false;
      if (!token.empty() && is_token_rejected(outcome.status)) connection_->token_rejected(token);
      connection_->failed(index);
      if (outcome.created) backoff = kWatchBackoffMin;
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, backoff, [&] { return stop_ != Stop::None; });
      if (stop_ != Stop::None) return nullptr;
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kWatchBackoffMax);
    }
  }

  // Waits, for at most the request timeout, until the endpoint's channel is connected; polling the
  // channel is what makes gRPC try again after a failed connection. Returns false early when stopped.
  bool wait_until_connected(Endpoint& endpoint) {
    const auto deadline = Clock::now() + connection_->options().request_timeout;
    while (stop() == Stop::None) {
      const auto now = Clock::now();
      if (now >= deadline) return false;
      const auto slice = std::min<Clock::duration>(deadline - now, 100ms);
      if (endpoint.channel->WaitForConnected(
              std::chrono::system_clock::now() +
              std::chrono::duration_cast<std::chrono::system_clock::duration>(slice))) {
        return true;
      }
    }
    return false;
  }

  Outcome stream_once(Endpoint& endpoint, grpc::ClientContext& context) {
    Outcome outcome;
    const auto& keys = connection_->keys();
    auto stream = endpoint.watch->Watch(&context);
    pb::WatchRequest request;
    auto& create = *request.mutable_create_request();
    create.set_key(key_);
    create.set_range_end(range_end_);
    create.set_start_revision(next_revision_);
    bool ended_here = false;  // by us, not by the server or the connection
    if (stream->Write(request)) {
      pb::WatchResponse response;
      while (stream->Read(&response)) {
        if (response.compact_revision() != 0) {
          outcome.error =
              std::make_exception_ptr(RevisionCompacted(next_revision_, response.compact_revision()));
          ended_here = true;
          break;
        }
        if (response.canceled()) {
          // etcd answers a watch with an invalid token (expired, or issued before etcd restarted:
          // simple tokens live in memory) with a cancellation, not with an error status: "rpc error:
          // code = Unauthenticated desc = etcdserver: invalid auth token" (3.4), or "permission denied".
          const auto& reason = response.cancel_reason();
          outcome.token_refused = contains(reason, "permission denied") || contains(reason, "auth token") ||
                                  contains(reason, "Unauthenticated");
          outcome.error = std::make_exception_ptr(StoreUnavailable(
              "etcd " + endpoint.target + ": the watch was cancelled: " + response.cancel_reason()));
          ended_here = true;
          break;
        }
        if (response.created()) {
          outcome.created = true;
          try {
            outcome.error = history_lost(response.header(), endpoint);
          } catch (const StoreUnavailable&) {
            ended_here = true;  // could not tell: reconnect and look again
            break;
          }
          if (outcome.error) {
            ended_here = true;
            break;
          }
        }
        if (response.events_size() == 0) continue;
        // Without `fragment`, etcd sends the events of one revision in one response.
        std::vector<WatchEvent> events;
        events.reserve(static_cast<std::size_t>(response.events_size()));
        for (const auto& event : response.events()) {
          events.push_back(WatchEvent{
              event.type() == mvccpb::Event::DELETE ? WatchEvent::Type::Delete : WatchEvent::Type::Put,
              to_key_value(event.kv(), keys)});
          if (event.type() == mvccpb::Event::DELETE) {
            events.back().kv.value.clear();
            events.back().kv.create_revision = 0;
            events.back().kv.version = 0;
          }
        }
        const std::int64_t last_revision = events.back().kv.mod_revision;
        if (stop() != Stop::None) {
          ended_here = true;
          break;
        }
        try {
          on_events_(events);
        } catch (...) {
          outcome.error = std::current_exception();
          ended_here = true;
          break;
        }
        next_revision_ = last_revision + 1;
        known_revision_ = std::max(known_revision_, last_revision);
      }
    }
    if (ended_here) context.TryCancel();
    outcome.status = stream->Finish();
    return outcome;
  }

  // Whether etcd lost the history this watch follows, judged by the header of a stream it just
  // created: a revision below one etcd already answered with (restored from an older backup, its
  // data wiped), or another cluster id (another etcd at the address). Resuming would then wait for
  // revisions that now name other changes, and never deliver what the store holds now. Returns
  // StoreRewound, or nothing; throws StoreUnavailable when it cannot tell.
  std::exception_ptr history_lost(const pb::ResponseHeader& header, const Endpoint& endpoint) {
    const auto lost = [&](const std::string& what) {
      return std::make_exception_ptr(StoreRewound("etcd " + endpoint.target + " " + what));
    };
    if (cluster_id_ != 0 && header.cluster_id() != cluster_id_) {
      return lost("is another cluster: its cluster id changed from " + hex_id(cluster_id_) + " to " +
                  hex_id(header.cluster_id()));
    }
    cluster_id_ = header.cluster_id();
    if (header.revision() >= known_revision_) {
      known_revision_ = header.revision();
      return nullptr;
    }
    // A member that lags behind the leader answers with its own, older revision; a linearizable
    // read waits until it has caught up, so it tells a lagging member from a lost history.
    const auto revision = connection_->current_revision(key_);
    if (revision >= known_revision_) return nullptr;
    return lost("went back from revision " + std::to_string(known_revision_) + " to " +
                std::to_string(revision) + ": restored from an older backup, or its data wiped");
  }

  const std::shared_ptr<Connection> connection_;
  const std::string key_;        // on the wire: with the key prefix
  const std::string range_end_;  // likewise
  std::int64_t next_revision_;   // the first revision not yet delivered; the watch's thread only
  // The highest revision etcd is known to have reached, and its cluster id (0: unknown): what a new
  // stream's header must not contradict. The watch's thread only.
  std::int64_t known_revision_;
  std::uint64_t cluster_id_;
  WatchCallback on_events_;      // called and released by the watch's thread only
  WatchErrorCallback on_error_;

  std::mutex mutex_;
  std::condition_variable changed_;
  Stop stop_ = Stop::None;
  grpc::ClientContext* context_ = nullptr;  // of the live stream, to cancel it
  std::thread thread_;
  std::thread::id thread_id_;
  bool exited_ = false;
};

class EtcdWatchHandle final : public WatchHandle {
 public:
  explicit EtcdWatchHandle(std::shared_ptr<EtcdWatch> watch) : watch_(std::move(watch)) {}
  ~EtcdWatchHandle() override {
    watch_->request_stop(EtcdWatch::Stop::Cancelled);
    watch_->wait();
  }

 private:
  std::shared_ptr<EtcdWatch> watch_;
};

}  // namespace

struct EtcdStore::Impl {
  explicit Impl(EtcdOptions options) : connection(std::make_shared<Connection>(std::move(options))) {}

  RangeResult range(const std::string& key, const std::string& range_end) {
    const auto& keys = connection->keys();
    pb::RangeRequest request;
    request.set_key(keys.key(key));
    if (!range_end.empty()) request.set_range_end(keys.range_end(range_end));
    const auto response = connection->unary<pb::RangeResponse>(
        "read", true, [&](Endpoint& endpoint, grpc::ClientContext& context, pb::RangeResponse& out) {
          return endpoint.kv->Range(&context, request, &out);
        });
    RangeResult result;
    result.revision = response.header().revision();
    result.kvs.reserve(static_cast<std::size_t>(response.kvs_size()));
    for (const auto& kv : response.kvs()) result.kvs.push_back(to_key_value(kv, keys));
    return result;
  }

  // Joins the threads of watches that have ended.
  void reap_watches() {
    std::vector<std::shared_ptr<EtcdWatch>> ended;
    {
      std::lock_guard lock(watches_mutex);
      for (auto it = watches.begin(); it != watches.end();) {
        if ((*it)->exited()) {
          ended.push_back(std::move(*it));
          it = watches.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& watch : ended) watch->wait();
  }

  std::shared_ptr<Connection> connection;
  std::mutex watches_mutex;
  std::vector<std::shared_ptr<EtcdWatch>> watches;  // until their threads are joined
  bool closing = false;
};

EtcdStore::EtcdStore(EtcdOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

EtcdStore::~EtcdStore() {
  std::vector<std::shared_ptr<EtcdWatch>> watches;
  {
    std::lock_guard lock(impl_->watches_mutex);
    impl_->closing = true;
    watches.swap(impl_->watches);
  }
  for (const auto& watch : watches) watch->request_stop(EtcdWatch::Stop::Closed);
  for (const auto& watch : watches) watch->wait();
}

RangeResult EtcdStore::get(const std::string& key) { return impl_->range(key, ""); }

RangeResult EtcdStore::get_prefix(const std::string& prefix) {
  return impl_->range(prefix, prefix_range_end(prefix));
}

namespace {

pb::Compare::CompareTarget to_target(Compare::Target target) {
  switch (target) {
    case Compare::Target::Version:
      return pb::Compare::VERSION;
    case Compare::Target::CreateRevision:
      return pb::Compare::CREATE;
    case Compare::Target::ModRevision:
      return pb::Compare::MOD;
    case Compare::Target::Value:
      return pb::Compare::VALUE;
  }
  throw std::invalid_argument("unknown compare target");
}

pb::Compare::CompareResult to_result(Compare::Result result) {
  switch (result) {
    case Compare::Result::Equal:
      return pb::Compare::EQUAL;
    case Compare::Result::NotEqual:
      return pb::Compare::NOT_EQUAL;
    case Compare::Result::Less:
      return pb::Compare::LESS;
    case Compare::Result::Greater:
      return pb::Compare::GREATER;
  }
  throw std::invalid_argument("unknown compare result");
}

void add_operations(const std::vector<Operation>& operations, const KeyPrefix& keys,
                    google::protobuf::RepeatedPtrField<pb::RequestOp>& out) {
  for (const auto& operation : operations) {
    auto& op = *out.Add();
    if (operation.kind == Operation::Kind::Put) {
      auto& put = *op.mutable_request_put();
      put.set_key(keys.key(operation.key));
      put.set_value(operation.value);
    } else {
      op.mutable_request_delete_range()->set_key(keys.key(operation.key));
    }
  }
}

}  // namespace

TxnResult EtcdStore::txn(const TxnRequest& request) {
  reject_conflicting_operations(request.success);
  reject_conflicting_operations(request.failure);
  const auto& keys = impl_->connection->keys();
  pb::TxnRequest wire;
  for (const auto& compare : request.compares) {
    auto& out = *wire.add_compare();
    out.set_key(keys.key(compare.key));
    if (!compare.range_end.empty()) out.set_range_end(keys.range_end(compare.range_end));
    out.set_target(to_target(compare.target));
    out.set_result(to_result(compare.result));
    switch (compare.target) {
      case Compare::Target::Version:
        out.set_version(compare.number);
        break;
      case Compare::Target::CreateRevision:
        out.set_create_revision(compare.number);
        break;
      case Compare::Target::ModRevision:
        out.set_mod_revision(compare.number);
        break;
      case Compare::Target::Value:
        out.set_value(compare.value);
        break;
    }
  }
  add_operations(request.success, keys, *wire.mutable_success());
  add_operations(request.failure, keys, *wire.mutable_failure());
  try {
    // Never sent twice: a transaction whose answer was lost may have been applied.
    const auto response = impl_->connection->unary<pb::TxnResponse>(
        "transaction", false, [&](Endpoint& endpoint, grpc::ClientContext& context, pb::TxnResponse& out) {
          return endpoint.kv->Txn(&context, wire, &out);
        });
    return TxnResult{response.succeeded(), response.header().revision()};
  } catch (const EtcdError& error) {
    // Too many operations, too large, an empty key: a bug of the caller, not an outage.
    if (error.code() == grpc::StatusCode::INVALID_ARGUMENT &&
        (contains(error.detail(), "too many operations") || contains(error.detail(), "too large") ||
         contains(error.detail(), "key is not provided") || contains(error.detail(), "duplicate key"))) {
      throw std::invalid_argument(error.what());
    }
    throw;
  }
}

std::unique_ptr<WatchHandle> EtcdStore::watch_prefix(const std::string& prefix, std::int64_t start_revision,
                                                     WatchCallback on_events, WatchErrorCallback on_error) {
  if (!on_events || !on_error) throw std::invalid_argument("watch_prefix needs both callbacks");
  impl_->reap_watches();
  const auto& keys = impl_->connection->keys();
  // Pinned now, as the embedded store does: a change made after this call returns is never missed.
  const std::int64_t next_revision =
      start_revision > 0 ? start_revision : impl_->connection->current_revision(keys.key(prefix)) + 1;
  auto watch = std::make_shared<EtcdWatch>(impl_->connection, keys.key(prefix),
                                           keys.range_end(prefix_range_end(prefix)), next_revision,
                                           std::move(on_events), std::move(on_error));
  {
    std::lock_guard lock(impl_->watches_mutex);
    if (impl_->closing) throw StoreUnavailable("store closed");
    impl_->watches.push_back(watch);
    EtcdWatch::start(watch);
  }
  return std::make_unique<EtcdWatchHandle>(std::move(watch));
}

void EtcdStore::compact(std::int64_t revision) {
  pb::CompactionRequest request;
  request.set_revision(revision);
  try {
    impl_->connection->unary<pb::CompactionResponse>(
        "compaction", true,
        [&](Endpoint& endpoint, grpc::ClientContext& context, pb::CompactionResponse& out) {
          return endpoint.kv->Compact(&context, request, &out);
        });
  } catch (const EtcdError& error) {
    if (error.code() == grpc::StatusCode::OUT_OF_RANGE && contains(error.detail(), "future revision")) {
      throw std::invalid_argument("cannot compact revision " + std::to_string(revision) + ": " +
                                  error.detail());
    }
    if (error.code() == grpc::StatusCode::OUT_OF_RANGE && contains(error.detail(), "compacted")) return;
    throw;
  }
}

std::string EtcdStore::describe() const { return "etcd (" + impl_->connection->targets() + ")"; }

}  // namespace eg::store
