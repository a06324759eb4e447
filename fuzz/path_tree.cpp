// The path tree of http subscriptions (src/routing/path_tree.h) against a model of it: the set of
// paths it holds, and the README's conflict rules written pairwise, the plain way. The input is one
// operation per line:
//   +<path>    add a subscription path          -<path>   remove it
//   ?<path>    match a request path             =         keep a copy of the tree as it is now
// Invariants, after every operation:
//   - add refuses exactly what the pairwise rules refuse, for the same reason, as refusal() predicts;
//     remove finds exactly the paths that were added;
//   - every path held matches itself (as a request path) with its own route and parameters;
//   - a request path matches a route only if it fits that route's pattern, and matches when any
//     held pattern fits it;
//   - copies taken earlier are unchanged by everything done to the tree since.

#include "routing/path_tree.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz_check.h"

namespace {

using eg::fuzz::check;
using eg::routing::PathParams;
using eg::routing::PathRejection;
using Tree = eg::routing::PathTree<std::string>;  // the value of a route is its normalized path
using Model = std::set<std::string>;              // the normalized paths the tree should hold

constexpr std::size_t kMaxOperations = 64;
constexpr std::size_t kMaxCopies = 4;

struct Segment {
  enum class Kind { Static, Parameter, Wildcard };
  Kind kind;
  std::string_view text;  // without the sigil
};

// A valid subscription path's segments; a trailing slash makes none.
std::vector<Segment> segments_of(std::string_view path) {
  std::vector<Segment> segments;
  std::string_view rest = path.substr(1);
  while (!rest.empty()) {
    const auto segment = rest.substr(0, rest.find('/'));
    rest.remove_prefix(std::min(segment.size() + 1, rest.size()));
    if (segment.empty()) break;  // the trailing slash
    if (segment.front() == ':') {
      segments.push_back({Segment::Kind::Parameter, segment.substr(1)});
    } else if (segment.front() == '*') {
      segments.push_back({Segment::Kind::Wildcard, segment.substr(1)});
    } else {
      segments.push_back({Segment::Kind::Static, segment});
    }
  }
  return segments;
}

// The conflict rules for two paths, the plain way: walk both until they part. Different static
// segments part them for good; any other difference at one position is a conflict; one ending
// where the other goes on is fine (a route and its children coexist); the same path is a duplicate.
std::optional<PathRejection::Reason> pairwise_refusal(std::string_view added, std::string_view held) {
  const auto a = segments_of(added);
  const auto b = segments_of(held);
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const bool both_static = a[i].kind == Segment::Kind::Static && b[i].kind == Segment::Kind::Static;
    if (both_static && a[i].text != b[i].text) return std::nullopt;
    if (a[i].kind != b[i].kind || a[i].text != b[i].text) return PathRejection::Reason::Conflict;
  }
  if (a.size() == b.size()) return PathRejection::Reason::Duplicate;
  return std::nullopt;
}

std::optional<PathRejection::Reason> expected_refusal(const Model& model, std::string_view path) {
  if (eg::routing::validate_subscription_path(path)) return PathRejection::Reason::Invalid;
  const auto normalized = eg::routing::normalize_subscription_path(path);
  std::optional<PathRejection::Reason> refusal;
  for (const auto& held : model) {
    const auto reason = pairwise_refusal(normalized, held);
    if (reason == PathRejection::Reason::Conflict) return reason;
    if (reason) refusal = reason;
  }
  return refusal;
}

// Whether `request` fits `pattern` as the tree matches, each pattern on its own: a parameter takes
// one non-empty segment, a wildcard the rest ("" when nothing is left), and a trailing slash is
// ignored; "/" is served only by the pattern "/". The parameters it would yield, or nothing.
std::optional<PathParams> fit(std::string_view pattern, std::string_view request) {
  if (request.empty() || request.front() != '/') return std::nullopt;
  if (request == "/") return pattern == "/" ? std::optional<PathParams>(PathParams{}) : std::nullopt;
  PathParams params;
  std::string_view rest = request;
  for (const auto& segment : segments_of(pattern)) {
    if (segment.kind == Segment::Kind::Wildcard) {
      params.emplace_back(segment.text, rest.size() > 1 ? rest.substr(1) : std::string_view());
      return params;
    }
    if (rest.size() <= 1) return std::nullopt;
    rest.remove_prefix(1);
    const auto part = rest.substr(0, rest.find('/'));
    rest.remove_prefix(part.size());
    if (segment.kind == Segment::Kind::Static && part != segment.text) return std::nullopt;
    if (segment.kind == Segment::Kind::Parameter) {
      if (part.empty()) return std::nullopt;
      params.emplace_back(segment.text, part);
    }
  }
  if (rest.size() > 1) return std::nullopt;
  return params;
}

std::string describe(const std::optional<PathRejection::Reason>& reason) {
  if (!reason) return "accepted";
  switch (*reason) {
    case PathRejection::Reason::Invalid:
      return "invalid";
    case PathRejection::Reason::Duplicate:
      return "duplicate";
    case PathRejection::Reason::Conflict:
      return "conflict";
  }
  return "?";
}

std::optional<PathRejection::Reason> reason_of(const std::optional<PathRejection>& rejection) {
  if (!rejection) return std::nullopt;
  return rejection->reason;
}

void check_match(const Tree& tree, const Model& model, std::string_view request) {
  const auto match = tree.match(request);
  bool fits_some = false;
  for (const auto& held : model) fits_some = fits_some || fit(held, request).has_value();
  check(match.has_value() == fits_some,
        fits_some ? "a request path that fits a route matches"
                  : "a request path that fits no route matches none",
        std::string(request));
  if (!match) return;
  check(model.contains(*match->value), "a match yields a route the tree holds", *match->value);
  const auto params = fit(*match->value, request);
  check(params.has_value(), "a request path matches only a route it fits",
        std::string(request) + " -> " + *match->value);
  check(*params == match->params, "a match yields the parameters of its route",
        std::string(request) + " -> " + *match->value);
}

// After every operation: cheap, O(paths held).
void check_holds(const Tree& tree, const Model& model) {
  check(tree.empty() == model.empty(), "the tree is empty when it holds no path");
  for (const auto& held : model) {
    const auto match = tree.match(held);
    check(match && *match->value == held, "a path held matches itself", held);
    check(match->params == *fit(held, held), "a path held matches itself with its parameters", held);
  }
}

struct Copy {
  Tree tree;
  Model model;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Tree tree;
  Model model;
  std::vector<Copy> copies;
  const auto lines = eg::fuzz::lines_of(eg::fuzz::as_text(data, size));
  for (std::size_t i = 0; i < std::min(lines.size(), kMaxOperations); ++i) {
    const auto line = lines[i];
    if (line.empty()) continue;
    const auto path = line.substr(1);
    switch (line.front()) {
      case '+': {
        const auto expected = expected_refusal(model, path);
        const auto predicted = reason_of(tree.refusal(path));
        const auto refused = reason_of(tree.add(path, eg::routing::normalize_subscription_path(path)));
        check(refused == predicted, "refusal() predicts add()",
              std::string(path) + ": " + describe(predicted) + " then " + describe(refused));
        check(refused == expected, "add() follows the conflict rules",
              std::string(path) + ": " + describe(refused) + ", expected " + describe(expected));
        if (!refused) model.insert(eg::routing::normalize_subscription_path(path));
        break;
      }
      case '-': {
        const bool held = !eg::routing::validate_subscription_path(path) &&
                          model.erase(eg::routing::normalize_subscription_path(path)) == 1;
        check(tree.remove(path) == held,
              held ? "remove() finds a path held" : "remove() finds no path not held", std::string(path));
        break;
      }
      case '?':
        check_match(tree, model, path);
        break;
      case '=':
        if (copies.size() < kMaxCopies) copies.push_back({tree, model});
        break;
      default:
        break;
    }
    check_holds(tree, model);
  }
  for (const auto& held : model) check_match(tree, model, held);
  for (const auto& copy : copies) check_holds(copy.tree, copy.model);
  return 0;
}
