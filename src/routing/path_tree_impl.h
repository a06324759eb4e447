#pragma once
// The template part of path_tree.h; included at its end, not on its own.
//
// Each node stands for one position in a path. Thanks to the conflict rules a node's children are of
// one kind only (static segments, one parameter, or one wildcard), so matching never backtracks.

#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>
#include <functional>
#include <span>

namespace eg::routing {

namespace path_tree_detail {

// One segment of a subscription path.
struct RouteSegment {
  enum class Kind { Static, Parameter, Wildcard };
  Kind kind;
  std::string_view text;  // the static text, or the parameter / wildcard name without its sigil
};

// Splits a valid subscription path; a trailing slash does not make a segment, so "/" has none.
inline std::vector<RouteSegment> split_route(std::string_view path) {
  std::vector<RouteSegment> segments;
  std::string_view rest = path.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  while (!rest.empty()) {
    const std::string_view segment = rest.substr(0, rest.find('/'));
    rest.remove_prefix(std::min(segment.size() + 1, rest.size()));
    if (segment.front() == ':') {
      segments.push_back({RouteSegment::Kind::Parameter, segment.substr(1)});
    } else if (segment.front() == '*') {
      segments.push_back({RouteSegment::Kind::Wildcard, segment.substr(1)});
    } else {
      segments.push_back({RouteSegment::Kind::Static, segment});
    }
  }
  return segments;
}

// Lets the static children be looked up by string_view, so matching a request does not allocate.
struct SegmentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view segment) const noexcept {
    return std::hash<std::string_view>{}(segment);
  }
};

inline PathRejection conflict(std::string_view new_path, std::string_view existing_path) {
  return {PathRejection::Reason::Conflict, "path \"" + std::string(new_path) +
                                               "\" conflicts with existing path \"" +
                                               std::string(existing_path) + "\""};
}

inline PathRejection duplicate(std::string_view path) {
  return {PathRejection::Reason::Duplicate, "path \"" + std::string(path) + "\" already exists"};
}

}  // namespace path_tree_detail

template <typename Value>
struct PathTree<Value>::Node {
  using RouteSegment = path_tree_detail::RouteSegment;
  using Kind = RouteSegment::Kind;

  // The path is kept so that conflict messages can name the existing path.
  struct Route {
    std::string path;
    Value value;
  };
  struct Wildcard {
    std::string name;
    Route route;
  };

  // A hash map rather than a sorted vector: with many sibling routes (e.g. 100k "/fn-N") a sorted
  // vector makes every insertion linear, and lookups stay O(1) here. An open-addressing (flat) map
  // keeps the keys in its own array: with 100k routes a lookup costs half the cache misses of
  // std::unordered_map's node chains (bench/route_lookup_bench.cpp).
  boost::unordered_flat_map<std::string, std::unique_ptr<Node>, path_tree_detail::SegmentHash,
                            std::equal_to<>>
      static_children;
  std::string param_name;
  std::unique_ptr<Node> param_child;
  std::optional<Wildcard> wildcard;
  std::optional<Route> route;  // the path ending exactly here

  bool empty() const { return static_children.empty() && !param_child && !wildcard && !route; }

  // Some path in this subtree; never called on an empty node, since removal prunes those.
  const std::string& any_path() const {
    if (route) return route->path;
    if (wildcard) return wildcard->route.path;
    if (param_child) return param_child->any_path();
    return static_children.begin()->second->any_path();
  }

  // An existing path whose segment at this position cannot coexist with `segment`, or null.
  const std::string* conflicting_path(const RouteSegment& segment) const {
    const bool same_wildcard = segment.kind == Kind::Wildcard && wildcard && wildcard->name == segment.text;
    if (wildcard && !same_wildcard) return &wildcard->route.path;
    const bool same_param = segment.kind == Kind::Parameter && param_name == segment.text;
    if (param_child && !same_param) return &param_child->any_path();
    if (!static_children.empty() && segment.kind != Kind::Static) {
      return &static_children.begin()->second->any_path();
    }
    return nullptr;
  }

  // Why `new_path`, whose segment at this position is `segment`, cannot be added below this node.
  std::optional<PathRejection> refusal(const RouteSegment& segment, std::string_view new_path) const {
    if (const std::string* existing = conflicting_path(segment)) {
      return path_tree_detail::conflict(new_path, *existing);
    }
    if (segment.kind == Kind::Wildcard && wildcard) return path_tree_detail::duplicate(new_path);
    return std::nullopt;
  }

  // The existing child for a segment that does not conflict, or null (always for a wildcard, which
  // lives in its parent node).
  const Node* existing_child(const RouteSegment& segment) const {
    if (segment.kind == Kind::Wildcard) return nullptr;
    if (segment.kind == Kind::Parameter) return param_child.get();
    const auto found = static_children.find(segment.text);
    return found == static_children.end() ? nullptr : found->second.get();
  }

  // The child for a static or parameter segment that does not conflict, created when missing.
  Node& child_for(const RouteSegment& segment) {
    if (segment.kind == Kind::Parameter) {
      if (!param_child) {
        param_name = std::string(segment.text);
        param_child = std::make_unique<Node>();
      }
      return *param_child;
    }
    auto& child = static_children[std::string(segment.text)];
    if (!child) child = std::make_unique<Node>();
    return *child;
  }

  // Removes the path made of `segments` below this node and prunes the nodes left empty.
  bool remove(std::span<const RouteSegment> segments) {
    if (segments.empty()) return remove_route();
    const RouteSegment& segment = segments.front();
    if (segment.kind == Kind::Wildcard) return remove_wildcard(segment.text);
    if (segment.kind == Kind::Parameter) return remove_param(segment.text, segments.subspan(1));
    return remove_static(segment.text, segments.subspan(1));
  }

  bool remove_route() {
    if (!route) return false;
    route.reset();
    return true;
  }

  bool remove_wildcard(std::string_view name) {
    if (!wildcard || wildcard->name != name) return false;
    wildcard.reset();
    return true;
  }

  bool remove_param(std::string_view name, std::span<const RouteSegment> rest) {
    if (!param_child || param_name != name || !param_child->remove(rest)) return false;
    if (param_child->empty()) {
      param_child.reset();
      param_name.clear();
    }
    return true;
  }

  bool remove_static(std::string_view segment, std::span<const RouteSegment> rest) {
    const auto found = static_children.find(segment);
    if (found == static_children.end() || !found->second->remove(rest)) return false;
    if (found->second->empty()) static_children.erase(found);
    return true;
  }

  // The child a request segment leads to, recording a parameter's value; null when none.
  const Node* child_matching(std::string_view segment, PathParams& params) const {
    if (const auto found = static_children.find(segment); found != static_children.end()) {
      return found->second.get();
    }
    // An empty segment ("/users//posts") is no parameter value.
    if (!param_child || segment.empty()) return nullptr;
    params.emplace_back(param_name, segment);
    return param_child.get();
  }

  // The request path ended at this node. Its wildcard also matches, with an empty value, so
  // "/users/*userpath" serves "/users" and "/users/" (userpath = ""); a path ending here wins.
  // Returns false when nothing ends here.
  bool match_end(Match& match) const {
    if (route) {
      match.value = &route->value;
    } else if (wildcard) {
      match.params.emplace_back(wildcard->name, "");
      match.value = &wildcard->route.value;
    } else {
      return false;
    }
    return true;
  }
};

template <typename Value>
std::optional<PathRejection> PathTree<Value>::add(std::string_view path, Value value) {
  if (auto error = validate_subscription_path(path)) {
    return PathRejection{PathRejection::Reason::Invalid, std::move(*error)};
  }
  std::string normalized = normalize_subscription_path(path);
  // The segments view `path` rather than `normalized`, which is moved into the tree below.
  const auto segments = path_tree_detail::split_route(path);

  // Check everything before creating any node, so that a refusal leaves the tree unchanged.
  const Node* existing = root_.get();
  for (const auto& segment : segments) {
    if (!existing) break;
    if (auto refusal = existing->refusal(segment, normalized)) return refusal;
    existing = existing->existing_child(segment);
  }
  if (existing && existing->route) return path_tree_detail::duplicate(normalized);

  if (!root_) root_ = std::make_unique<Node>();
  Node* node = root_.get();
  typename Node::Route route{std::move(normalized), std::move(value)};
  for (const auto& segment : segments) {
    if (segment.kind == Node::Kind::Wildcard) {
      node->wildcard.emplace(typename Node::Wildcard{std::string(segment.text), std::move(route)});
      return std::nullopt;
    }
    node = &node->child_for(segment);
  }
  node->route.emplace(std::move(route));
  return std::nullopt;
}

template <typename Value>
bool PathTree<Value>::remove(std::string_view path) {
  if (!root_ || validate_subscription_path(path)) return false;
  return root_->remove(path_tree_detail::split_route(path));
}

template <typename Value>
std::optional<typename PathTree<Value>::Match> PathTree<Value>::match(std::string_view request_path) const {
  if (!root_ || request_path.empty() || request_path.front() != '/') return std::nullopt;
  // The root is served only by the route "/": not by a parameter, nor by a root wildcard "/*rest".
  if (request_path == "/") {
    if (!root_->route) return std::nullopt;
    return Match{&root_->route->value, {}};
  }
  const Node* node = root_.get();
  // Built in place and returned by name: moving a Match, whose parameters live inline, is a copy.
  std::optional<Match> result(std::in_place);
  Match& match = *result;
  std::string_view rest = request_path;  // always starts with '/'
  // What is left is "" or a trailing "/" once every segment has been consumed.
  while (rest.size() > 1) {
    rest.remove_prefix(1);
    if (node->wildcard) {
      // The wildcard takes the raw remainder, a trailing slash included ("a/b/" stays "a/b/").
      match.params.emplace_back(node->wildcard->name, rest);
      match.value = &node->wildcard->route.value;
      return result;
    }
    const std::string_view segment = rest.substr(0, rest.find('/'));
    rest.remove_prefix(segment.size());
    node = node->child_matching(segment, match.params);
    if (!node) return std::nullopt;
  }
  if (!node->match_end(match)) return std::nullopt;
  return result;
}

template <typename Value>
bool PathTree<Value>::empty() const {
  return !root_ || root_->empty();
}

}  // namespace eg::routing
