// HttpClient and both its transports against a real HTTP/1.1 server on 127.0.0.1: a small Beast
// server on its own thread and ephemeral port, whose behaviour per request each test chooses. The
// client side always runs on the test's own thread, one io_context, as in the gateway. Every test of
// HttpTransportTest runs once on libcurl and once on the Beast connection pool: they must not differ.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/network_list.h"

namespace eg::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
using Kind = OutboundError::Kind;

using ServerRequest = http::request<http::string_body>;
using ServerResponse = http::response<http::string_body>;

// What the test server does with one request.
struct Reply {
  std::optional<ServerResponse> response;  // none: keep the connection open and never answer
  bool interim_continue = false;           // send "100 Continue" (with a header) first
  bool close_after = false;                // close the connection after answering, keep-alive or not
};

ServerResponse response(http::status status, std::string body) {
  ServerResponse response{status, 11};
  response.body() = std::move(body);
  return response;
}

Reply reply(http::status status, std::string body) { return Reply{response(status, std::move(body))}; }

Reply never_answer(const ServerRequest&) { return Reply{}; }

class TestServer {
 public:
  using Handler = std::function<Reply(const ServerRequest&)>;

  explicit TestServer(Handler handler)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), handler_(std::move(handler)) {
    asio::co_spawn(io_, accept_connections(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + target;
  }
  std::size_t connections_accepted() const { return connections_accepted_; }
  std::vector<ServerRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  asio::awaitable<void> accept_connections() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      ++connections_accepted_;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {  // ends with an exception when the client closes the connection
      ServerRequest request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      record(request);
      Reply reply = handler_(request);
      if (reply.interim_continue) {
        http::response<http::empty_body> interim{http::status::continue_, 11};
        interim.set("X-Interim", "1");
        co_await http::async_write(socket, interim, asio::use_awaitable);
      }
      if (!reply.response) continue;  // never answer: wait for the client to give up
      reply.response->keep_alive(request.keep_alive());
      reply.response->prepare_payload();
      co_await http::async_write(socket, *reply.response, asio::use_awaitable);
      if (reply.close_after) co_return;
    }
  }

  void record(const ServerRequest& request) {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  Handler handler_;
  std::atomic<std::size_t> connections_accepted_{0};
  mutable std::mutex mutex_;
  std::vector<ServerRequest> requests_;
  std::thread thread_;
};

// A port nothing listens on: bound, then closed again.
unsigned short closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// A host name /etc/hosts maps to 127.0.0.1, other than localhost (which curl resolves without a
// lookup); empty when there is none.
std::string loopback_alias() {
  std::ifstream hosts("/etc/hosts");
  for (std::string line; std::getline(hosts, line);) {
    std::istringstream fields(line);
    std::string address;
    if (!(fields >> address) || address != "127.0.0.1") continue;
    for (std::string name; fields >> name;)
      if (name != "localhost" && !name.ends_with(".localhost")) return name;
  }
  return {};
}

OutboundRequest post(std::string url, std::string body) {
  OutboundRequest request;
  request.url = std::move(url);
  request.body = std::move(body);
  return request;
}

std::string describe(const OutboundResult& result) {
  if (const auto* response = std::get_if<OutboundResponse>(&result))
    return "status " + std::to_string(response->status);
  const auto& error = std::get<OutboundError>(result);
  return "error kind " + std::to_string(static_cast<int>(error.kind)) + ": " + error.message;
}

std::optional<Kind> error_kind(const OutboundResult& result) {
  if (const auto* error = std::get_if<OutboundError>(&result)) return error->kind;
  return std::nullopt;
}

std::vector<std::string> header_values(const HeaderFields& headers, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [field, value] : headers)
    if (boost::beast::iequals(field, name)) values.push_back(value);
  return values;
}

// Runs the io_context until `done` holds; false after five seconds (generous for sanitizer builds).
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_one_for(10ms);
  }
  return true;
}

// Sends one request from a coroutine and runs the io_context until nothing is left to do, which
// also proves that the client keeps no work pending once its calls are complete.
template <typename Client>
OutboundResult send_and_run(asio::io_context& io, Client& client, OutboundRequest request) {
  std::optional<OutboundResult> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await client.send(std::move(request)); },
      asio::detached);
  io.restart();
  io.run();
  return result.value();
}

template <typename Transport>
class HttpTransportTest : public testing::Test {};
using Transports = testing::Types<CurlTransport, PlainHttpTransport>;
TYPED_TEST_SUITE(HttpTransportTest, Transports);

TYPED_TEST(HttpTransportTest, PostArrivesWithExactlyTheGivenMethodTargetHeadersAndBody) {
  TestServer server([](const ServerRequest&) { return reply(http::status::ok, ""); });
  asio::io_context io;
  TypeParam client(io, {});
  OutboundRequest request = post(server.url("/functions/echo?x=1"), R"({"hello":"world"})");
  request.headers = {{"Content-Type", "application/json"}, {"X-Event-Id", "abc-123"}, {"X-Empty", ""}};

  const OutboundResult result = send_and_run(io, client, request);

  ASSERT_TRUE(std::holds_alternative<OutboundResponse>(result)) << describe(result);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const ServerRequest& received = requests[0];
  EXPECT_EQ(received.method(), http::verb::post);
  EXPECT_EQ(received.target(), "/functions/echo?x=1");
  EXPECT_EQ(received.body(), R"({"hello":"world"})");
  std::set<std::string> names;
  for (const auto& field : received) {
    std::string name(field.name_string());
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return std::tolower(c); });
    names.insert(name);
  }
  // No Accept, form Content-Type or Expect of curl's own.
  EXPECT_EQ(names,
            (std::set<std::string>{"host", "content-type", "x-event-id", "x-empty", "content-length"}));
  EXPECT_EQ(received[http::field::host], server.url("").substr(std::string_view("http://").size()));
  EXPECT_EQ(received[http::field::content_type], "application/json");
  EXPECT_EQ(received["X-Event-Id"], "abc-123");
  EXPECT_EQ(received["X-Empty"], "");
}

// -function-deny-networks: no request reaches an address on a denied network, whichever transport;
// the call fails for good (Denied), naming the network.
TYPED_TEST(HttpTransportTest, NoRequestReachesAnAddressOnADeniedNetwork) {
  TestServer server([](const ServerRequest&) { return reply(http::status::ok, "reached"); });
  std::string error;
  const auto loopback = std::make_shared<const NetworkList>(*NetworkList::parse("10.0.0.0/8,127.0.0.0/8", error));
  asio::io_context io;
  TypeParam denied_client(io, HttpClientOptions{.denied_networks = loopback});
  const OutboundResult denied = send_and_run(io, denied_client, post(server.url("/f"), "x"));
  ASSERT_EQ(error_kind(denied), Kind::Denied) << describe(denied);
  EXPECT_NE(std::get<OutboundError>(denied).message.find("is on network 127.0.0.0/8"), std::string::npos)
      << describe(denied);
  EXPECT_TRUE(server.requests().empty());

  const auto elsewhere = std::make_shared<const NetworkList>(*NetworkList::parse("10.0.0.0/8", error));
  TypeParam allowed_client(io, HttpClientOptions{.denied_networks = elsewhere});
  const OutboundResult allowed = send_and_run(io, allowed_client, post(server.url("/f"), "x"));
  EXPECT_TRUE(std::holds_alternative<OutboundResponse>(allowed)) << describe(allowed);
  EXPECT_EQ(server.requests().size(), 1u);
}

TYPED_TEST(HttpTransportTest, ReturnsStatusHeadersAndBody) {
  TestServer server([](const ServerRequest&) {
    ServerResponse created = response(http::status::created, "created it");
    created.set("X-Reply", "yes");
    created.insert(http::field::set_cookie, "a=1");
    created.insert(http::field::set_cookie, "b=2");
    return Reply{created};
  });
  asio::io_context io;
  TypeParam client(io, {});

  const OutboundResult result = send_and_run(io, client, post(server.url("/"), "x"));

  const auto* response = std::get_if<OutboundResponse>(&result);
  ASSERT_NE(response, nullptr) << describe(result);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "created it");
  EXPECT_EQ(header_values(response->headers, "X-Reply"), std::vector<std::string>{"yes"});
  EXPECT_EQ(header_values(response->headers, "Set-Cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(header_values(response->headers, "Content-Length"), std::vector<std::string>{"10"});
}

TYPED_TEST(HttpTransportTest, KeepsOnlyTheFinalResponsesHeadersAfterAnInterimResponse) {
  TestServer server([](const ServerRequest&) {
    Reply answer = reply(http::status::ok, "done");
    answer.response->set("X-Final", "1");
    answer.interim_continue = true;
    return answer;
  });
  asio::io_context io;
  TypeParam client(io, {});

  const OutboundResult result = send_and_run(io, client, post(server.url("/"), "x"));

  const auto* response = std::get_if<OutboundResponse>(&result);
  ASSERT_NE(response, nullptr) << describe(result);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");
  EXPECT_TRUE(header_values(response->headers, "X-Interim").empty());
  EXPECT_EQ(header_values(response->headers, "X-Final"), std::vector<std::string>{"1"});
}

TYPED_TEST(HttpTransportTest, SendsEachMethodWithItsBody) {
  TestServer server([](const ServerRequest& request) { return reply(http::status::ok, request.body()); });
  asio::io_context io;
  TypeParam client(io, {});
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"GET", ""},    {"PUT", "put body"}, {"PATCH", "patch body"},
      {"DELETE", ""}, {"GET", "get body"}, {"HEAD", ""}};

  for (const auto& [method, body] : calls) {
    OutboundRequest request = post(server.url("/"), body);
    request.method = method;
    const OutboundResult result = send_and_run(io, client, request);
    const auto* response = std::get_if<OutboundResponse>(&result);
    ASSERT_NE(response, nullptr) << method << ": " << describe(result);
    EXPECT_EQ(response->body, body) << method;
  }

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(requests[i].method_string(), calls[i].first);
    EXPECT_EQ(requests[i].body(), calls[i].second) << calls[i].first;
  }
}

TYPED_TEST(HttpTransportTest, ReturnsALargeBodyIntact) {
  const std::string large(3 * 1024 * 1024 + 17, 'L');
  TestServer server([&](const ServerRequest&) { return reply(http::status::ok, large); });
  asio::io_context io;
  TypeParam client(io, {});

  const OutboundResult result = send_and_run(io, client, post(server.url("/"), ""));

  const auto* response = std::get_if<OutboundResponse>(&result);
  ASSERT_NE(response, nullptr) << describe(result);
  EXPECT_TRUE(response->body == large) << "got " << response->body.size() << " bytes";
}

TYPED_TEST(HttpTransportTest, CompletesAHundredConcurrentCallsFromOneThread) {
  TestServer server(
      [](const ServerRequest& request) { return reply(http::status::ok, "echo " + request.body()); });
  asio::io_context io;
  TypeParam client(io, {});
  constexpr std::size_t kCalls = 100;
  std::vector<std::optional<OutboundResult>> results(kCalls);
  for (std::size_t i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          results[i] = co_await client.send(post(server.url("/"), "call " + std::to_string(i)));
        },
        asio::detached);
  }

  std::size_t most_in_flight = 0;
  while (io.run_one() > 0) most_in_flight = std::max(most_in_flight, client.in_flight());

  EXPECT_EQ(most_in_flight, kCalls);  // every call was started before any completed
  EXPECT_EQ(client.in_flight(), 0u);
  for (std::size_t i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results[i].has_value()) << "call " << i;
    const auto* response = std::get_if<OutboundResponse>(&*results[i]);
    ASSERT_NE(response, nullptr) << "call " << i << ": " << describe(*results[i]);
    EXPECT_EQ(response->body, "echo call " + std::to_string(i));
  }
}

TYPED_TEST(HttpTransportTest, ABurstOfCallsLeavesItsConnectionsForTheNextBurst) {
  TestServer server([](const ServerRequest& request) { return reply(http::status::ok, request.body()); });
  asio::io_context io;
  TypeParam client(io, {});
  constexpr std::size_t kCalls = 50;
  std::size_t successes = 0;
  auto burst = [&] {
    for (std::size_t i = 0; i < kCalls; ++i) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            const OutboundResult result = co_await client.send(post(server.url("/"), "x"));
            if (std::holds_alternative<OutboundResponse>(result)) ++successes;
          },
          asio::detached);
    }
    io.restart();
    io.run();
  };

  burst();
  const std::size_t connections_after_first_burst = server.connections_accepted();
  burst();

  EXPECT_EQ(successes, 2 * kCalls);
  EXPECT_EQ(connections_after_first_burst, kCalls);
  EXPECT_EQ(server.connections_accepted(), kCalls);
}

TYPED_TEST(HttpTransportTest, SequentialCallsReuseOneKeepAliveConnection) {
  TestServer server([](const ServerRequest& request) { return reply(http::status::ok, request.body()); });
  asio::io_context io;
  TypeParam client(io, {});
  std::vector<OutboundResult> results;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i)
          results.push_back(co_await client.send(post(server.url("/"), std::to_string(i))));
      },
      asio::detached);
  io.run();

  ASSERT_EQ(results.size(), 5u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto* response = std::get_if<OutboundResponse>(&results[i]);
    ASSERT_NE(response, nullptr) << describe(results[i]);
    EXPECT_EQ(response->body, std::to_string(i));
  }
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TYPED_TEST(HttpTransportTest, ACallOnAConnectionTheServerClosedMeanwhileGoesOnceOnANewConnection) {
  TestServer server([](const ServerRequest& request) {
    Reply answer = reply(http::status::ok, request.body());
    answer.close_after = true;  // still says keep-alive
    return answer;
  });
  asio::io_context io;
  TypeParam client(io, {});

  const OutboundResult first = send_and_run(io, client, post(server.url("/"), "first"));
  const OutboundResult second = send_and_run(io, client, post(server.url("/"), "second"));

  const auto* response = std::get_if<OutboundResponse>(&second);
  ASSERT_NE(response, nullptr) << describe(second);
  EXPECT_EQ(response->body, "second");
  EXPECT_EQ(server.connections_accepted(), 2u);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);  // the second call reached the function once
  EXPECT_EQ(requests[1].body(), "second");
}

TYPED_TEST(HttpTransportTest, RefusedConnectionIsAConnectError) {
  asio::io_context io;
  TypeParam client(io, {});
  const auto url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";

  const OutboundResult result = send_and_run(io, client, post(url, "x"));

  EXPECT_EQ(error_kind(result), Kind::Connect) << describe(result);
  EXPECT_FALSE(std::get<OutboundError>(result).message.empty());
}

TYPED_TEST(HttpTransportTest, ServerThatNeverAnswersIsATimeoutError) {
  TestServer server(never_answer);
  asio::io_context io;
  TypeParam client(io, {.total_timeout = 300ms});

  const OutboundResult result = send_and_run(io, client, post(server.url("/"), "x"));

  EXPECT_EQ(error_kind(result), Kind::Timeout) << describe(result);
}

TYPED_TEST(HttpTransportTest, ResponseLargerThanTheLimitIsTooLarge) {
  TestServer server([](const ServerRequest& request) {
    return reply(http::status::ok, std::string(std::stoul(std::string(request.body())), 'x'));
  });
  asio::io_context io;
  TypeParam client(io, {.max_response_bytes = 1000});

  const OutboundResult at_limit = send_and_run(io, client, post(server.url("/"), "1000"));
  const OutboundResult over_limit = send_and_run(io, client, post(server.url("/"), "1001"));

  const auto* response = std::get_if<OutboundResponse>(&at_limit);
  ASSERT_NE(response, nullptr) << describe(at_limit);
  EXPECT_EQ(response->body.size(), 1000u);
  EXPECT_EQ(error_kind(over_limit), Kind::TooLarge) << describe(over_limit);
}

TEST(HttpClientTest, UnsupportedSchemeIsAProtocolError) {
  asio::io_context io;
  HttpClient client(io, {});

  const OutboundResult result = send_and_run(io, client, post("file:///etc/hosts", ""));

  EXPECT_EQ(error_kind(result), Kind::Protocol) << describe(result);
}

TEST(HttpClientTest, PlainHttpTransportCarriesPlainHttpUrlsOnly) {
  asio::io_context io;
  const PlainHttpTransport transport(io);
  EXPECT_TRUE(transport.carries("http://127.0.0.1:8080/functions/a?b=c"));
  EXPECT_TRUE(transport.carries("http://functions.internal/"));
  EXPECT_TRUE(transport.carries("http://[::1]:8080"));
  EXPECT_FALSE(transport.carries("https://example.com/"));
  EXPECT_FALSE(transport.carries("http://user:secret@example.com/"));
  EXPECT_FALSE(transport.carries("http://example.com:0/"));
  EXPECT_FALSE(transport.carries("file:///etc/hosts"));
}

// A proxy set for libcurl applies to plain http:// calls too: they then go through libcurl.
TEST(HttpClientTest, CallsGoThroughTheProxyInHttpProxy) {
  TestServer proxy([](const ServerRequest&) { return reply(http::status::ok, "from the proxy"); });
  const std::string function_url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/function";
  ASSERT_EQ(setenv("http_proxy", proxy.url("").c_str(), 1), 0);
  asio::io_context io;
  HttpClient client(io, {});

  const OutboundResult result = send_and_run(io, client, post(function_url, "x"));
  unsetenv("http_proxy");

  const auto* response = std::get_if<OutboundResponse>(&result);
  ASSERT_NE(response, nullptr) << describe(result);
  EXPECT_EQ(response->body, "from the proxy");
  const auto requests = proxy.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target(), function_url);  // the absolute form a proxy is asked with
}

TYPED_TEST(HttpTransportTest, ResolvesHostNames) {
  const std::string host = loopback_alias();
  if (host.empty()) GTEST_SKIP() << "/etc/hosts maps no name but localhost to 127.0.0.1";
  TestServer server([](const ServerRequest&) { return reply(http::status::ok, "resolved"); });
  asio::io_context io;
  TypeParam client(io, {});
  std::string url = server.url("/");
  url.replace(url.find("127.0.0.1"), 9, host);

  const OutboundResult result = send_and_run(io, client, post(url, ""));

  const auto* response = std::get_if<OutboundResponse>(&result);
  ASSERT_NE(response, nullptr) << describe(result);
  EXPECT_EQ(response->body, "resolved");
}

TYPED_TEST(HttpTransportTest, TerminalCancellationAbandonsTheCall) {
  TestServer server(never_answer);
  asio::io_context io;
  TypeParam client(io, {});
  asio::cancellation_signal cancel;
  std::optional<OutboundResult> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await client.send(post(server.url("/"), "x")); },
      asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  ASSERT_TRUE(run_until(io, [&] { return server.requests().size() == 1; }));

  cancel.emit(asio::cancellation_type::terminal);
  io.restart();
  io.run();

  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(error_kind(*result), Kind::Cancelled) << describe(*result);
  EXPECT_EQ(client.in_flight(), 0u);
}

TYPED_TEST(HttpTransportTest, DestroyingTheClientCompletesCallsInFlightAsCancelled) {
  TestServer server(never_answer);
  asio::io_context io;
  auto client = std::make_unique<TypeParam>(io, HttpClientOptions{});
  std::optional<OutboundResult> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await client->send(post(server.url("/"), "x")); },
      asio::detached);
  ASSERT_TRUE(run_until(io, [&] { return server.requests().size() == 1; }));

  client.reset();
  io.restart();
  io.run();  // returns: nothing is left waiting on the destroyed client

  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(error_kind(*result), Kind::Cancelled) << describe(*result);
}

TYPED_TEST(HttpTransportTest, DestroyingTheClientAndItsStoppedIoContextDestroysTheWaitingCoroutine) {
  TestServer server(never_answer);
  struct SetOnDestruction {
    bool& flag;
    ~SetOnDestruction() { flag = true; }
  };
  bool coroutine_destroyed = false;
  bool coroutine_resumed = false;
  {
    asio::io_context io;
    auto client = std::make_unique<TypeParam>(io, HttpClientOptions{});
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          SetOnDestruction on_destruction{coroutine_destroyed};
          co_await client->send(post(server.url("/"), "x"));
          coroutine_resumed = true;
        },
        asio::detached);
    ASSERT_TRUE(run_until(io, [&] { return server.requests().size() == 1; }));

    io.stop();
    client.reset();
    EXPECT_FALSE(coroutine_destroyed);  // its Cancelled completion waits in the stopped io_context
  }

  EXPECT_TRUE(coroutine_destroyed);
  EXPECT_FALSE(coroutine_resumed);
}

}  // namespace
}  // namespace eg::net
