// A function's answer to an http event (src/events/function_response.h): JSON text in, the response
// the client gets out. Invariants, whatever the function answered:
//   - an accepted answer has a status from 200 to 599, and every header it carries is a token name
//     with a value free of control characters, none of them a field the server manages itself
//     (Content-Length aside, which prepare_payload sets from the body);
//   - its Content-Length is the body's size, and a 204 or 304 has neither a body nor Content-Length;
//   - a refused answer says why in words for the client, and its log detail holds nothing but
//     printable ASCII, so it cannot forge log lines either.

#include <algorithm>
#include <string>

#include "events/function_response.h"
#include "fuzz_check.h"
#include "net/header_rules.h"

namespace {

using eg::fuzz::check;
namespace http = eg::net::http;

bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

void check_accepted(const eg::net::Response& response) {
  const int status = response.result_int();
  check(status >= 200 && status <= 599, "an accepted answer's status is from 200 to 599", std::to_string(status));
  for (const auto& field : response) {
    const std::string_view name = field.name_string();
    check(eg::net::is_field_name(name), "every header name is a token", name);
    check(eg::net::is_field_value(field.value()), "no header value holds a control character", field.value());
    if (field.name() == http::field::content_length) continue;
    check(!eg::net::is_server_managed_field(name), "no header the server manages comes from the function", name);
  }
  const auto length = response[http::field::content_length];
  if (status == 204 || status == 304) {
    check(response.body().empty() && length.empty(), "a 204 or 304 carries no body and no Content-Length");
  } else {
    check(length == std::to_string(response.body().size()), "Content-Length is the body's size",
          std::string(length) + " for " + std::to_string(response.body().size()) + " bytes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto checked = eg::events::http_response_from_answer(eg::fuzz::as_text(data, size));
  if (const auto* response = std::get_if<eg::net::Response>(&checked)) {
    check_accepted(*response);
    return 0;
  }
  const auto& refusal = std::get<eg::events::RefusedAnswer>(checked);
  check(!refusal.reason.empty() && printable_ascii(refusal.reason), "a refusal says why, in printable text",
        refusal.reason);
  check(printable_ascii(refusal.detail), "a refusal's log detail is printable ASCII", refusal.detail);
  return 0;
}
