// The HTTP server in process: what it writes on the wire for a handler's response, and the parts it
// is built from (the Date header, the shared limits).
#include "net/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/captured_log.h"
#include "net/http_date.h"
#include "net/server_limits.h"

namespace eg::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A server on a free port of its own thread, answering every request with what `respond` makes.
class ServerOnAThread {
 public:
  explicit ServerOnAThread(std::function<Response(const Request&)> respond)
      : server_(io_, HttpServerOptions{.addresses = {asio::ip::address_v4::loopback()}},
                [respond = std::move(respond)](Request& request) -> asio::awaitable<Response> {
                  co_return respond(request);
                }) {
    server_.start();
    thread_ = std::jthread([this] { io_.run(); });
  }
  ~ServerOnAThread() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }

 private:
  asio::io_context io_;
  HttpServer server_;
  std::jthread thread_;
};

// Sends `request` on a new connection and returns everything the server wrote until it closed the
// connection (the requests end with Connection: close).
std::string exchange(std::uint16_t port, const std::string& request,
                     const asio::ip::address& address = asio::ip::address_v4::loopback()) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(address, port));
  asio::write(socket, asio::buffer(request));
  std::string answer;
  boost::system::error_code error;
  asio::read(socket, asio::dynamic_buffer(answer), error);
  return answer;
}

std::string get(const std::string& method = "GET") {
  return method + " / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
}

Response with_body(http::status status, std::string body) {
  Response response{status, 11};
  response.set(http::field::content_type, "text/plain");
  response.body() = std::move(body);
  return response;
}

TEST(HttpServer, WritesItsOwnFramingAndDate) {
  ServerOnAThread server([](const Request&) {
    auto response = with_body(http::status::ok, "hello");
    // A handler's framing fields are never passed on: the server frames the connection it serves.
    response.set(http::field::content_length, "999");
    response.set(http::field::transfer_encoding, "chunked");
    response.set(http::field::connection, "keep-alive");
    response.set(http::field::date, "yesterday");
    response.set("X-Kept", "yes");
    return response;
  });
  const auto answer = exchange(server.port(), get());
  const std::regex expected(
      "HTTP/1\\.1 200 OK\r\n"
      "Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d [A-Z][a-z][a-z] \\d{4} \\d\\d:\\d\\d:\\d\\d GMT\r\n"
      "Content-Type: text/plain\r\nX-Kept: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_TRUE(std::regex_match(answer, expected)) << answer;
}

TEST(HttpServer, HeadAnswersKeepTheLengthAndDropTheBody) {
  ServerOnAThread server([](const Request&) { return with_body(http::status::ok, "hello"); });
  const auto answer = exchange(server.port(), get("HEAD"));
  EXPECT_NE(answer.find("Content-Length: 5\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\n")) << answer;
}

TEST(HttpServer, AnswersWithoutContentCarryNoBodyNorLength) {
  for (const auto status : {http::status::no_content, http::status::not_modified, http::status::processing}) {
    SCOPED_TRACE(static_cast<int>(status));
    ServerOnAThread server([status](const Request&) { return with_body(status, "not sent"); });
    const auto answer = exchange(server.port(), get());
    EXPECT_EQ(answer.find("Content-Length"), std::string::npos) << answer;
    EXPECT_TRUE(answer.ends_with("\r\n\r\n")) << answer;
  }
}

TEST(HttpServer, AFieldThatBreaksTheRulesIsNeverWrittenAndIsLoggedAsAnError) {
  testsupport::CapturedLog log("%l %v");
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"X-A", "b\r\nSet-Cookie: evil=1"}, {"X-A", "b\nc"}, {"X-A", std::string("b\0c", 3)},
      {"X-A\r\nSet-Cookie", "evil=1"},    {"X A", "b"},    {"X:A", "b"}};
  for (const auto& [name, value] : fields) {
    SCOPED_TRACE(name);
    ServerOnAThread server([&name, &value](const Request&) {
      auto response = with_body(http::status::ok, "forged");
      response.insert(name, value);
      return response;
    });
    const auto answer = exchange(server.port(), get());
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 500 ")) << answer;
    EXPECT_NE(answer.find("Content-Type: application/json\r\n"), std::string::npos) << answer;
    EXPECT_NE(answer.find("{\"errors\":[{\"message\":\""), std::string::npos) << answer;
    EXPECT_EQ(answer.find("evil"), std::string::npos) << answer;
    EXPECT_EQ(answer.find("forged"), std::string::npos) << answer;
  }
  const auto lines = log.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.front().starts_with("error ")) << lines.front();
  EXPECT_NE(lines.front().find("breaks RFC 9110"), std::string::npos) << lines.front();
}

TEST(HttpServer, StopAcceptingClosesTheListenerAtOnce) {
  asio::io_context io;
  HttpServer server(
      io, HttpServerOptions{.addresses = {asio::ip::address_v4::loopback()}},
      [](Request&) -> asio::awaitable<Response> { co_return empty_response(http::status::ok); });
  server.start();
  server.stop_accepting();
  tcp::socket socket(io);
  boost::system::error_code error;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()), error);
  EXPECT_EQ(error, asio::error::connection_refused) << error.message();
}

// A StreamedResponse: its head, then each piece as a chunk, the last chunk, and the connection closed;
// requests the stream handler leaves alone still reach the handler.
TEST(HttpServer, StreamsPiecesAsChunksUntilTheProducerEnds) {
  asio::io_context io;
  auto pieces = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"one\n", "", "two\n"});
  HttpServerOptions options{.addresses = {asio::ip::address_v4::loopback()}};
  options.streams = [pieces](Request& request) -> std::optional<StreamedResponse> {
    if (request.target() != "/stream") return std::nullopt;
    Response head{http::status::ok, 11};
    head.set(http::field::content_type, "text/event-stream");
    return StreamedResponse{.head = std::move(head),
                            .next = [pieces]() -> asio::awaitable<std::optional<std::string>> {
                              if (pieces->empty()) co_return std::nullopt;
                              auto piece = pieces->front();
                              pieces->erase(pieces->begin());
                              co_return piece;
                            }};
  };
  HttpServer server(io, std::move(options), [](Request&) -> asio::awaitable<Response> {
    co_return with_body(http::status::ok, "handled");
  });
  server.start();
  std::jthread thread([&io] { io.run(); });
  const auto streamed = exchange(server.port(), "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto plain = exchange(server.port(), get());
  io.stop();
  EXPECT_NE(streamed.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << streamed;
  EXPECT_NE(streamed.find("Connection: close\r\n"), std::string::npos) << streamed;
  EXPECT_EQ(streamed.find("Content-Length"), std::string::npos) << streamed;
  const auto body = streamed.substr(streamed.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "4\r\none\n\r\n4\r\ntwo\n\r\n0\r\n\r\n");
  EXPECT_NE(plain.find("handled"), std::string::npos) << plain;
}

// What a host name such as localhost resolves to (app/listen_check.h): 127.0.0.1 and ::1, one port.
TEST(HttpServer, ListensOnEachOfItsAddressesOnOnePort) {
  const std::vector<asio::ip::address> addresses{asio::ip::address_v4::loopback(),
                                                 asio::ip::address_v6::loopback()};
  asio::io_context io;
  HttpServer server(io, HttpServerOptions{.addresses = addresses}, [](Request&) -> asio::awaitable<Response> {
    co_return with_body(http::status::ok, "hello");
  });
  server.start();
  std::jthread serving([&io] { io.run(); });
  for (const auto& address : addresses) {
    SCOPED_TRACE(address.to_string());
    EXPECT_TRUE(exchange(server.port(), get(), address).ends_with("\r\n\r\nhello"));
  }
  asio::post(io, [&server] { server.stop_accepting(); });
  asio::post(io, [&io] { io.stop(); });
  serving.join();
  for (const auto& address : addresses) {
    tcp::socket socket(io);
    boost::system::error_code error;
    socket.connect(tcp::endpoint(address, server.port()), error);
    EXPECT_EQ(error, asio::error::connection_refused) << address.to_string() << ": " << error.message();
  }
}

TEST(HttpDate, IsAnImfFixdate) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(current_http_date(), format_http_date(std::time(nullptr)));
}

TEST(SharedLimit, TakesAllOrNothingAndGivesBackWhatWasTaken) {
  SharedLimit limit(10);
  EXPECT_TRUE(limit.try_take(4));
  EXPECT_FALSE(limit.try_take(7));
  EXPECT_EQ(limit.taken(), 4u);
  {
    Taken taken(limit);
    EXPECT_TRUE(taken.add(3));
    EXPECT_TRUE(taken.grow_to(6));
    EXPECT_TRUE(taken.grow_to(2)) << "already more";
    EXPECT_FALSE(taken.grow_to(7)) << "4 + 7 > 10";
    EXPECT_EQ(taken.amount(), 6u);
    EXPECT_TRUE(limit.exhausted());
  }
  EXPECT_EQ(limit.taken(), 4u);
  EXPECT_FALSE(limit.try_take(std::numeric_limits<std::size_t>::max())) << "no overflow";
}

TEST(SharedLimit, ThreadsNeverTakeMoreThanTheLimit) {
  SharedLimit limit(1000);
  std::atomic<int> taken{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) taken += limit.try_take(1) ? 1 : 0;
      });
    }
  }
  EXPECT_EQ(taken.load(), 1000);
  EXPECT_EQ(limit.taken(), 1000u);
}

}  // namespace
}  // namespace eg::net
