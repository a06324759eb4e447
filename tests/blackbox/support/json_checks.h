// Black-box test harness: the checks every API test makes of a JSON response.
//
//   EXPECT_TRUE(blackbox::IsJson(r, 201));        // status, Content-Type application/json, a JSON body
//   EXPECT_TRUE(blackbox::IsJsonError(r, 404));   // status and {"errors":[{"message":"..."}]}
//   EXPECT_TRUE(blackbox::IsJsonError(r, 404, "no http subscription"));  // ... and those words in it
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "support/http_client.h"

namespace blackbox {

// `v` serialized compactly (boost::json::serialize).
std::string to_json(const boost::json::value& v);

// A success response with a JSON body: the status, the content type, and a parseable body.
::testing::AssertionResult IsJson(const HttpResponse& r, long status);

// An error response: the status and {"errors":[{"message":"<non-empty>"}]} as application/json.
::testing::AssertionResult IsJsonError(const HttpResponse& r, long status);
// The same, with `words` in the first error's message.
::testing::AssertionResult IsJsonError(const HttpResponse& r, long status, std::string_view words);

// The first error's message of {"errors":[{"message":"..."}]}, or "" when the body has none.
std::string error_message(const HttpResponse& r);

}  // namespace blackbox
