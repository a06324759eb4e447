// Black-box test harness: a TCP client that sends bytes exactly as given and reads HTTP responses one
// at a time, for what an HTTP library will not do: pipelining, malformed framing, reading slowly or
// not at all, hanging up in the middle of a call.
//
//   blackbox::RawClient client(gw.events_port());
//   ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
//   auto r = client.read_response();           // nothing if no whole response came within 5 s
//   EXPECT_TRUE(client.wait_for_close());      // the server closed the connection (EOF or reset)
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace blackbox {

struct RawHttpResponse {
  int status = 0;
  std::string head;                            // status line and fields, up to the blank line
  std::map<std::string, std::string> headers;  // lower-case names; repeated ones joined by ", "
  std::string body;

  std::string header(std::string_view name) const;  // "" if absent
  bool has_header(std::string_view name) const;
  std::size_t count_header(std::string_view name) const;  // field lines with that name
};

class RawClient {
 public:
  explicit RawClient(int port);  // connects to 127.0.0.1:port
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0 && connected_; }
  // Sends all of `bytes` (blocking, at most 10 s); false if the connection failed first.
  bool send(std::string_view bytes);
  // Reads one response: its head, then as many body bytes as its Content-Length says (none for
  // the answer to a HEAD request, `head_request`). Nothing if the connection ended or no whole
  // response came within `timeout`; what was read stays buffered.
  std::optional<RawHttpResponse> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                               bool head_request = false);
  // Reads (and buffers) until the peer closes the connection: true if it did within `timeout`.
  bool wait_for_close(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Whether the peer reset the connection (rather than closing it in order).
  bool was_reset() const { return reset_; }
  // Bytes read and not yet returned as a response.
  const std::string& buffered() const { return buffered_; }
  // Hangs up: closes the socket.
  void close();

 private:
  // Reads what is there within `timeout` into buffered_; false once the connection has ended.
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool connected_ = false;
  bool ended_ = false;
  bool reset_ = false;
  std::string buffered_;
};

// The resident memory of a process (VmRSS in /proc/<pid>/status), in bytes; 0 if unreadable.
std::size_t resident_bytes(int pid);

}  // namespace blackbox
