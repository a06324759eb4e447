#include "providers/aws/blocking_http.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace eg::providers::aws {
namespace {

constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
constexpr long kConnectTimeoutMs = 1000;  // the AWS SDKs' for the metadata service; plenty on a link

struct Received {
  std::string body;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto& received = *static_cast<Received*>(user);
  const auto bytes = size * count;
  if (received.body.size() + bytes > kMaxBodyBytes) {
    received.too_large = true;
    return 0;  // curl fails the transfer
  }
  try {
    received.body.append(data, bytes);
  } catch (...) {
    return 0;
  }
  return bytes;
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

std::variant<BlockingResponse, std::string> blocking_http(const BlockingRequest& request) {
  static std::once_flag initialized;
  std::call_once(initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) return std::string("libcurl could not start a request");
  std::unique_ptr<curl_slist, ListDeleter> headers;
  for (const auto& [name, value] : request.headers) {
    const auto line = name + ": " + value;
    auto* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) return std::string("out of memory");
    (void)headers.release();
    headers.reset(appended);
  }
  // "Expect: 100-continue" would cost a round trip for nothing.
  auto* no_expect = curl_slist_append(headers.get(), "Expect:");
  (void)headers.release();
  headers.reset(no_expect);

  Received received;
  CURL* handle = easy.get();
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  if (!request.through_proxy) curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  if (request.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &received);

  const auto code = curl_easy_perform(handle);
  if (received.too_large) return std::string("the answer is larger than 1 MiB");
  if (code != CURLE_OK) return std::string(curl_easy_strerror(code));
  BlockingResponse response{.body = std::move(received.body)};
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace eg::providers::aws
