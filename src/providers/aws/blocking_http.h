#pragma once
// The HTTP requests the gateway makes for its own AWS credentials (STS, the ECS container endpoint,
// the EC2 instance metadata service): blocking libcurl calls, made only on the threads that compile
// functions and refresh credentials, never on an event loop. They are not function calls, so
// -function-deny-networks does not apply to them (the metadata service is at 169.254.169.254);
// nothing a function's settings say can send one anywhere.
//
// Why not net::HttpClient: it runs on an event loop's io_context and applies the deny list; these
// calls are rare (once per credentials lifetime), so a blocking call on a thread that has nothing else
// to do is the simpler tool.

#include <chrono>
#include <string>
#include <variant>

#include "net/outbound.h"

namespace eg::providers::aws {

struct BlockingRequest {
  std::string method = "GET";
  std::string url;
  net::HeaderFields headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // for the whole call, connecting included
  // The metadata and container endpoints are on the machine's own link: never through a proxy, as
  // the AWS SDKs do. STS honours the proxy variables, as the SDKs do.
  bool through_proxy = false;
};

struct BlockingResponse {
  long status = 0;
  std::string body;
};

// The answer (any status), or what went wrong on the way, as a sentence. Bodies over 1 MiB fail.
std::variant<BlockingResponse, std::string> blocking_http(const BlockingRequest& request);

}  // namespace eg::providers::aws
