#pragma once
// The data of an `http` event (README "HTTP Event"): what a function needs to answer the request.
//   {"path", "method", "headers": {name: value}, "host", "query": {name: [values]},
//    "params": {name: value}, "body": JSON for JSON types, base64 otherwise, null when empty}

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "net/json_response.h"
#include "routing/path_tree.h"

namespace eg::events {

// `path` is the request path, percent-decoded, without the query. Throws MalformedJson for a JSON
// body that does not parse. Every part of the data is allocated from `storage`.
boost::json::object http_event_data(const net::Request& request, std::string_view path,
                                    const routing::PathParams& params, const boost::json::storage_ptr& storage = {});

// Request headers as a JSON object, names canonical, repeated values joined with ", ".
boost::json::object request_headers(const net::Request& request, boost::json::storage_ptr storage = {});
// The same object's JSON text, appended to `text`: written straight from the request's fields,
// without the object, when no name repeats (what nearly every request is).
void append_request_headers(std::string& text, const net::Request& request);

// "content-type" -> "Content-Type", as Go's CanonicalMIMEHeaderKey spells header names, which is
// what functions written for the original gateway look up.
std::string canonical_header_name(std::string_view name);

}  // namespace eg::events
