// TLS in process: the context holder (loading, reload that swaps only what loads), and the HTTP
// server over TLS where a black-box test could not see or wait for it: the handshake timeout, and
// the hangup watch reading TLS records (a hangup cancels the handler; pipelined requests do not).
#include "net/tls_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "common/certificates.h"
#include "net/http_server.h"

namespace eg::net {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using namespace std::chrono_literals;

TlsFiles files_of(const testsupport::Certificates& certificates, const std::string& name) {
  return TlsFiles{.certificate = certificates.file(name + ".pem"),
                  .key = certificates.file(name + ".key"),
                  .certificate_flag = "-events-tls-cert",
                  .key_flag = "-events-tls-key"};
}

// Waits, for a generous while, until `done` holds.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certificates.ok()) << "openssl failed: see openssl.log"; }
  testsupport::Certificates certificates;
};

TEST_F(TlsServerTest, AKeyOfAnotherCertificateIsRefusedNamingTheFlagAndTheFile) {
  auto files = files_of(certificates, "server");
  files.key = certificates.file("client.key");
  try {
    TlsServerContext context(files);
    FAIL() << "a key that does not match its certificate was taken";
  } catch (const TlsFileError& error) {
    EXPECT_EQ(std::string(error.what()), "-events-tls-key " + files.key +
                                             ": the key does not match the certificate of -events-tls-cert " +
                                             files.certificate);
  }
}

TEST_F(TlsServerTest, AReloadSwapsTheContextOnlyWhenTheFilesLoad) {
  const auto live = certificates.file("live.pem");
  std::filesystem::copy_file(certificates.file("server.pem"), live);
  auto files = files_of(certificates, "server");
  files.certificate = live;
  TlsServerContext context(files);
  const auto first = context.current();

  std::ofstream(live, std::ios::trunc) << "garbage";
  EXPECT_THROW(context.reload(), TlsFileError);
  EXPECT_EQ(context.current(), first) << "a failed reload changed the context";

  std::filesystem::copy_file(certificates.file("server.pem"), live,
                             std::filesystem::copy_options::overwrite_existing);
  context.reload();
  EXPECT_NE(context.current(), first);
}

// An HTTP server over TLS on a thread of its own.
class TlsServerOnAThread {
 public:
  TlsServerOnAThread(HttpServerOptions options, Handler handler)
      : server_(io_, std::move(options), std::move(handler)) {
    server_.start();
    thread_ = std::jthread([this] { io_.run(); });
  }
  ~TlsServerOnAThread() {
    io_.stop();
    thread_.join();
  }
  tcp::endpoint endpoint() const { return {asio::ip::make_address("127.0.0.1"), server_.port()}; }

 private:
  asio::io_context io_;
  HttpServer server_;
  std::jthread thread_;
};

// The settings of TlsClient's connection, made before it: a connection copies them when it begins.
ssl::context client_context(const testsupport::Certificates& certificates, int max_version) {
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(certificates.file("ca.pem"));
  context.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_max_proto_version(context.native_handle(), max_version);
  return context;
}

// A TLS client that verifies the server against the test CA; `max_version` caps the protocol.
class TlsClient {
 public:
  TlsClient(const testsupport::Certificates& certificates, tcp::endpoint server,
            int max_version = TLS1_3_VERSION)
      : context_(client_context(certificates, max_version)) {
    stream_.next_layer().connect(server);
    stream_.handshake(ssl::stream_base::client);
  }
  void send(const std::string& bytes) { asio::write(stream_, asio::buffer(bytes)); }
  // The head of the next response (up to its blank line).
  std::string read_head() {
    const auto length = asio::read_until(stream_, asio::dynamic_buffer(received_), "\r\n\r\n");
    auto head = received_.substr(0, length);
    received_.erase(0, length);
    return head;
  }
  // Sends close_notify, and goes on waiting for the server's (on a thread of its own: the server
  // answers only once its handler is done).
  void close_notify() {
    closing_ = std::jthread([this] { stream_.shutdown(ignored_); });
  }
  // Closes the TCP connection without close_notify.
  void hang_up() { stream_.next_layer().close(); }

 private:
  asio::io_context io_;
  ssl::context context_;
  ssl::stream<tcp::socket> stream_{io_, context_};
  std::string received_;
  boost::system::error_code ignored_;
  std::jthread closing_;  // last: joined before the stream goes
};

HttpServerOptions tls_options(std::shared_ptr<TlsServerContext> tls) {
  return HttpServerOptions{.addresses = {boost::asio::ip::address_v4::loopback()},
                           .cancel_on_hangup = true,
                           .tls = std::move(tls)};
}

// A handler that waits a minute for nothing, unless cancelled: it says which.
struct WaitingHandler {
  std::atomic<int> started{0};
  std::atomic<int> cancelled{0};

  Handler handler() {
    return [this](Request&) -> asio::awaitable<Response> {
      ++started;
      asio::steady_timer timer(co_await asio::this_coro::executor, 60s);
      const auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (error) ++cancelled;
      co_return Response{http::status::no_content, 11};
    };
  }
};

constexpr const char* kRequest = "POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";

TEST_F(TlsServerTest, AClientThatSaysNothingIsClosedAfterTheRequestTimeout) {
  auto options = tls_options(std::make_shared<TlsServerContext>(files_of(certificates, "server")));
  options.request_timeout = 200ms;
  TlsServerOnAThread server(options, [](Request&) -> asio::awaitable<Response> {
    co_return Response{http::status::no_content, 11};
  });
  asio::io_context io;
  tcp::socket silent(io);
  silent.connect(server.endpoint());
  const timeval wait{.tv_sec = 10, .tv_usec = 0};
  ASSERT_EQ(setsockopt(silent.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)), 0);
  char byte = 0;
  const auto read = ::recv(silent.native_handle(), &byte, 1, 0);
  EXPECT_TRUE(read == 0 || (read < 0 && errno == ECONNRESET))
      << "the connection is still open 10 s after a handshake timeout of 200 ms (" << read << ")";
}

// Whether a client of TLS `version` that leaves as `leave` does, while its call waits, cancels the
// call's handler.
::testing::AssertionResult leaving_cancels_the_call(const testsupport::Certificates& certificates,
                                                    int version,
                                                    const std::function<void(TlsClient&)>& leave) {
  WaitingHandler waiting;
  TlsServerOnAThread server(tls_options(std::make_shared<TlsServerContext>(files_of(certificates, "server"))),
                            waiting.handler());
  TlsClient client(certificates, server.endpoint(), version);
  client.send(kRequest);
  if (!eventually([&] { return waiting.started == 1; })) return ::testing::AssertionFailure() << "no call";
  leave(client);
  if (eventually([&] { return waiting.cancelled == 1; })) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the handler still waits after the client left";
}

TEST_F(TlsServerTest, AHangupCancelsTheHandler) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    EXPECT_TRUE(leaving_cancels_the_call(certificates, version, [](TlsClient& client) { client.hang_up(); }))
        << "TLS version " << std::hex << version;
  }
}

// TLS 1.2 shows the type of each record: an alert is seen without reading it. (TLS 1.3 hides it;
// docs/tls.md says what that costs.)
TEST_F(TlsServerTest, ATls12CloseNotifyCancelsTheHandler) {
  EXPECT_TRUE(leaving_cancels_the_call(certificates, TLS1_2_VERSION,
                                       [](TlsClient& client) { client.close_notify(); }));
}

TEST_F(TlsServerTest, PipelinedRequestsAreNotMistakenForAHangup) {
  TlsServerOnAThread server(tls_options(std::make_shared<TlsServerContext>(files_of(certificates, "server"))),
                            [](Request&) -> asio::awaitable<Response> {
                              asio::steady_timer pause(co_await asio::this_coro::executor, 50ms);
                              co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
                              co_return Response{http::status::no_content, 11};
                            });
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsClient client(certificates, server.endpoint(), version);
    client.send(std::string(kRequest) + kRequest + kRequest);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(client.read_head().starts_with("HTTP/1.1 204")) << "answer " << i;
  }
}

}  // namespace
}  // namespace eg::net
