#include "support/json_checks.h"

namespace blackbox {
namespace {

namespace bj = boost::json;

::testing::AssertionResult has_json_content_type(const HttpResponse& r) {
  if (!r.header("content-type").starts_with("application/json"))
    return ::testing::AssertionFailure() << "expected Content-Type application/json, got '"
                                         << r.header("content-type") << "' for " << r.describe();
  return ::testing::AssertionSuccess();
}

}  // namespace

std::string to_json(const bj::value& v) { return bj::serialize(v); }

::testing::AssertionResult IsJson(const HttpResponse& r, long status) {
  if (r.status != status)
    return ::testing::AssertionFailure() << "expected " << status << ", got " << r.describe();
  if (auto content_type = has_json_content_type(r); !content_type) return content_type;
  if (!r.try_json()) return ::testing::AssertionFailure() << "body is not JSON: " << r.describe();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsJsonError(const HttpResponse& r, long status) {
  if (r.status != status)
    return ::testing::AssertionFailure() << "expected " << status << ", got " << r.describe();
  if (auto content_type = has_json_content_type(r); !content_type) return content_type;
  auto v = r.try_json();
  if (!v) return ::testing::AssertionFailure() << "error body is not JSON: " << r.describe();
  const auto* obj = v->if_object();
  const bj::value* errors = obj ? obj->if_contains("errors") : nullptr;
  if (!errors || !errors->is_array() || errors->as_array().empty())
    return ::testing::AssertionFailure() << "expected a non-empty \"errors\" array: " << r.describe();
  for (const auto& e : errors->as_array()) {
    const auto* eo = e.if_object();
    const bj::value* m = eo ? eo->if_contains("message") : nullptr;
    if (!m || !m->is_string() || m->as_string().empty())
      return ::testing::AssertionFailure() << "each error needs a non-empty \"message\": " << r.describe();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsJsonError(const HttpResponse& r, long status, std::string_view words) {
  if (auto error = IsJsonError(r, status); !error) return error;
  if (error_message(r).find(words) == std::string_view::npos) {
    return ::testing::AssertionFailure() << "expected \"" << words << "\" in the error: " << r.describe();
  }
  return ::testing::AssertionSuccess();
}

std::string error_message(const HttpResponse& r) {
  const auto json = r.try_json();
  if (!json || !json->is_object()) return {};
  const auto* errors = json->as_object().if_contains("errors");
  if (errors == nullptr || !errors->is_array() || errors->as_array().empty()) return {};
  const auto* first = errors->as_array()[0].if_object();
  const auto* message = first ? first->if_contains("message") : nullptr;
  return message && message->is_string() ? std::string(message->as_string()) : std::string();
}

}  // namespace blackbox
