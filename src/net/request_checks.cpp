#include "net/request_checks.h"

#include <boost/beast/core/string.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "net/header_rules.h"

namespace eg::net {
namespace {

// The fields whose repetition or combination decides how a request is framed, seen in one pass.
struct FramingFields {
  unsigned host_lines = 0;
  unsigned content_length_lines = 0;
  bool content_length_is_list = false;
  std::vector<std::string_view> transfer_encoding_lines;
};

FramingFields framing_fields_of(const Request& head) {
  FramingFields fields;
  for (const auto& field : head) {
    switch (field.name()) {
      case http::field::host:
        ++fields.host_lines;
        break;
      case http::field::content_length:
        ++fields.content_length_lines;
        if (field.value().find(',') != std::string_view::npos) fields.content_length_is_list = true;
        break;
      case http::field::transfer_encoding:
        fields.transfer_encoding_lines.push_back(field.value());
        break;
      default:
        break;
    }
  }
  return fields;
}

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kWhitespace = " \t";
  const auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kWhitespace) - first + 1);
}

struct TransferCoding {
  std::string_view name;
  bool has_parameters = false;
};

// The codings of every Transfer-Encoding field line, in order, as one list (RFC 9110 §5.3); empty
// list elements are skipped, as RFC 9110 §5.6.1 asks. Nothing when an element is not a coding.
std::optional<std::vector<TransferCoding>> transfer_codings(const std::vector<std::string_view>& lines) {
  std::vector<TransferCoding> codings;
  for (auto line : lines) {
    while (!line.empty()) {
      const auto comma = line.find(',');
      const auto element = trimmed(line.substr(0, comma));
      line = comma == std::string_view::npos ? std::string_view{} : line.substr(comma + 1);
      if (element.empty()) continue;
      const auto semicolon = element.find(';');
      const TransferCoding coding{trimmed(element.substr(0, semicolon)), semicolon != std::string_view::npos};
      if (!is_field_name(coding.name)) return std::nullopt;
      codings.push_back(coding);
    }
  }
  return codings;
}

bool is_chunked(const TransferCoding& coding) { return boost::beast::iequals(coding.name, "chunked"); }

Response malformed_request(std::string_view why) {
  return error_response(http::status::bad_request, "malformed HTTP request: " + std::string(why));
}

// RFC 9112 §6.1 and §6.3: only a final, bare `chunked` frames a request body we can read.
std::optional<Response> refusal_of_transfer_encoding(const Request& head, const FramingFields& fields) {
  if (head.version() == 10) return malformed_request("Transfer-Encoding is not defined in HTTP/1.0");
  if (fields.content_length_lines > 0)
    return malformed_request("Content-Length together with Transfer-Encoding");
  const auto codings = transfer_codings(fields.transfer_encoding_lines);
  if (!codings) return malformed_request("Transfer-Encoding holds something that is not a transfer coding");
  if (codings->empty()) return malformed_request("Transfer-Encoding names no transfer coding");
  if (!is_chunked(codings->back()) || codings->back().has_parameters) {
    return malformed_request("the last transfer coding must be chunked, without parameters");
  }
  for (std::size_t i = 0; i + 1 < codings->size(); ++i) {
    const auto& coding = (*codings)[i];
    if (is_chunked(coding)) return malformed_request("chunked may be applied only once");
    return error_response(http::status::not_implemented,
                          "transfer coding \"" + std::string(coding.name) +
                              "\" is not implemented: send the body with Transfer-Encoding: chunked alone, "
                              "or with Content-Length");
  }
  // What we decided must be what the parser did, or the body would be read some other way.
  if (!head.chunked()) return malformed_request("Transfer-Encoding could not be read as chunked");
  return std::nullopt;
}

}  // namespace

std::optional<Response> refusal_of(const Request& head) {
  const auto fields = framing_fields_of(head);
  if (fields.host_lines > 1) return malformed_request("more than one Host field");
  if (fields.host_lines == 0 && head.version() == 11)
    return malformed_request("an HTTP/1.1 request needs a Host field");
  if (fields.content_length_lines > 1 || fields.content_length_is_list) {
    return malformed_request("more than one Content-Length");
  }
  if (!fields.transfer_encoding_lines.empty()) return refusal_of_transfer_encoding(head, fields);
  return std::nullopt;
}

}  // namespace eg::net
