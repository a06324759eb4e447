#include "support/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace blackbox {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the blank line).
RawHttpResponse parse_head(const std::string& head) {
  RawHttpResponse response;
  response.head = head;
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() >= 12) response.status = std::atoi(status_line.substr(9, 3).c_str());
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto [it, inserted] =
        response.headers.emplace(lower(trimmed(line.substr(0, colon))), trimmed(line.substr(colon + 1)));
    if (!inserted) it->second += ", " + trimmed(line.substr(colon + 1));
  }
  return response;
}

}  // namespace

std::string RawHttpResponse::header(std::string_view name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

bool RawHttpResponse::has_header(std::string_view name) const { return headers.contains(lower(name)); }

std::size_t RawHttpResponse::count_header(std::string_view name) const {
  std::size_t count = 0;
  const std::string wanted = lower(name) + ":";
  std::istringstream lines(head);
  for (std::string line; std::getline(lines, line);) {
    if (lower(line).starts_with(wanted)) ++count;
  }
  return count;
}

RawClient::RawClient(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  const timeval send_timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
}

RawClient::~RawClient() { close(); }

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

bool RawClient::read_some(std::chrono::steady_clock::time_point deadline) {
  if (ended_ || fd_ < 0) return false;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  pollfd readable{fd_, POLLIN, 0};
  const int ready = ::poll(&readable, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
  if (ready <= 0) return true;  // nothing yet (or EINTR): the caller checks its deadline
  char chunk[64 * 1024];
  const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
  if (got > 0) {
    buffered_.append(chunk, static_cast<std::size_t>(got));
    return true;
  }
  if (got < 0 && errno == EINTR) return true;
  reset_ = got < 0 && errno == ECONNRESET;
  ended_ = true;
  return false;
}

std::optional<RawHttpResponse> RawClient::read_response(std::chrono::milliseconds timeout,
                                                        bool head_request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto head_end = buffered_.find("\r\n\r\n");
  while (head_end == std::string::npos) {
    if (!read_some(deadline) || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    head_end = buffered_.find("\r\n\r\n");
  }
  auto response = parse_head(buffered_.substr(0, head_end));
  std::size_t body_length = 0;
  if (!head_request && response.has_header("content-length")) {
    body_length = std::stoul(response.header("content-length"));
  }
  const std::size_t total = head_end + 4 + body_length;
  while (buffered_.size() < total) {
    if (!read_some(deadline) || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
  }
  response.body = buffered_.substr(head_end + 4, body_length);
  buffered_.erase(0, total);
  return response;
}

bool RawClient::wait_for_close(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (read_some(deadline)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
  return ended_;
}

std::size_t resident_bytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6)) * 1024;  // "VmRSS:   1234 kB"
  }
  return 0;
}

}  // namespace blackbox
