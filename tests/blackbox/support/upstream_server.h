// Black-box test harness: a real HTTP server on 127.0.0.1 that plays the part of an `http` function.
//
//   blackbox::UpstreamServer fn;                       // listens on an ephemeral port, own thread
//   fn.respond("/f", {.status = 200, .body = R"({"ok":true})"});
//   register {"type":"http","provider":{"url": fn.url("/f")}} with the gateway ...
//   ASSERT_TRUE(fn.wait_for_requests("/f", 1));         // condition variable, fails after 10 s
//   auto req = fn.requests("/f").front();               // method, target, headers, body, arrival order
//
// Every request is recorded when it has been read completely, before its answer (and any delay).
// Connections are kept alive as HTTP/1.1 allows. A response may be delayed, or never sent (`hang`),
// for timeout tests; stop() (or the destructor) closes every connection, hanging ones included.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace blackbox {

struct RecordedRequest {
  std::size_t sequence = 0;  // 0-based arrival order across the whole server
  std::string method;
  std::string target;                                        // as sent, query included
  std::string path;                                          // target without the query
  std::vector<std::pair<std::string, std::string>> headers;  // as sent (names keep their case)
  std::string body;
  std::chrono::steady_clock::time_point arrived;

  // The first value of the header (case-insensitive name), or "" if absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // The body parsed as JSON; records a test failure and returns null if it is not JSON.
  boost::json::value json() const;
};

struct UpstreamResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
  std::string body = "{}";
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool hang = false;                   // never answer (the connection stays open until stop())
};

class UpstreamServer {
 public:
  UpstreamServer();   // binds 127.0.0.1:0 and starts serving on its own thread
  ~UpstreamServer();  // stop()
  UpstreamServer(const UpstreamServer&) = delete;
  UpstreamServer& operator=(const UpstreamServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(std::string_view path) const;

  // The answer for requests to `path` (exact match on the path, query ignored). Paths without one
  // get the default response (200, application/json, "{}").
  void respond(const std::string& path, UpstreamResponse response);
  // The answers for the requests to `path`, one after the other; the last one answers every request
  // after it. Takes the place of respond()'s answer for `path`.
  void respond_in_turn(const std::string& path, std::vector<UpstreamResponse> responses);
  void set_default_response(UpstreamResponse response);

  // Every request so far, in arrival order; or only those to `path`.
  std::vector<RecordedRequest> requests() const;
  std::vector<RecordedRequest> requests(const std::string& path) const;
  std::size_t count() const;
  std::size_t count(const std::string& path) const;
  // Number of responses fully written (delayed ones count once written).
  std::size_t answered() const;
  void clear();

  // Waits until at least `n` requests have arrived (in all / to `path`); a failure (with what did
  // arrive) after `timeout`.
  ::testing::AssertionResult wait_for_requests(std::size_t n,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ::testing::AssertionResult wait_for_requests(const std::string& path, std::size_t n,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until `done(requests so far)` holds; a failure (naming `what`) after `timeout`.
  ::testing::AssertionResult wait_until(const std::function<bool(const std::vector<RecordedRequest>&)>& done,
                                        const std::string& what,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Closes the listener and every connection (hanging ones too) and joins the thread. Idempotent.
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  int port_ = 0;
  std::thread thread_;
};

// A TCP port on 127.0.0.1 on which nothing listens: bound and closed, so connecting is refused.
int closed_port();

}  // namespace blackbox
