#pragma once
// The checks a request head must pass before the server reads its body or calls a handler: the
// framing rules of RFC 9112 that keep two readers of the same bytes from seeing different requests
// (request smuggling), and the Host rules of RFC 9112 §3.2. Boost.Beast 1.81 parses heads that
// break them without complaint, so the server asks refusal_of() about every head it reads:
//
//   - Transfer-Encoding: Beast treats a coding list that does not end in `chunked` (`xchunked`,
//     `gzip`, `chunked, gzip`, `identity`, an empty value) as "no body", so the bytes after the head
//     would run as the next request. RFC 9112 §6.3: such a request is a 400 and the connection is
//     closed. `chunked` more than once, or with parameters, is a 400 too. A list that ends in
//     `chunked` but holds codings we do not implement (`gzip, chunked`) is a 501 (RFC 9112 §6.1),
//     and Transfer-Encoding in an HTTP/1.0 request is a 400 (its framing is faulty, §6.1).
//   - Content-Length: Beast refuses a value that is not a number and two different values, and
//     refuses Content-Length together with a chunked Transfer-Encoding; it accepts the same value
//     twice (`3, 3` or two field lines), which we refuse (400), as nginx does: a message framed
//     by a repeated field invites two readers to disagree.
//   - Host: an HTTP/1.1 request without one, or with more than one field line, is a 400.
//
// What Beast already refuses, and refusal_of() therefore does not look at again: bare CR or LF
// anywhere in the head (a head that ends in a bare LF is never complete and times out), control
// characters and DEL in values, whitespace before the colon or at the start of a field line,
// malformed chunk sizes and extensions, versions other than 1.0 and 1.1. Beast replaces obs-fold
// (a field line continued on the next line) with a space, as RFC 9112 §5.2 allows; the folded value
// still has to pass every check above. Trailer fields of a chunked body are dropped by the server
// (RFC 9110 §6.5.1: a recipient must not merge them into the header section unless it knows it may).
//
// Every refusal is a JSON error response; the server answers it with `Connection: close` and does
// not read the body. Pure functions of the head: a fuzz harness may call them on any parsed head.

#include <optional>

#include "net/json_response.h"

namespace eg::net {

// The answer to a request whose head breaks one of the rules above, or nothing when it may be served.
std::optional<Response> refusal_of(const Request& head);

}  // namespace eg::net
