// Subscription ids (src/model/identifiers.h): how the Configuration API turns the id a client put in
// a URL, raw, decoded or encoded again, into the one it stored. Invariants:
//   - for any bytes: percent_decode(path_escape(x)) == x, and canonical_subscription_id(x) does not
//     crash; what it returns is canonical again when its first two fields are names;
//   - for an event (or "http"), a function id (or method) and a path given as the input's first
//     three lines: the id built from them is found from every form a client may send, the id itself,
//     its decoded form, and the id encoded once and twice more.

#include <string>

#include "fuzz_check.h"
#include "model/identifiers.h"

namespace {

using eg::fuzz::check;
using eg::model::canonical_subscription_id;

void check_escaping(std::string_view text) {
  check(eg::model::percent_decode(eg::model::path_escape(text)) == std::string(text),
        "percent_decode undoes path_escape", std::string(text));
}

// The id's first two fields, event (or "http") and function id (or method), are names.
bool names_its_fields(std::string_view id) {
  const auto first = id.find(',');
  if (first == std::string_view::npos) return false;
  const auto second = id.find(',', first + 1);
  return second != std::string_view::npos && eg::model::is_valid_name(id.substr(0, first)) &&
         eg::model::is_valid_name(id.substr(first + 1, second - first - 1));
}

void check_canonical(std::string_view id_from_url) {
  const auto canonical = canonical_subscription_id(id_from_url);
  if (!canonical || !names_its_fields(*canonical)) return;
  check(canonical_subscription_id(*canonical) == canonical, "a canonical id is canonical again",
        std::string(id_from_url) + " -> " + *canonical);
}

void check_found_from_every_form(std::string_view event, std::string_view function_id,
                                 std::string_view path) {
  if (!eg::model::is_valid_name(event) || !eg::model::is_valid_name(function_id) || path.empty() ||
      path.front() != '/') {
    return;
  }
  const auto id = eg::model::custom_subscription_id(event, function_id, path);
  const auto decoded = std::string(event) + "," + std::string(function_id) + "," + std::string(path);
  const auto encoded = eg::model::path_escape(id);  // what encodeURIComponent sends
  for (const auto& form : {id, decoded, encoded, eg::model::path_escape(encoded)}) {
    check(canonical_subscription_id(form) == id, "every form a client sends finds the id",
          form + " -> " + id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = eg::fuzz::as_text(data, size);
  check_escaping(text);
  check_canonical(text);
  const auto lines = eg::fuzz::lines_of(text);
  if (lines.size() >= 3) check_found_from_every_form(lines[0], lines[1], lines[2]);
  return 0;
}
