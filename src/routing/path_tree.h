#pragma once
// The path tree of http subscriptions for one HTTP method: static segments, `:name` parameters and a
// trailing `*name` wildcard. It enforces the README's conflict rules when a path is added, and
// matches request paths without allocating.
//
// Copies of a tree share their nodes (routing/shared_parts.h): a change copies the nodes on the
// changed path and shares every other subtree, so it costs O(depth) whatever the size of the tree,
// and never shows in another copy. A snapshot's trees are copies that are never changed.
//
// Conflict rules (order of registration does not matter):
//   - a static segment and a parameter at the same position conflict (/users/:id vs /users/foo);
//   - two parameters with different names at the same position conflict (/users/:id vs /users/:name);
//   - a wildcard conflicts with any other segment at its position (/files/*path vs /files/x);
//   - the same path twice is refused as a duplicate.

#include <boost/container/small_vector.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "routing/shared_parts.h"

namespace eg::routing {

// A match's parameters: names view the tree, values view the request path, so a lookup copies
// nothing and, with up to four parameters, allocates nothing. Valid while both are.
using PathParams = boost::container::small_vector<std::pair<std::string_view, std::string_view>, 4>;

// Why a path could not be added.
struct PathRejection {
  enum class Reason { Invalid, Duplicate, Conflict };
  Reason reason;
  std::string message;  // names the conflicting, existing path where there is one
};

// Checks the syntax of a subscription path: starts with '/'; no empty segments, except that one
// trailing slash is allowed (normalization drops it); parameter and wildcard names are non-empty
// and unique; a wildcard is the last segment; characters are URL path characters without '%'.
// Returns an error message, or nothing when valid.
std::optional<std::string> validate_subscription_path(std::string_view path);

// "/users/" -> "/users"; "/" stays "/". Assumes a valid path.
std::string normalize_subscription_path(std::string_view path);

namespace path_tree_detail {

// One segment of a subscription path.
struct RouteSegment {
  enum class Kind { Static, Parameter, Wildcard };
  Kind kind;
  std::string_view text;  // the static text, or the parameter / wildcard name without its sigil
};

}  // namespace path_tree_detail

template <typename Value>
class PathTree {
 public:
  struct Match {
    const Value* value = nullptr;
    PathParams params;
  };

  // Adds `path` (valid, normalized); on refusal the tree is unchanged.
  std::optional<PathRejection> add(std::string_view path, Value value);
  // What add() would refuse `path` for, without adding it.
  std::optional<PathRejection> refusal(std::string_view path) const;
  // Returns false when the path was not in the tree.
  bool remove(std::string_view path);
  // Finds the value for a request path (already percent-decoded by the caller). The match views
  // `request_path` and this tree.
  std::optional<Match> match(std::string_view request_path) const;
  bool empty() const;

 private:
  struct Node;
  using Segments = std::span<const path_tree_detail::RouteSegment>;

  std::optional<PathRejection> refusal_along(std::string_view normalized, Segments segments) const;
  bool contains(Segments segments) const;
  Node& writable(std::shared_ptr<Node>& slot);
  Node& writable_child(Node& node, const path_tree_detail::RouteSegment& segment);
  void remove_below(Node& node, Segments segments);

  std::shared_ptr<Node> root_;
  EditToken edit_;
};

}  // namespace eg::routing

#include "routing/path_tree_impl.h"
