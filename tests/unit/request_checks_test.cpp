#include "net/request_checks.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <optional>
#include <string>

namespace eg::net {
namespace {

// The status refusal_of() answers a head with (0: served), or -1 when Beast refuses the head itself.
int verdict(const std::string& head) {
  http::request_parser<http::string_body> parser;
  boost::beast::error_code error;
  parser.put(boost::asio::buffer(head), error);
  if (error || !parser.is_header_done()) return -1;
  const auto refusal = refusal_of(parser.get());
  return refusal ? refusal->result_int() : 0;
}

std::string post(const std::string& fields) { return "POST / HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n"; }

TEST(RequestChecks, PlainRequestsAreServed) {
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  EXPECT_EQ(verdict("GET / HTTP/1.0\r\n\r\n"), 0) << "HTTP/1.0 needs no Host";
  EXPECT_EQ(verdict(post("Content-Length: 3\r\n")), 0);
  EXPECT_EQ(verdict(post("Transfer-Encoding: chunked\r\n")), 0);
  EXPECT_EQ(verdict(post("Transfer-Encoding: CHUNKED\r\n")), 0);
  EXPECT_EQ(verdict(post("Transfer-Encoding: , chunked ,\r\n")), 0) << "empty list elements are skipped";
}

TEST(RequestChecks, TransferCodingsThatDoNotEndInChunkedAre400) {
  for (const std::string coding : {"xchunked", "gzip", "chunked, gzip", "identity", "", "chunked;a=b",
                                   "chunked, chunked", "gzip chunked", "\"chunked\""}) {
    EXPECT_EQ(verdict(post("Transfer-Encoding: " + coding + "\r\n")), 400) << coding;
  }
}

TEST(RequestChecks, CodingsBeforeTheFinalChunkedAre501) {
  EXPECT_EQ(verdict(post("Transfer-Encoding: gzip, chunked\r\n")), 501);
  EXPECT_EQ(verdict(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")), 501)
      << "field lines are one list";
  EXPECT_EQ(verdict(post("Transfer-Encoding: gzip,\r\n chunked\r\n")), 501) << "obs-fold is a space";
  EXPECT_EQ(verdict(post("Transfer-Encoding: chunked, gzip, chunked\r\n")), 400) << "chunked twice";
}

TEST(RequestChecks, AmbiguousFramingIs400) {
  EXPECT_EQ(verdict(post("Transfer-Encoding: gzip\r\nContent-Length: 3\r\n")), 400);
  EXPECT_EQ(verdict(post("Content-Length: 3\r\nContent-Length: 3\r\n")), 400);
  EXPECT_EQ(verdict(post("Content-Length: 3, 3\r\n")), 400);
  EXPECT_EQ(verdict("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\n\r\n"), 400) << "no Host";
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

// What Beast 1.81 refuses on its own, which refusal_of() relies on (a newer Beast must keep doing it).
TEST(RequestChecks, BeastRefusesTheRest) {
  EXPECT_EQ(verdict(post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n")), -1);
  EXPECT_EQ(verdict(post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n")), -1);
  EXPECT_EQ(verdict(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")), -1);
  EXPECT_EQ(verdict(post("Content-Length: 3\r\nContent-Length: 4\r\n")), -1);
  EXPECT_EQ(verdict(post("Content-Length: +3\r\n")), -1);
  EXPECT_EQ(verdict("GET / HTTP/1.1\nHost: x\r\n\r\n"), -1) << "bare LF";
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"), -1) << "bare LF";
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n"), -1) << "bare CR";
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n"), -1) << "space before the colon";
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), -1) << "a line starting with a space";
  EXPECT_EQ(verdict(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 38)), -1) << "NUL";
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f"
                    "b\r\n\r\n"),
            -1)
      << "DEL";
  EXPECT_EQ(verdict("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), -1);
}

}  // namespace
}  // namespace eg::net
