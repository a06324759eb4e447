// Black-box tests of the HTTP server both APIs share: request framing (no smuggling), the limits on
// connections and buffered bytes, a client hanging up, the SIGTERM drain, and what every response
// carries on the wire. The real binary on free ports, raw sockets (blackbox::RawClient) where curl
// would hide what is tested, real upstream servers as functions.
//
// Each test starts a gateway of its own: most set limits by flags, or end it with SIGTERM.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/digest.h"
#include "support/config_client.h"
#include "support/gateway_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/raw_client.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using blackbox::ConfigClient;
using blackbox::GatewayClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::http_subscription;
using blackbox::IsJsonError;
using blackbox::RawClient;
using blackbox::RawHttpResponse;
using blackbox::request;
using blackbox::UpstreamResponse;
using blackbox::UpstreamServer;

constexpr std::size_t kMiB = 1024 * 1024;

// {"errors":[{"message": non-empty}]} as application/json, with `status`.
::testing::AssertionResult IsRawJsonError(const std::optional<RawHttpResponse>& r, int status) {
  if (!r) return ::testing::AssertionFailure() << "no response";
  if (r->status != status)
    return ::testing::AssertionFailure() << "status " << r->status << ": " << r->head << r->body;
  if (!r->header("content-type").starts_with("application/json"))
    return ::testing::AssertionFailure() << "not JSON: " << r->head;
  boost::system::error_code error;
  const auto body = bj::parse(r->body, error);
  const auto* errors = error || !body.is_object() ? nullptr : body.as_object().if_contains("errors");
  if (!errors || !errors->is_array() || errors->as_array().empty() || !errors->as_array()[0].is_object() ||
      !errors->as_array()[0].as_object().contains("message"))
    return ::testing::AssertionFailure() << "not {\"errors\":[{\"message\":...}]}: " << r->body;
  return ::testing::AssertionSuccess();
}

// A gateway of this test's own, with a function "f" answering at upstream "/f" and an http
// subscription GET /f, unless the test configures something else.
class Gateway {
 public:
  explicit Gateway(std::vector<std::string> extra_args = {}) : process_(options(std::move(extra_args))) {}

  ::testing::AssertionResult start() { return process_.start(); }
  GatewayProcess& process() { return process_; }
  ConfigClient config() const { return ConfigClient(process_.config_url()); }
  int events_port() const { return process_.events_port(); }
  int config_port() const { return process_.config_port(); }
  std::string events_url(const std::string& path) const { return process_.events_url() + path; }

  // Registers http function `id` at `url`, with an http subscription `method` `path`, and waits
  // until it is routable.
  ::testing::AssertionResult route(const std::string& id, const std::string& url, const std::string& method,
                                   const std::string& path) {
    if (auto r = client_.add_function("default", id, url); !r) return r;
    if (auto r = client_.subscribe("default", http_subscription(id, method, path)); !r) return r;
    return client_.sync();
  }

  // Registers http function `id` at `url` with an invoke subscription, and waits until it is routable.
  ::testing::AssertionResult invokable(const std::string& id, const std::string& url) {
    if (auto r = client_.add_function("default", id, url); !r) return r;
    if (auto r = client_.subscribe("default", bj::object{{"event", "invoke"}, {"functionId", id}}); !r)
      return r;
    return client_.sync();
  }

  // SIGTERM, then waits until the gateway has begun to drain: the Configuration API's listener is
  // closed by the signal handler itself, and then the Events API refuses five connections in a row
  // (its threads close their listeners as soon as they hear of the signal; were one of them left
  // open, a quarter of the connections would still get through, as the next checks would see).
  ::testing::AssertionResult sigterm_and_wait_until_refused() {
    if (::kill(process_.pid(), SIGTERM) != 0) return ::testing::AssertionFailure() << "kill failed";
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (RawClient(config_port()).connected()) {
      if (std::chrono::steady_clock::now() > deadline)
        return ::testing::AssertionFailure() << "the Configuration API still accepts 5 s after SIGTERM";
      std::this_thread::sleep_for(1ms);
    }
    int refused_in_a_row = 0;
    int attempts = 0;
    int accepted = 0;
    while (refused_in_a_row < 5) {
      if (!process_.running() || std::chrono::steady_clock::now() > deadline) {
        return ::testing::AssertionFailure() << "the Events API kept accepting connections during the drain ("
                                             << accepted << " of " << attempts << " were)";
      }
      const bool connected = RawClient(events_port()).connected();
      ++attempts;
      accepted += connected ? 1 : 0;
      refused_in_a_row = connected ? 0 : refused_in_a_row + 1;
    }
    return ::testing::AssertionSuccess();
  }

  // Waits for the process to exit on its own and reports whether it exited 0.
  ::testing::AssertionResult exits_zero() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (process_.running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    if (process_.running()) return ::testing::AssertionFailure() << "still running 20 s after SIGTERM";
    if (process_.exit_code() != 0)
      return ::testing::AssertionFailure() << "exit code " << process_.exit_code().value_or(-1);
    return ::testing::AssertionSuccess();
  }

 private:
  static GatewayOptions options(std::vector<std::string> extra_args) {
    GatewayOptions options;
    options.extra_args = std::move(extra_args);
    return options;
  }
  GatewayProcess process_;
  blackbox::GatewayClient client_{process_};
};

// A function that never answers and says whether the gateway's connection to it was closed: it
// accepts one connection, reads the request, then waits for the end of the stream.
class SilentFunction {
 public:
  SilentFunction() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 16);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
  }
  ~SilentFunction() {
    thread_.request_stop();
    thread_.join();
    ::close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  bool received_request() const { return received_.load(); }
  bool connection_closed() const { return closed_.load(); }

  // Waits until `condition` holds, for at most `timeout`.
  template <typename Condition>
  static bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    return condition();
  }

 private:
  // Polls in short steps so that the destructor can stop it.
  bool wait_readable(int fd, const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, 20) > 0) return true;
    }
    return false;
  }

  void serve(const std::stop_token& stop) {
    if (!wait_readable(listener_, stop)) return;
    const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    std::string request;
    char chunk[4096];
    while (wait_readable(connection, stop)) {
      const ssize_t got = ::recv(connection, chunk, sizeof chunk, 0);
      if (got <= 0) {
        closed_ = true;
        break;
      }
      request.append(chunk, static_cast<std::size_t>(got));
      if (request.find("\r\n\r\n") != std::string::npos) received_ = true;
    }
    ::close(connection);
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> received_{false};
  std::atomic<bool> closed_{false};
  std::jthread thread_;
};

std::string post_with_transfer_encoding(const std::string& coding) {
  return "POST / HTTP/1.1\r\nHost: x\r\nEvent: user.created\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: " +
         coding + "\r\n\r\n";
}

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

// ---- request framing: no smuggling ------------------------------------------------------------------------

TEST(RequestFraming, TransferEncodingOtherThanChunkedIsRefusedAndTheConnectionClosed) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  ASSERT_TRUE(gw.route("smuggled", upstream.url("/smuggled"), "GET", "/smuggled"));
  upstream.clear();
  for (const std::string coding :
       {"xchunked", "gzip", "chunked, gzip", "identity", "chunked, chunked", "", "chunked;ext=1"}) {
    SCOPED_TRACE("Transfer-Encoding: " + coding);
    RawClient client(gw.events_port());
    // What follows the head is the body's to frame; read as a request, it would reach a function.
    ASSERT_TRUE(client.send(post_with_transfer_encoding(coding) + kSmuggled));
    const auto answer = client.read_response();
    EXPECT_TRUE(IsRawJsonError(answer, 400));
    EXPECT_EQ(answer ? answer->header("connection") : "", "close");
    EXPECT_TRUE(client.wait_for_close()) << "still open after the refusal";
  }
  EXPECT_EQ(upstream.count("/smuggled"), 0u) << "the bytes after a refused head ran as a request";
}

TEST(RequestFraming, UnimplementedTransferCodingBeforeChunkedIs501AndTheConnectionClosed) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  for (const std::string& head :
       std::vector<std::string>{post_with_transfer_encoding("gzip, chunked"),
                                "POST / HTTP/1.1\r\nHost: x\r\nEvent: e\r\nTransfer-Encoding: gzip\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n"}) {
    SCOPED_TRACE(head);
    RawClient client(gw.events_port());
    ASSERT_TRUE(client.send(head + "5\r\nhello\r\n0\r\n\r\n"));
    const auto answer = client.read_response();
    EXPECT_TRUE(IsRawJsonError(answer, 501));
    EXPECT_EQ(answer ? answer->header("connection") : "", "close");
    EXPECT_TRUE(client.wait_for_close());
  }
}

TEST(RequestFraming, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  ASSERT_TRUE(gw.route("smuggled", upstream.url("/smuggled"), "GET", "/smuggled"));
  upstream.clear();
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\nEvent: e\r\nContent-Type: application/json\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Content-Length and Transfer-Encoding",
       post + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}"},
      {"Transfer-Encoding and Content-Length",
       post + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}"},
      {"Content-Length twice", post + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}"},
      {"Content-Length list", post + "Content-Length: 2, 2\r\n\r\n{}"},
      {"two Host fields", "GET /smuggled HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"no Host in HTTP/1.1", "GET /smuggled HTTP/1.1\r\n\r\n"},
      {"Transfer-Encoding in HTTP/1.0",
       "POST / HTTP/1.0\r\nEvent: e\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"bare LF", "GET /smuggled HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"},
      {"space before the colon", "GET /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    RawClient client(gw.events_port());
    ASSERT_TRUE(client.send(bytes + kSmuggled));
    const auto answer = client.read_response();
    EXPECT_TRUE(IsRawJsonError(answer, 400));
    EXPECT_EQ(answer ? answer->header("connection") : "", "close");
    EXPECT_TRUE(client.wait_for_close());
  }
  EXPECT_EQ(upstream.count("/smuggled"), 0u) << "an ambiguous request was served";
}

TEST(RequestFraming, TheConfigurationApiRefusesSmugglingToo) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  RawClient client(gw.config_port());
  ASSERT_TRUE(client.send(
      "POST /v1/spaces/default/functions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"
      "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(IsRawJsonError(client.read_response(), 400));
  EXPECT_TRUE(client.wait_for_close());
  EXPECT_EQ(client.buffered(), "") << "the smuggled request was answered";
}

TEST(RequestFraming, TrailerFieldsDoNotBecomeHeaders) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  upstream.respond("/f", UpstreamResponse{.body = R"({"body":"ok"})"});
  ASSERT_TRUE(gw.route("f", upstream.url("/f"), "POST", "/f"));
  upstream.clear();
  RawClient client(gw.events_port());
  ASSERT_TRUE(client.send(
      "POST /f HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Trailer: added after the head\r\n\r\n"));
  const auto answer = client.read_response();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200) << answer->head << answer->body;
  ASSERT_TRUE(upstream.wait_for_requests("/f", 1));
  const auto event = upstream.requests("/f").front().json();
  const auto& headers = event.at("data").at("headers").as_object();
  EXPECT_FALSE(headers.contains("X-Trailer")) << bj::serialize(headers);
  EXPECT_EQ(event.at("data").at("body"), "aGVsbG8=") << "the body itself still arrives (base64)";
}

// ---- limits: connections and buffered bytes ---------------------------------------------------------------

// Under AddressSanitizer, memory the gateway frees stays resident in ASan's quarantine (256 MiB by
// default), which a test of what the gateway holds would count. While it lives, gateways started get
// a small quarantine (a sanitized gateway reads ASAN_OPTIONS from the environment it inherits).
class SmallSanitizerQuarantine {
 public:
  SmallSanitizerQuarantine() {
#if defined(__SANITIZE_ADDRESS__)
    const char* options = std::getenv("ASAN_OPTIONS");
    if (options != nullptr) previous_ = options;
    const std::string small = (options != nullptr ? previous_ + ":" : "") + "quarantine_size_mb=4";
    ::setenv("ASAN_OPTIONS", small.c_str(), 1);
#endif
  }
  ~SmallSanitizerQuarantine() {
#if defined(__SANITIZE_ADDRESS__)
    if (previous_.empty()) {
      ::unsetenv("ASAN_OPTIONS");
    } else {
      ::setenv("ASAN_OPTIONS", previous_.c_str(), 1);
    }
#endif
  }
  SmallSanitizerQuarantine(const SmallSanitizerQuarantine&) = delete;
  SmallSanitizerQuarantine& operator=(const SmallSanitizerQuarantine&) = delete;

 private:
  std::string previous_;
};

// The most resident memory a process had, sampled every 20 ms for `how_long`.
std::size_t peak_resident_bytes(int pid, std::chrono::milliseconds how_long) {
  std::size_t peak = 0;
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
    peak = std::max(peak, blackbox::resident_bytes(pid));
    std::this_thread::sleep_for(20ms);
  }
  return peak;
}

TEST(ServerLimits, ConnectionsPastTheCapAreAnswered503AndTheConfigurationApiStillAnswers) {
  constexpr int kCap = 20;
  Gateway gw({"-max-connections", std::to_string(kCap), "-events-threads", "2"});
  ASSERT_TRUE(gw.start());
  // kCap keep-alive connections, each shown to be held by a request answered on it.
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < kCap; ++i) {
    held.push_back(std::make_unique<RawClient>(gw.events_port()));
    ASSERT_TRUE(held.back()->send("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto answer = held.back()->read_response();
    ASSERT_TRUE(answer) << "connection " << i;
    ASSERT_EQ(answer->status, 404) << "connection " << i;
  }
  for (int i = 0; i < 5; ++i) {
    RawClient over(gw.events_port());
    ASSERT_TRUE(over.connected());
    const auto answer = over.read_response();  // answered before it sends anything
    EXPECT_TRUE(IsRawJsonError(answer, 503));
    EXPECT_EQ(answer ? answer->header("connection") : "", "close");
    EXPECT_TRUE(over.wait_for_close());
  }
  const auto status = blackbox::request("GET", gw.process().config_url() + "/v1/status");
  EXPECT_EQ(status.status, 200) << status.describe();
  // Connections given back are taken again.
  held.resize(kCap - 3);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  blackbox::HttpResponse after;
  while (std::chrono::steady_clock::now() < deadline) {
    after = blackbox::request("GET", gw.events_url("/nothing"));
    if (after.status == 404) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(after.status, 404) << after.describe();
  EXPECT_NE(gw.process().log().find("-max-connections reached"), std::string::npos)
      << "the refusals are logged";
}

TEST(ServerLimits, BufferedBodiesPastTheBudgetAre503) {
  constexpr int kClients = 100;
  constexpr std::size_t kBody = kMiB - 1;
  Gateway gw({"-max-buffered-bytes", std::to_string(8 * kMiB), "-max-body-bytes", std::to_string(kMiB)});
  {
    const SmallSanitizerQuarantine quarantine;
    ASSERT_TRUE(gw.start());
  }
  const auto before = blackbox::resident_bytes(gw.process().pid());
  // Every client sends all of its body but the last byte, so that nothing is answered while the
  // gateway buffers it.
  const std::string head =
      "POST /f HTTP/1.1\r\nHost: x\r\nEvent: e\r\nContent-Type: text/plain\r\nContent-Length: " +
      std::to_string(kBody) + "\r\n\r\n";
  const std::string almost_all(kBody - 1, 'x');
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(gw.events_port()));
    clients.back()->send(head);
    clients.back()->send(almost_all);  // may fail once refused: the gateway closes
  }
  // The kernel buffers much of what was sent until the gateway reads it: watch for a while.
  const auto during = peak_resident_bytes(gw.process().pid(), 2s);
  int refused = 0;
  for (auto& client : clients) {
    const auto answer = client->read_response(100ms);
    if (answer && IsRawJsonError(answer, 503)) ++refused;
  }
  // 8 MiB holds 8 bodies of 1 MiB; everything else is refused. 100 bodies held would be 100 MiB.
  EXPECT_GE(refused, kClients - 8);
  EXPECT_LT(during, before + 60 * kMiB) << "resident " << during / kMiB << " MiB, before " << before / kMiB;
  clients.clear();
  // The budget is given back: a body fits again.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  blackbox::HttpResponse after;
  while (std::chrono::steady_clock::now() < deadline) {
    after = blackbox::request("POST", gw.events_url("/after"), std::string(kMiB / 2, 'y'),
                              {{"Event", "e"}, {"Content-Type", "text/plain"}});
    if (after.status == 202) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(after.status, 202) << after.describe();
  EXPECT_NE(gw.process().log().find("-max-buffered-bytes"), std::string::npos) << "the refusals are logged";
}

TEST(ServerLimits, AnswersHeldForSlowReadersArePastTheBudget503) {
  constexpr int kClients = 30;
  Gateway gw({"-max-buffered-bytes", std::to_string(8 * kMiB)});
  {
    const SmallSanitizerQuarantine quarantine;
    ASSERT_TRUE(gw.start());
  }
  UpstreamServer upstream;
  upstream.respond("/big", UpstreamResponse{.headers = {{"Content-Type", "text/plain"}},
                                            .body = std::string(4 * kMiB, 'z')});
  ASSERT_TRUE(gw.invokable("big", upstream.url("/big")));
  const auto before = blackbox::resident_bytes(gw.process().pid());
  const std::string invoke =
      "POST / HTTP/1.1\r\nHost: x\r\nEvent: invoke\r\nFunction-ID: big\r\nContent-Length: 2\r\n\r\n{}";
  // One at a time: each client reads only the start of its answer, then stops reading.
  std::vector<std::unique_ptr<RawClient>> clients;
  int refused = 0;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawClient>(gw.events_port()));
    ASSERT_TRUE(clients.back()->send(invoke));
    const auto start = clients.back()->read_response(10s, /*head_request=*/true);
    ASSERT_TRUE(start) << "client " << i;
    if (start->status == 503) ++refused;
  }
  const auto during = peak_resident_bytes(gw.process().pid(), 500ms);
  // 8 MiB holds two 4 MiB answers (less what the kernel took of them); 30 held would be about 100 MiB.
  EXPECT_GE(refused, kClients - 4);
  EXPECT_LT(during, before + 60 * kMiB) << "resident " << during / kMiB << " MiB, before " << before / kMiB;
}

// ---- a client that hangs up -------------------------------------------------------------------------------

TEST(ClientHangup, AClientThatHangsUpCancelsItsCall) {
  Gateway gw({"-function-timeout", "120000"});
  ASSERT_TRUE(gw.start());
  SilentFunction called;
  ASSERT_TRUE(gw.route("waits", called.url(), "POST", "/waits"));
  RawClient client(gw.events_port());
  ASSERT_TRUE(client.send("POST /waits HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  ASSERT_TRUE(SilentFunction::eventually([&] { return called.received_request(); }));
  client.close();
  // The call was waiting for two minutes; the client's hangup ends it now.
  EXPECT_TRUE(SilentFunction::eventually([&] { return called.connection_closed(); }))
      << "the function's connection is still open 10 s after the client hung up";
}

TEST(ClientHangup, PipelinedRequestsAreNotMistakenForAHangup) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  upstream.respond("/slow", UpstreamResponse{.body = R"({"body":"slow"})", .delay = 300ms});
  ASSERT_TRUE(gw.route("slow", upstream.url("/slow"), "GET", "/slow"));
  RawClient client(gw.events_port());
  ASSERT_TRUE(client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (int i = 0; i < 2; ++i) {
    const auto answer = client.read_response();
    ASSERT_TRUE(answer) << "answer " << i;
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "slow");
  }
}

// ---- SIGTERM: drain means refused -------------------------------------------------------------------------

// A call that keeps the drain going until the test lets it end.
struct CallInFlight {
  explicit CallInFlight(Gateway& gw) : client(gw.events_port()) {
    EXPECT_TRUE(gw.route("hangs", function.url(), "GET", "/hangs"));
    EXPECT_TRUE(client.send("GET /hangs HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(SilentFunction::eventually([&] { return function.received_request(); }));
  }
  SilentFunction function;
  RawClient client;
};

TEST(Drain, SigtermRefusesNewConnectionsAtOnce) {
  Gateway gw({"-events-threads", "4", "-function-timeout", "3000"});
  ASSERT_TRUE(gw.start());
  CallInFlight call(gw);
  ASSERT_TRUE(gw.sigterm_and_wait_until_refused());
  // Every listener is closed, whichever thread's: no connection gets through (the kernel spreads
  // them across the threads' SO_REUSEPORT listeners).
  int connected = 0;
  for (int i = 0; i < 40; ++i) connected += RawClient(gw.events_port()).connected() ? 1 : 0;
  EXPECT_EQ(connected, 0) << "connections accepted during the drain (and never answered)";
  EXPECT_FALSE(RawClient(gw.config_port()).connected()) << "the Configuration API still accepts";
  const auto answer = call.client.read_response(10s);  // the call in flight still ends (504)
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 504);
  EXPECT_TRUE(gw.exits_zero());
}

// ---- health probes ----------------------------------------------------------------------------------------

bj::value json_of(const std::optional<blackbox::RawHttpResponse>& r) {
  return r ? bj::parse(r->body) : bj::value();
}

TEST(Health, BothApisAnswerAliveAndReadyWithoutAKey) {
  // Keys on both APIs: a probe (a kubelet, a load balancer) carries none.
  blackbox::TempDir dir("eg-health-");
  std::ofstream(dir.path() / "keys") << eg::common::sha256_hex("admin-0123456789abcdef") << " *\n";
  const auto keys = (dir.path() / "keys").string();
  Gateway gw({"-config-api-keys", keys, "-events-api-keys", keys});
  ASSERT_TRUE(gw.start());
  for (const auto& base : {gw.process().config_url(), gw.process().events_url()}) {
    SCOPED_TRACE(base);
    const auto alive = request("GET", base + "/healthz");
    EXPECT_EQ(alive.status, 200) << alive.describe();
    EXPECT_EQ(alive.body, R"({"status":"ok"})");
    const auto ready = request("GET", base + "/readyz?verbose=1");
    EXPECT_EQ(ready.status, 200) << ready.describe();
    EXPECT_EQ(ready.body, R"({"status":"ready"})");
  }
}

TEST(Health, NoHttpSubscriptionMayTakeAProbesPathAndNoWildcardShadowsIt) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer function;
  GatewayClient client(gw.process());
  ASSERT_TRUE(client.add_function("default", "all", function.url("/all")));
  for (const std::string path : {"/healthz", "/readyz"}) {
    const auto refused = gw.config().create_subscription("default", http_subscription("all", "GET", path));
    EXPECT_TRUE(IsJsonError(refused, 400)) << refused.describe();
    EXPECT_NE(refused.body.find("health probe"), std::string::npos) << refused.body;
  }
  // Not GatewayClient::sync(): its probe's path would conflict with /:page.
  ASSERT_EQ(gw.config().create_subscription("default", http_subscription("all", "GET", "/:page")).status,
            201);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (request("GET", gw.events_url("/else")).status != 200 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(request("GET", gw.events_url("/healthz")).body, R"({"status":"ok"})");
  EXPECT_EQ(request("GET", gw.events_url("/readyz")).body, R"({"status":"ready"})");
  EXPECT_EQ(request("GET", gw.events_url("/else")).status, 200);  // the parameter still routes the rest
  for (const auto& call : function.requests()) EXPECT_NE(call.body.find("/else"), std::string::npos);
}

TEST(Health, WhileDrainingReadyIs503SayingWhyAndAliveStays200) {
  Gateway gw({"-events-threads", "1", "-function-timeout", "3000"});
  ASSERT_TRUE(gw.start());
  // Open before the signal: the listeners close at SIGTERM.
  RawClient events_ready(gw.events_port()), events_alive(gw.events_port()), config_ready(gw.config_port()),
      config_alive(gw.config_port());
  for (auto* connection : {&events_ready, &events_alive, &config_ready, &config_alive}) {
    ASSERT_TRUE(connection->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(connection->read_response());
  }
  CallInFlight call(gw);
  ASSERT_TRUE(gw.sigterm_and_wait_until_refused());
  for (auto* connection : {&events_ready, &config_ready}) {
    ASSERT_TRUE(connection->send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto ready = connection->read_response();
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503) << ready->body;
    EXPECT_NE(ready->body.find("not ready: the gateway is shutting down"), std::string::npos) << ready->body;
  }
  for (auto* connection : {&events_alive, &config_alive}) {
    ASSERT_TRUE(connection->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto alive = connection->read_response();
    ASSERT_TRUE(alive);
    EXPECT_EQ(alive->status, 200) << alive->body;
    EXPECT_EQ(json_of(alive), bj::parse(R"({"status":"ok"})"));
  }
  EXPECT_TRUE(gw.exits_zero());
}

TEST(Drain, KeepAliveRequestDuringDrainIsAnswered503) {
  Gateway gw({"-events-threads", "2", "-function-timeout", "3000"});
  ASSERT_TRUE(gw.start());
  RawClient idle(gw.events_port());
  ASSERT_TRUE(idle.send("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.read_response());
  RawClient idle_config(gw.config_port());
  ASSERT_TRUE(idle_config.send("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle_config.read_response());
  CallInFlight call(gw);
  ASSERT_TRUE(gw.sigterm_and_wait_until_refused());

  ASSERT_TRUE(idle.send("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto answer = idle.read_response();
  EXPECT_TRUE(IsRawJsonError(answer, 503));
  EXPECT_EQ(answer ? answer->header("connection") : "", "close");
  EXPECT_TRUE(idle.wait_for_close());
  EXPECT_FALSE(idle.was_reset()) << "closed with a reset";

  ASSERT_TRUE(idle_config.send("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto status = idle_config.read_response();
  ASSERT_TRUE(status) << "the Configuration API's open connection was not answered";
  EXPECT_EQ(status->header("connection"), "close");
  EXPECT_TRUE(idle_config.wait_for_close());
  EXPECT_FALSE(idle_config.was_reset());
  EXPECT_TRUE(gw.exits_zero());
}

TEST(Drain, IdleConnectionsAreClosedInOrderWhenTheDrainEnds) {
  Gateway gw({"-events-threads", "2"});
  ASSERT_TRUE(gw.start());
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int port : {gw.events_port(), gw.events_port(), gw.config_port()}) {
    idle.push_back(std::make_unique<RawClient>(port));
    ASSERT_TRUE(idle.back()->send("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(idle.back()->read_response());
  }
  ASSERT_EQ(::kill(gw.process().pid(), SIGTERM), 0);
  for (auto& client : idle) {
    EXPECT_TRUE(client->wait_for_close());
    EXPECT_FALSE(client->was_reset());
  }
  EXPECT_TRUE(gw.exits_zero());
}

// ---- what every response carries -------------------------------------------------------------------------

bool is_imf_fixdate(const std::string& date) {
  static const std::regex kImfFixdate(
      R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)");
  return std::regex_match(date, kImfFixdate);
}

TEST(ResponsesOnTheWire, ResponsesCarryADateHeader) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  upstream.respond("/f", UpstreamResponse{.body = R"({"body":"ok","headers":{"Date":"yesterday"}})"});
  ASSERT_TRUE(gw.route("f", upstream.url("/f"), "GET", "/f"));
  const std::vector<std::pair<int, std::string>> requests = {
      {gw.config_port(), "/v1/status"}, {gw.events_port(), "/nothing"}, {gw.events_port(), "/f"}};
  for (const auto& [port, path] : requests) {
    SCOPED_TRACE(path);
    RawClient client(port);
    ASSERT_TRUE(client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto answer = client.read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->count_header("date"), 1u) << answer->head;
    EXPECT_TRUE(is_imf_fixdate(answer->header("date"))) << answer->header("date");
  }
}

TEST(ResponsesOnTheWire, HeadAnswersCarryNoBody) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  upstream.respond("/f", UpstreamResponse{.body = R"({"body":"hello"})"});
  ASSERT_TRUE(gw.route("f", upstream.url("/f"), "HEAD", "/f"));
  for (int port : {gw.events_port(), gw.config_port()}) {
    SCOPED_TRACE(port == gw.events_port() ? "Events API" : "Configuration API");
    RawClient client(port);
    const std::string path = port == gw.events_port() ? "/f" : "/v1/status";
    // A body after the HEAD answer would be read as the start of the next answer.
    ASSERT_TRUE(client.send("HEAD " + path +
                            " HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto head = client.read_response(5s, /*head_request=*/true);
    ASSERT_TRUE(head);
    EXPECT_TRUE(head->has_header("content-length")) << head->head;
    if (port == gw.events_port()) {
      EXPECT_EQ(head->header("content-length"), "5");
    }
    const auto next = client.read_response();
    ASSERT_TRUE(next) << "after the HEAD answer: " << client.buffered();
    EXPECT_TRUE(next->head.starts_with("HTTP/1.1 ")) << "the HEAD answer had a body: " << next->head;
  }
}

TEST(ResponsesOnTheWire, NoContentAnswersCarryNoBodyOrLength) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  RawClient client(gw.events_port());
  // A CORS preflight the gateway answers itself with 204.
  ASSERT_TRUE(
      client.send("OPTIONS /x HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n"
                  "Access-Control-Request-Method: POST\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto preflight = client.read_response();
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_FALSE(preflight->has_header("content-length")) << preflight->head;
  const auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 404) << next->head;
}

TEST(ResponsesOnTheWire, AHeaderThatWouldSplitTheResponseNeverReachesTheWire) {
  Gateway gw;
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  upstream.respond("/f",
                   UpstreamResponse{.body = R"({"body":"x","headers":{"X-A":"b\r\nSet-Cookie: evil=1"}})"});
  ASSERT_TRUE(gw.route("f", upstream.url("/f"), "GET", "/f"));
  RawClient client(gw.events_port());
  ASSERT_TRUE(client.send("GET /f HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto answer = client.read_response();
  ASSERT_TRUE(answer);
  // Refused by the Events API (502) or, failing that, by the server's last check (500).
  EXPECT_TRUE(answer->status == 500 || answer->status == 502) << answer->head;
  EXPECT_TRUE(IsRawJsonError(answer, answer->status));
  EXPECT_FALSE(answer->has_header("set-cookie")) << answer->head;
}

// ---- flags ------------------------------------------------------------------------------------------------

TEST(ServerFlags, LimitsAcceptOneDashOrTwo) {
  Gateway gw({"--max-connections=7", "-max-buffered-bytes", std::to_string(4 * kMiB)});
  ASSERT_TRUE(gw.start());
  EXPECT_NE(gw.process().log().find("at most 7 connections per API and 4194304 bytes"), std::string::npos)
      << gw.process().log();
  const auto refused = blackbox::run_binary({"-dev", "-max-buffered-bytes", "10", "-max-body-bytes", "100"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("-max-buffered-bytes must be at least -max-body-bytes"), std::string::npos)
      << refused.err;
}

TEST(ServerFlags, GosFormOfASwitchIsAccepted) {
  GatewayOptions options;
  options.dev_flag = "-dev=true";
  options.extra_args = {"-spool-fsync=false"};
  GatewayProcess gateway(std::move(options));
  EXPECT_TRUE(gateway.start());  // dev mode: no store to reach

  const auto refused = blackbox::run_binary({"-dev=maybe"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("dev"), std::string::npos) << refused.err;
}

TEST(ServerFlags, APortInUseEndsTheStartNamingTheApiThePortAndTheFlag) {
  Gateway first;
  ASSERT_TRUE(first.start());
  const blackbox::TempDir dir{"eg-port-in-use-"};
  const auto free = blackbox::pick_free_ports(1)[0];
  const auto data = (dir.path() / "data").string();
  const auto events_taken =
      blackbox::run_binary({"-dev", "-embed-data-dir", data, "-config-port", std::to_string(free),
                            "-events-port", std::to_string(first.events_port())});
  EXPECT_EQ(events_taken.exit_code, 1);
  EXPECT_NE(events_taken.output().find("the Events API cannot listen on 0.0.0.0 port " +
                                       std::to_string(first.events_port()) + ": the port is in use"),
            std::string::npos)
      << events_taken.output();
  EXPECT_NE(events_taken.output().find("-events-port"), std::string::npos) << events_taken.output();
  EXPECT_EQ(events_taken.output().find("reactive_socket_service"), std::string::npos)
      << "no Boost source location";

  const auto config_taken =
      blackbox::run_binary({"-dev", "-embed-data-dir", data, "-config-port",
                            std::to_string(first.config_port()), "-events-port", std::to_string(free)});
  EXPECT_EQ(config_taken.exit_code, 1);
  EXPECT_NE(config_taken.output().find("the Configuration API cannot listen on 0.0.0.0 port " +
                                       std::to_string(first.config_port())),
            std::string::npos)
      << config_taken.output();
  EXPECT_NE(config_taken.output().find("-config-port"), std::string::npos) << config_taken.output();
}

// A host name is resolved at start, and both APIs listen on what it resolves to (localhost: 127.0.0.1,
// where the harness reaches them, and ::1 where the machine has IPv6).
TEST(ServerFlags, AHostNameAsTheListenAddressIsResolvedAndListenedOn) {
  Gateway gw({"-listen-address", "localhost"});
  ASSERT_TRUE(gw.start());
  const auto log = gw.process().log();
  EXPECT_NE(log.find("-listen-address localhost: listening on "), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1"), std::string::npos) << log;
  EXPECT_EQ(blackbox::request("GET", gw.process().config_url() + "/v1/status").status, 200);
  EXPECT_EQ(blackbox::request("GET", gw.events_url("/nothing")).status, 404);
}

TEST(ServerFlags, AListenAddressThatDoesNotResolveEndsTheStartNamingTheFlagAndTheName) {
  const blackbox::TempDir dir{"eg-listen-name-"};
  const auto ports = blackbox::pick_free_ports(2);
  const auto r = blackbox::run_binary({"-dev", "-embed-data-dir", (dir.path() / "data").string(),
                                       "-listen-address", "no-such-host.invalid", "-config-port",
                                       std::to_string(ports[0]), "-events-port", std::to_string(ports[1])});
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("-listen-address no-such-host.invalid: the name does not resolve"),
            std::string::npos)
      << r.output();
}

// Not SQLite's "database is locked" after its busy timeout: the directory, the flag and the holder.
TEST(ServerFlags, ASecondGatewayOnTheSameDataDirectoryEndsItsStartSayingSo) {
  Gateway first;
  ASSERT_TRUE(first.start());
  const auto data = first.process().data_dir().string();
  const auto ports = blackbox::pick_free_ports(2);
  const auto second =
      blackbox::run_binary({"-dev", "-embed-data-dir", data, "-config-port", std::to_string(ports[0]),
                            "-events-port", std::to_string(ports[1])});
  EXPECT_EQ(second.exit_code, 1) << second.output();
  EXPECT_NE(second.output().find("-embed-data-dir " + data +
                                 ": the data directory is in use by another event gateway"),
            std::string::npos)
      << second.output();
  EXPECT_NE(second.output().find("pid " + std::to_string(first.process().pid())), std::string::npos)
      << second.output();
  EXPECT_EQ(second.output().find("database is locked"), std::string::npos) << second.output();
  EXPECT_EQ(blackbox::request("GET", first.process().config_url() + "/v1/status").status, 200)
      << "the first gateway goes on";
}

TEST(ServerFlags, AStrayArgumentIsRefusedNamingIt) {
  const auto refused = blackbox::run_binary({"-dev", "foo"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("unexpected argument 'foo'"), std::string::npos) << refused.err;
}

TEST(ServerFlags, TheOriginalsEmbeddedEtcdAddressesAreAcceptedWithAWarning) {
  Gateway gw({"-embed-cli-addr", "127.0.0.1:2379", "-embed-peer-addr", "127.0.0.1:2380"});
  ASSERT_TRUE(gw.start());
  const auto log = gw.process().log();
  EXPECT_NE(log.find("-embed-cli-addr is ignored: the embedded store (dev mode) needs no ports"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("-embed-peer-addr is ignored"), std::string::npos) << log;
}

}  // namespace
