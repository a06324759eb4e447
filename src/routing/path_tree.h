#pragma once
// The path tree of http subscriptions for one HTTP method: static segments, `:name` parameters and a
// trailing `*name` wildcard. It enforces the README's conflict rules when a path is added, and
// matches request paths without allocating.
//
// Conflict rules (order of registration does not matter):
//   - a static segment and a parameter at the same position conflict (/users/:id vs /users/foo);
//   - two parameters with different names at the same position conflict (/users/:id vs /users/:name);
//   - a wildcard conflicts with any other segment at its position (/files/*path vs /files/x);
//   - the same path twice is refused as a duplicate.

#include <boost/container/small_vector.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

template <typename Value>
class PathTree {
 public:
  struct Match {
    const Value* value = nullptr;
    PathParams params;
  };

  // Adds `path` (valid, normalized); on refusal the tree is unchanged.
  std::optional<PathRejection> add(std::string_view path, Value value);
  // Returns false when the path was not in the tree.
  bool remove(std::string_view path);
  // Finds the value for a request path (already percent-decoded by the caller). The match views
  // `request_path` and this tree.
  std::optional<Match> match(std::string_view request_path) const;
  bool empty() const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace eg::routing

#include "routing/path_tree_impl.h"
