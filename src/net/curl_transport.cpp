#include "net/curl_transport.h"

// How curl and Asio meet (the "asiohiper" pattern):
//   - curl tells us, through CURLMOPT_SOCKETFUNCTION, which descriptors it wants to read or write;
//     we wait for that readiness with async_wait and hand it back with curl_multi_socket_action.
//   - curl tells us, through CURLMOPT_TIMERFUNCTION, when it next needs to run its timeouts; one
//     steady_timer calls curl_multi_socket_action(CURL_SOCKET_TIMEOUT) then.
//   - After every curl_multi_socket_action, curl_multi_info_read lists the finished calls.
// Descriptor ownership: connection sockets are opened and closed by us (CURLOPT_OPENSOCKETFUNCTION
// and CURLOPT_CLOSESOCKETFUNCTION), so each is deregistered from the reactor and closed exactly
// once, before the kernel can hand its number to a new socket. The only other descriptor curl asks
// us to watch is the threaded resolver's wake-up pipe, which curl closes itself right after telling
// us CURL_POLL_REMOVE; we stop watching it (release, never close) at that moment.

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "net/network_list.h"

namespace eg::net {
namespace asio = boost::asio;

namespace {

using Completion = asio::any_completion_handler<void(OutboundResult)>;

// Enough to start a burst of calls without curl_easy_init; the rest are freed as calls finish.
// Sized for the usual number of concurrent calls per thread: freeing and re-creating handles under
// steady load showed up in profiles (curl_easy_cleanup alone makes three rt_sigaction calls).
constexpr std::size_t kMaxIdleEasyHandles = 64;

void initialize_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  });
}

// curl is C: an exception must never unwind through it. A callback that fails returns the value curl
// documents as failure for that callback instead.
template <typename Result, typename Function>
Result without_exceptions(Result failure, Function&& function) noexcept {
  try {
    return function();
  } catch (...) {
    return failure;
  }
}

struct EasyCleanup {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;

struct HeaderListFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListFree>;

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool has_header(const OutboundRequest& request, std::string_view name) {
  for (const auto& [field, value] : request.headers)
    if (equals_ignoring_case(field, name)) return true;
  return false;
}

void append(HeaderList& list, const std::string& line) {
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (head == nullptr) throw std::bad_alloc();
  (void)list.release();  // `head` is the same list, now one line longer (or the new list)
  list.reset(head);
}

HeaderList build_header_list(const OutboundRequest& request) {
  HeaderList list;
  // curl's syntax: "Name;" sends an empty field, "Name:" removes one.
  for (const auto& [name, value] : request.headers)
    append(list, value.empty() ? name + ";" : name + ": " + value);
  // Headers curl would add on its own: Accept: */*, a form Content-Type for any body, and
  // Expect: 100-continue, which costs a round trip (or a one-second wait) per large body.
  for (const char* curl_default : {"Accept", "Content-Type", "Expect"})
    if (!has_header(request, curl_default)) append(list, std::string(curl_default) + ":");
  return list;
}

void set_method_and_body(CURL* easy, const OutboundRequest& request) {
  if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    return;
  }
  const bool method_has_body =
      request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  const bool sends_body = method_has_body || !request.body.empty();
  if (sends_body) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
  }
  // With a body curl sends POST, without one GET; any other method replaces that word.
  if (request.method != (sends_body ? "POST" : "GET"))
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
}

OutboundError::Kind error_kind(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return OutboundError::Kind::Connect;
    case CURLE_OPERATION_TIMEDOUT:
      return OutboundError::Kind::Timeout;
    default:
      return OutboundError::Kind::Protocol;
  }
}

// One call in flight: its easy handle and everything curl points into while the call runs.
struct Transfer {
  EasyHandle easy;
  OutboundRequest request;
  HeaderList header_list;
  std::size_t max_response_bytes = 0;
  OutboundResponse response;
  bool response_too_large = false;
  std::shared_ptr<const NetworkList> denied_networks;  // HttpClientOptions::denied_networks
  std::optional<std::string> denied_network;           // the call was stopped: its address is on it
  std::array<char, CURL_ERROR_SIZE> error_text{};
  Completion completion;
  // Keeps io_context::run() from returning while a caller waits for this call.
  asio::executor_work_guard<asio::io_context::executor_type> work;
};

OutboundResult outcome(Transfer& transfer, CURLcode code) {
  using Kind = OutboundError::Kind;
  if (transfer.response_too_large)
    return OutboundError{Kind::TooLarge,
                         "response body exceeds " + std::to_string(transfer.max_response_bytes) + " bytes"};
  if (transfer.denied_network) {
    const auto url = boost::urls::parse_uri(transfer.request.url);
    const std::string host = url ? std::string(url->host()) : transfer.request.url;
    return OutboundError{Kind::Denied, describe_denial(host, *transfer.denied_network)};
  }
  if (code != CURLE_OK) {
    const std::string_view detail = transfer.error_text.data();
    return OutboundError{error_kind(code), std::string(detail.empty() ? curl_easy_strerror(code) : detail)};
  }
  curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &transfer.response.status);
  return std::move(transfer.response);
}

// Runs once the connection is made (or reused) and before the request is sent: a call whose address
// is on a denied network is stopped there, so nothing reaches that address. (curl's socket callback
// sees the address earlier but not the call.)
int check_destination(void* transfer_pointer, char* address, char*, int, int) {
  auto& transfer = *static_cast<Transfer*>(transfer_pointer);
  return without_exceptions<int>(CURL_PREREQFUNC_ABORT, [&] {
    boost::system::error_code malformed;
    const auto ip = asio::ip::make_address(address, malformed);
    if (malformed) return CURL_PREREQFUNC_ABORT;
    transfer.denied_network = transfer.denied_networks->network_of(ip);
    return transfer.denied_network ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
  });
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* transfer_pointer) {
  auto& transfer = *static_cast<Transfer*>(transfer_pointer);
  const std::size_t length = size * count;
  return without_exceptions<std::size_t>(0, [&]() -> std::size_t {
    if (transfer.response.body.size() + length > transfer.max_response_bytes) {
      transfer.response_too_large = true;
      return 0;  // anything but `length` makes curl abort the call
    }
    transfer.response.body.append(data, length);
    return length;
  });
}

std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* transfer_pointer) {
  auto& headers = static_cast<Transfer*>(transfer_pointer)->response.headers;
  const std::string_view line(data, size * count);
  return without_exceptions<std::size_t>(0, [&] {
    if (line.starts_with("HTTP/")) {
      headers.clear();  // a status line starts a new block; only the final response's block is kept
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    return line.size();
  });
}

// One direction of readiness, as curl and Asio each spell it.
struct Direction {
  int poll_flag;    // in the CURL_POLL_* value curl gives the socket callback
  int select_flag;  // CURL_CSELECT_* for curl_multi_socket_action
  asio::posix::descriptor_base::wait_type wait;
  std::size_t index;
};
constexpr Direction kReadable{CURL_POLL_IN, CURL_CSELECT_IN, asio::posix::descriptor_base::wait_read, 0};
constexpr Direction kWritable{CURL_POLL_OUT, CURL_CSELECT_OUT, asio::posix::descriptor_base::wait_write, 1};

// A descriptor curl wants watched. Pending async_waits refer to it only weakly: once curl closes the
// descriptor it is erased, and late completions find nothing to act on.
struct SocketWatch {
  SocketWatch(asio::io_context& io, curl_socket_t fd, bool owned) : descriptor(io, fd), owned(owned) {}
  ~SocketWatch() {
    if (!owned && descriptor.is_open()) (void)descriptor.release();
  }
  SocketWatch(const SocketWatch&) = delete;
  SocketWatch& operator=(const SocketWatch&) = delete;

  asio::posix::stream_descriptor descriptor;
  bool owned;                     // opened by open_socket, so we close it; otherwise only borrowed
  int wanted = CURL_POLL_NONE;    // what curl last asked us to watch for
  std::array<bool, 2> waiting{};  // an async_wait is pending, by Direction::index
};

}  // namespace

class CurlTransport::Engine : public std::enable_shared_from_this<Engine> {
 public:
  Engine(asio::io_context& io, HttpClientOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start(OutboundRequest request, Completion completion);
  std::size_t in_flight() const { return active_.size(); }

 private:
  // Trampolines for curl's C callbacks; `engine` is this.
  static int on_socket_change(CURL*, curl_socket_t fd, int what, void* engine, void*);
  static int on_timer_change(CURLM*, long timeout_ms, void* engine);
  static curl_socket_t on_open_socket(void* engine, curlsocktype, curl_sockaddr* address);
  static int on_close_socket(void* engine, curl_socket_t fd);

  EasyHandle take_easy_handle();
  void recycle(EasyHandle easy);
  void configure(Transfer& transfer);
  void cancel_on_terminal_signal(Transfer& transfer);

  curl_socket_t open_socket(const curl_sockaddr& address);
  int close_socket(curl_socket_t fd);
  void watch(curl_socket_t fd, int what);
  void unwatch(curl_socket_t fd);
  void arm(const std::shared_ptr<SocketWatch>& watch);
  void await_readiness(const std::shared_ptr<SocketWatch>& watch, Direction direction);
  void on_ready(const std::shared_ptr<SocketWatch>& watch, Direction direction,
                boost::system::error_code error);
  void schedule_timeout(long timeout_ms);

  void drive(curl_socket_t fd, int events);
  void collect_finished();
  void abandon(CURL* easy, std::string reason);
  void complete(std::unique_ptr<Transfer> transfer, OutboundResult result);

  asio::io_context& io_;
  HttpClientOptions options_;
  asio::steady_timer timer_;
  bool timer_armed_ = false;  // timer_ has a wait pending that has not been cancelled
  std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatch>> sockets_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;
  std::vector<EasyHandle> idle_easy_handles_;
  CURLM* multi_ = nullptr;
};

CurlTransport::Engine::Engine(asio::io_context& io, HttpClientOptions options)
    : io_(io), options_(options), timer_(io) {
  initialize_curl_once();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket_change);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer_change);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_idle_connections);
}

CurlTransport::Engine::~Engine() {
  // Complete the calls first, while curl still knows them; removing them closes their connections.
  while (!active_.empty()) abandon(active_.begin()->first, "HTTP client destroyed");
  curl_multi_cleanup(multi_);  // closes the pooled connections through on_close_socket
}

void CurlTransport::Engine::start(OutboundRequest request, Completion completion) {
  HeaderList header_list = build_header_list(request);
  auto transfer = std::unique_ptr<Transfer>(new Transfer{
      .easy = take_easy_handle(),
      .request = std::move(request),
      .header_list = std::move(header_list),
      .max_response_bytes = options_.max_response_bytes,
      .response = {},
      .completion = std::move(completion),
      .work = asio::make_work_guard(io_),
  });
  configure(*transfer);
  CURL* easy = transfer->easy.get();
  if (const CURLMcode code = curl_multi_add_handle(multi_, easy); code != CURLM_OK) {
    complete(std::move(transfer), OutboundError{OutboundError::Kind::Protocol, curl_multi_strerror(code)});
    return;
  }
  cancel_on_terminal_signal(*transfer);
  active_.emplace(easy, std::move(transfer));
}

EasyHandle CurlTransport::Engine::take_easy_handle() {
  if (idle_easy_handles_.empty()) {
    EasyHandle easy(curl_easy_init());
    if (!easy) throw std::bad_alloc();
    return easy;
  }
  EasyHandle easy = std::move(idle_easy_handles_.back());
  idle_easy_handles_.pop_back();
  return easy;
}

void CurlTransport::Engine::recycle(EasyHandle easy) {
  curl_easy_reset(easy.get());  // forgets every pointer into the finished call
  // The reset also forgot CURLOPT_NOSIGNAL, without which curl_easy_cleanup changes the SIGPIPE
  // disposition back and forth.
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  if (idle_easy_handles_.size() < kMaxIdleEasyHandles) idle_easy_handles_.push_back(std::move(easy));
}

void CurlTransport::Engine::configure(Transfer& transfer) {
  CURL* easy = transfer.easy.get();
  curl_easy_setopt(easy, CURLOPT_URL, transfer.request.url.c_str());
  // Function URLs come from users: never let one read local files or speak another protocol.
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  set_method_and_body(easy, transfer.request);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer.header_list.get());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error_text.data());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
  if (options_.denied_networks && !options_.denied_networks->empty()) {
    transfer.denied_networks = options_.denied_networks;
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, check_destination);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, &transfer);
  }
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

void CurlTransport::Engine::cancel_on_terminal_signal(Transfer& transfer) {
  auto slot = transfer.completion.get_cancellation_slot();
  if (!slot.is_connected()) return;
  // abandon() clears this slot, destroying the handler while it runs; it uses no capture afterwards.
  slot.assign([engine = weak_from_this(), easy = transfer.easy.get()](asio::cancellation_type type) {
    // Abandoning a call that may already have reached the function is only what terminal asks for.
    if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none) return;
    if (auto live = engine.lock()) live->abandon(easy, "call cancelled");
  });
}

int CurlTransport::Engine::on_socket_change(CURL*, curl_socket_t fd, int what, void* engine, void*) {
  return without_exceptions(-1, [&] {
    auto& self = *static_cast<Engine*>(engine);
    if (what == CURL_POLL_REMOVE) {
      self.unwatch(fd);
    } else {
      self.watch(fd, what);
    }
    return 0;
  });
}

int CurlTransport::Engine::on_timer_change(CURLM*, long timeout_ms, void* engine) {
  return without_exceptions(-1, [&] {
    static_cast<Engine*>(engine)->schedule_timeout(timeout_ms);
    return 0;
  });
}

curl_socket_t CurlTransport::Engine::on_open_socket(void* engine, curlsocktype, curl_sockaddr* address) {
  return without_exceptions(CURL_SOCKET_BAD,
                            [&] { return static_cast<Engine*>(engine)->open_socket(*address); });
}

int CurlTransport::Engine::on_close_socket(void* engine, curl_socket_t fd) {
  return static_cast<Engine*>(engine)->close_socket(fd);
}

curl_socket_t CurlTransport::Engine::open_socket(const curl_sockaddr& address) {
  const int fd = ::socket(address.family, address.socktype | SOCK_CLOEXEC, address.protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  std::shared_ptr<SocketWatch> watch;
  try {
    watch = std::make_shared<SocketWatch>(io_, fd, /*owned=*/true);
  } catch (...) {
    ::close(fd);  // the watch never took the descriptor
    throw;
  }
  sockets_.insert_or_assign(fd, std::move(watch));  // from here on the watch closes the descriptor
  return fd;
}

int CurlTransport::Engine::close_socket(curl_socket_t fd) {
  const auto found = sockets_.find(fd);
  if (found == sockets_.end()) return ::close(fd);  // not from open_socket; curl still wants it closed
  boost::system::error_code error;
  found->second->descriptor.close(error);  // leaves the reactor before the number can be reused
  sockets_.erase(found);
  return error ? 1 : 0;
}

void CurlTransport::Engine::watch(curl_socket_t fd, int what) {
  auto found = sockets_.find(fd);
  if (found == sockets_.end())  // not a connection we opened: the resolver's wake-up pipe
    found = sockets_.emplace(fd, std::make_shared<SocketWatch>(io_, fd, /*owned=*/false)).first;
  found->second->wanted = what;
  arm(found->second);
}

void CurlTransport::Engine::unwatch(curl_socket_t fd) {
  const auto found = sockets_.find(fd);
  if (found == sockets_.end()) return;
  SocketWatch& watch = *found->second;
  watch.wanted = CURL_POLL_NONE;
  if (watch.owned) {
    // An idle keep-alive connection: no wait stays pending on it, so io_context::run() can return.
    boost::system::error_code ignored;
    watch.descriptor.cancel(ignored);
    return;
  }
  (void)watch.descriptor.release();  // curl closes it as soon as this callback returns
  sockets_.erase(found);
}

void CurlTransport::Engine::arm(const std::shared_ptr<SocketWatch>& watch) {
  for (const Direction& direction : {kReadable, kWritable})
    if ((watch->wanted & direction.poll_flag) && !watch->waiting[direction.index])
      await_readiness(watch, direction);
}

void CurlTransport::Engine::await_readiness(const std::shared_ptr<SocketWatch>& watch, Direction direction) {
  watch->waiting[direction.index] = true;
  watch->descriptor.async_wait(direction.wait, [engine = weak_from_this(), weak_watch = std::weak_ptr(watch),
                                                direction](boost::system::error_code error) {
    auto live_engine = engine.lock();
    auto live_watch = weak_watch.lock();
    if (live_engine && live_watch) live_engine->on_ready(live_watch, direction, error);
  });
}

void CurlTransport::Engine::on_ready(const std::shared_ptr<SocketWatch>& watch, Direction direction,
                                  boost::system::error_code error) {
  watch->waiting[direction.index] = false;
  if (!watch->descriptor.is_open()) return;  // curl closed or released it since this wait started
  // A cancelled wait (curl stopped caring for a while) or one curl no longer wants reports nothing;
  // arm() below starts whatever waits curl wants now.
  if (error != asio::error::operation_aborted && (watch->wanted & direction.poll_flag))
    drive(watch->descriptor.native_handle(), error ? CURL_CSELECT_ERR : direction.select_flag);
  if (watch->descriptor.is_open()) arm(watch);
}

void CurlTransport::Engine::schedule_timeout(long timeout_ms) {
  if (timeout_ms < 0) {  // nothing to time: let io_context::run() return once the calls are done
    timer_.cancel();
    timer_armed_ = false;
    return;
  }
  // curl forbids calling it back from this callback, so even a zero timeout waits for the event loop.
  // curl asks for one on every call it starts: posting it spares the timer.
  if (timeout_ms == 0) {
    asio::post(io_, [engine = weak_from_this()] {
      if (auto live = engine.lock()) live->drive(CURL_SOCKET_TIMEOUT, 0);
    });
    return;
  }
  // Moving the reactor's earliest timer costs a system call (timerfd_settime), and curl moves its
  // timeout several times per call. A timer that fires earlier than curl asked is harmless (curl
  // finds nothing due and asks again), so an armed timer is only ever moved earlier.
  const auto deadline = asio::steady_timer::clock_type::now() + std::chrono::milliseconds(timeout_ms);
  if (timer_armed_ && timer_.expiry() <= deadline) return;
  timer_.expires_at(deadline);
  timer_armed_ = true;
  timer_.async_wait([engine = weak_from_this()](boost::system::error_code error) {
    if (error == asio::error::operation_aborted) return;
    if (auto live = engine.lock()) {
      live->timer_armed_ = false;
      live->drive(CURL_SOCKET_TIMEOUT, 0);
    }
  });
}

void CurlTransport::Engine::drive(curl_socket_t fd, int events) {
  int running = 0;
  // A failure here concerns the whole multi handle (out of memory, or a descriptor curl already
  // forgot); calls it breaks still finish through curl_multi_info_read or their timeouts.
  curl_multi_socket_action(multi_, fd, events, &running);
  collect_finished();
}

void CurlTransport::Engine::collect_finished() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode code = message->data.result;  // `message` dies with curl_multi_remove_handle
    auto node = active_.extract(easy);
    curl_multi_remove_handle(multi_, easy);
    OutboundResult result = outcome(*node.mapped(), code);
    complete(std::move(node.mapped()), std::move(result));
  }
}

void CurlTransport::Engine::abandon(CURL* easy, std::string reason) {
  auto node = active_.extract(easy);
  if (node.empty()) return;                // already completed
  curl_multi_remove_handle(multi_, easy);  // curl closes the half-used connection
  complete(std::move(node.mapped()), OutboundError{OutboundError::Kind::Cancelled, std::move(reason)});
}

void CurlTransport::Engine::complete(std::unique_ptr<Transfer> transfer, OutboundResult result) {
  Completion completion = std::move(transfer->completion);
  completion.get_cancellation_slot().clear();
  recycle(std::move(transfer->easy));
  // Posted, never called from here: the resumed coroutine may start calls or destroy this client,
  // neither of which may happen while curl is on the stack.
  asio::post(io_.get_executor(), asio::append(std::move(completion), std::move(result)));
}

CurlTransport::CurlTransport(asio::io_context& io, HttpClientOptions options) : io_(io), options_(options) {}

CurlTransport::~CurlTransport() = default;

asio::awaitable<OutboundResult> CurlTransport::send(OutboundRequest request) {
  // Started on the first call: curl_global_init and a multi handle touch about 2 MiB of libcurl's
  // and OpenSSL's pages, which a gateway whose functions are all plain http:// never needs.
  if (!engine_) engine_ = std::make_shared<Engine>(io_, options_);
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(OutboundResult)>(
      [engine = engine_.get()](auto handler, OutboundRequest request) {
        engine->start(std::move(request), Completion(std::move(handler)));
      },
      asio::use_awaitable, std::move(request));
}

std::size_t CurlTransport::in_flight() const { return engine_ ? engine_->in_flight() : 0; }

}  // namespace eg::net
