#pragma once
// JSON from outside the gateway (request bodies of both APIs, function answers, records read back
// from the store), parsed into a value the gateway may keep and pass on.
//
// Boost.JSON parses a number beyond the range of a double (1e400, a 400-digit integer) as infinity,
// and its serializer writes infinity as `Infinity`, which is not JSON: a function stored that way
// could not be read back, and an event carrying it would reach its function as text no JSON parser
// accepts. So every parse of outside JSON goes through parse_json, which refuses such numbers.

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace eg::common {

struct ParsedJson {
  boost::json::value value;  // null when refused
  std::string error;         // why the text was refused, in words for whoever sent it; empty when parsed

  bool ok() const { return error.empty(); }
};

// `text` parsed into `storage`; refused when it is not JSON ("malformed JSON (syntax error)") or
// holds a number that is not a finite double ("a number out of range (...)"). A number too small
// for a double (1e-400) is read as 0, as JSON parsers do.
ParsedJson parse_json(std::string_view text, boost::json::storage_ptr storage = {});

// Appends `text` to `out` as a JSON string, quotes included, exactly as boost::json::serialize
// writes it: without building a value or a temporary string, for JSON written member by member on
// the request path (the spool's delivery targets, the events functions receive).
void append_json_string(std::string& out, std::string_view text);

}  // namespace eg::common
