#include "events/function_response.h"

#include <gtest/gtest.h>

namespace eg::events {
namespace {

namespace http = net::http;

net::Response accepted(std::string_view answer) {
  auto checked = http_response_from_answer(answer);
  if (auto* refusal = std::get_if<RefusedAnswer>(&checked)) {
    ADD_FAILURE() << "refused: " << refusal->detail;
    return net::Response{};
  }
  return std::get<net::Response>(std::move(checked));
}

RefusedAnswer refused(std::string_view answer) {
  auto checked = http_response_from_answer(answer);
  if (auto* refusal = std::get_if<RefusedAnswer>(&checked)) return *refusal;
  ADD_FAILURE() << "accepted: " << answer;
  return {};
}

TEST(FunctionResponse, BecomesTheClientsResponse) {
  const auto response = accepted(R"({"statusCode":201,"headers":{"X-Reply":"yes"},"body":"created"})");
  EXPECT_EQ(response.result_int(), 201);
  EXPECT_EQ(response["X-Reply"], "yes");
  EXPECT_EQ(response.body(), "created");
  EXPECT_EQ(response[http::field::content_length], "7");
  EXPECT_EQ(accepted(R"({"body":"x"})").result_int(), 200);
}

// Found by fuzz/function_answer.cpp: Beast's prepare_payload gave a 204 "Content-Length: 0".
TEST(FunctionResponse, NoContentAndNotModifiedCarryNeitherBodyNorLength) {
  for (const auto* answer : {R"({"statusCode":204,"headers":{"Content-Length":"9","Connection":"close"},"body":"dropped"})",
                             R"({"statusCode":304,"body":"dropped"})"}) {
    const auto response = accepted(answer);
    EXPECT_TRUE(response.body().empty()) << answer;
    EXPECT_EQ(response.count(http::field::content_length), 0U) << answer;
    EXPECT_EQ(response.count(http::field::connection), 0U) << answer;
  }
}

TEST(FunctionResponse, HeadersThatCouldForgeTheWireRefuseTheAnswer) {
  const auto refusal = refused(R"({"headers":{"X-A":"b\r\nSet-Cookie: evil=1"},"body":"x"})");
  EXPECT_EQ(refusal.reason, "header values must not hold control characters such as CR, LF or NUL");
  EXPECT_EQ(refusal.detail.find('\r'), std::string::npos) << "the log line is not forged either";
  EXPECT_NE(refusal.detail.find(R"(b\x0d\x0aSet-Cookie)"), std::string::npos) << refusal.detail;
  EXPECT_NE(refused(R"({"headers":{"Set-Cookie: evil":"1"}})").reason.find("tokens"), std::string::npos);
  EXPECT_NE(refused(R"({"headers":{"":"x"}})").reason.find("tokens"), std::string::npos);
}

TEST(FunctionResponse, StatusCodesFrom200To599Only) {
  for (const auto* answer : {R"({"statusCode":100})", R"({"statusCode":199})", R"({"statusCode":600})",
                             R"({"statusCode":200.5})", R"({"statusCode":"200"})", R"({"statusCode":1e400})"}) {
    EXPECT_FALSE(refused(answer).reason.empty()) << answer;
  }
  EXPECT_EQ(accepted(R"({"statusCode":599})").result_int(), 599);
}

}  // namespace
}  // namespace eg::events
