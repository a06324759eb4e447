#pragma once
// The template part of path_tree.h; included at its end, not on its own.
//
// Each node stands for one position in a path. Thanks to the conflict rules a node's children are of
// one kind only (static segments, one parameter, or one wildcard), so matching never backtracks.
// Nodes are held by shared_ptr, shared between copies of a tree; a change copies each node it
// passes through that this copy of the tree did not create since it was last copied (path copying).

#include <algorithm>
#include <functional>

namespace eg::routing {

namespace path_tree_detail {

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

inline PathRejection conflict(std::string_view new_path, std::string_view existing_path) {
  return {PathRejection::Reason::Conflict, "path \"" + std::string(new_path) +
                                               "\" conflicts with existing path \"" +
                                               std::string(existing_path) + "\""};
}

inline PathRejection duplicate(std::string_view path) {
  return {PathRejection::Reason::Duplicate, "path \"" + std::string(path) + "\" already exists"};
}

// A node's static children, in one of three forms by their number:
//   - a few (most nodes: "/users/:id/orders"): in a small vector inside the node, found by
//     comparing strings, so a lookup touches no memory beyond the node and the child;
//   - up to kInlineLimit: a flat map owned by the node;
//   - more (100k "/r/<i>" below "/r"): a ShardedMap, so that copying the node shares them and a
//     change below it copies 1/256 of them rather than all.
// A form is left for the next one when it is full, and kept when children are erased.
template <typename Child>
class StaticChildren {
 public:
  // Up to this many are compared one by one: fewer cache misses than hashing into a map costs.
  static constexpr std::size_t kFewLimit = 4;
  // Copying up to this many entries with their node costs a few microseconds.
  static constexpr std::size_t kInlineLimit = 1024;

  const Child* find(std::string_view segment) const {
    if (!wide_.empty()) return wide_.find(segment);
    if (!inline_.empty()) {
      const auto found = inline_.find(segment);
      return found == inline_.end() ? nullptr : &found->second;
    }
    for (const auto& [text, child] : few_) {
      if (text == segment) return &child;
    }
    return nullptr;
  }

  bool empty() const { return few_.empty() && inline_.empty() && wide_.empty(); }

  // Some child; never called when empty.
  const Child& any() const {
    if (!wide_.empty()) return *wide_.any();
    return inline_.empty() ? few_.front().second : inline_.begin()->second;
  }

  // The changes below are made only to children of a node that the caller's `edit` owns, whose
  // few and inline children are therefore its own.
  Child* find_for_change(std::string_view segment, std::uint64_t edit) {
    if (!wide_.empty()) return wide_.find_for_change(segment, edit);
    return const_cast<Child*>(find(segment));
  }

  void insert(std::string_view segment, Child child, std::uint64_t edit) {
    if (wide_.empty() && inline_.empty() && few_.size() < kFewLimit) {
      few_.emplace_back(std::string(segment), std::move(child));
      return;
    }
    if (wide_.empty() && inline_.size() < kInlineLimit) {
      move_few_to_inline();
      inline_.emplace(std::string(segment), std::move(child));
      return;
    }
    if (wide_.empty()) move_inline_to_wide(edit);
    wide_.insert_or_assign(segment, std::move(child), edit);
  }

  // `segment` is present.
  void erase(std::string_view segment, std::uint64_t edit) {
    if (!wide_.empty()) {
      wide_.erase(segment, edit);  // once the last wide child is erased, the next go to the few
    } else if (!inline_.empty()) {
      inline_.erase(inline_.find(segment));
    } else {
      few_.erase(
          std::find_if(few_.begin(), few_.end(), [&](const auto& entry) { return entry.first == segment; }));
    }
  }

 private:
  void move_few_to_inline() {
    for (auto& [segment, child] : few_) inline_.emplace(std::move(segment), std::move(child));
    few_.clear();
  }
  void move_inline_to_wide(std::uint64_t edit) {
    for (auto& [segment, child] : inline_) wide_.insert_or_assign(segment, std::move(child), edit);
    inline_ = {};
  }

  ShardedMap<Child> wide_;  // first: whether it is empty is the first thing a lookup reads
  boost::container::small_vector<std::pair<std::string, Child>, 1> few_;
  StringMap<Child> inline_;
};

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

  explicit Node(std::uint64_t edit_token) : edit(edit_token) {}

  // What a lookup reads comes first. Routes are held by pointer: a node copied by a change shares
  // them with the original, and the many nodes without a route stay small (a lookup reads a route
  // only where it ends).
  //
  // Hash maps rather than sorted vectors: with many sibling routes (e.g. 100k "/fn-N") a sorted
  // vector makes every insertion linear, and lookups stay O(1) here. Open-addressing (flat) maps
  // keep the keys in their own arrays: with 100k routes a lookup costs half the cache misses of
  // std::unordered_map's node chains (bench/route_lookup_bench.cpp).
  std::shared_ptr<const Route> wildcard;  // the route of the wildcard at this position
  // The name of the parameter child or of the wildcard: the conflict rules allow one of them only.
  std::string name;
  path_tree_detail::StaticChildren<std::shared_ptr<Node>> static_children;
  std::shared_ptr<Node> param_child;
  std::shared_ptr<const Route> route;  // the path ending exactly here
  std::uint64_t edit;  // the token of the tree copy that created this node

  bool empty() const { return static_children.empty() && !param_child && !wildcard && !route; }

  // Some path in this subtree; never called on an empty node, since removal prunes those.
  const std::string& any_path() const {
    if (route) return route->path;
    if (wildcard) return wildcard->path;
    if (param_child) return param_child->any_path();
    return static_children.any()->any_path();
  }

  // An existing path whose segment at this position cannot coexist with `segment`, or null.
  const std::string* conflicting_path(const RouteSegment& segment) const {
    const bool same_wildcard = segment.kind == Kind::Wildcard && wildcard && name == segment.text;
    if (wildcard && !same_wildcard) return &wildcard->path;
    const bool same_param = segment.kind == Kind::Parameter && name == segment.text;
    if (param_child && !same_param) return &param_child->any_path();
    if (!static_children.empty() && segment.kind != Kind::Static) return &static_children.any()->any_path();
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

  // The existing child for a static or parameter segment, or null (always for a wildcard, which
  // lives in its parent node). A parameter child is returned whatever its name.
  const Node* existing_child(const RouteSegment& segment) const {
    if (segment.kind == Kind::Wildcard) return nullptr;
    if (segment.kind == Kind::Parameter) return param_child.get();
    const auto* found = static_children.find(segment.text);
    return found == nullptr ? nullptr : found->get();
  }

  // The child a request segment leads to, recording a parameter's value; null when none.
  const Node* child_matching(std::string_view segment, PathParams& params) const {
    if (const auto* found = static_children.find(segment)) return found->get();
    // An empty segment ("/users//posts") is no parameter value.
    if (!param_child || segment.empty()) return nullptr;
    params.emplace_back(name, segment);
    return param_child.get();
  }

  // The request path ended at this node. Its wildcard also matches, with an empty value, so
  // "/users/*userpath" serves "/users" and "/users/" (userpath = ""); a path ending here wins.
  // Returns false when nothing ends here.
  bool match_end(Match& match) const {
    if (route) {
      match.value = &route->value;
    } else if (wildcard) {
      match.params.emplace_back(name, "");
      match.value = &wildcard->value;
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
  // Check everything before changing any node, so that a refusal leaves the tree unchanged.
  if (auto refusal = refusal_along(normalized, segments)) return refusal;

  if (!root_) root_ = std::make_shared<Node>(edit_.value());
  Node* node = &writable(root_);
  typename Node::Route route{std::move(normalized), std::move(value)};
  for (const auto& segment : segments) {
    if (segment.kind == Node::Kind::Wildcard) {
      node->name = std::string(segment.text);
      node->wildcard = std::make_shared<const typename Node::Route>(std::move(route));
      return std::nullopt;
    }
    node = &writable_child(*node, segment);
  }
  node->route = std::make_shared<const typename Node::Route>(std::move(route));
  return std::nullopt;
}

template <typename Value>
std::optional<PathRejection> PathTree<Value>::refusal(std::string_view path) const {
  if (auto error = validate_subscription_path(path)) {
    return PathRejection{PathRejection::Reason::Invalid, std::move(*error)};
  }
  return refusal_along(normalize_subscription_path(path), path_tree_detail::split_route(path));
}

template <typename Value>
std::optional<PathRejection> PathTree<Value>::refusal_along(std::string_view normalized, Segments segments) const {
  const Node* existing = root_.get();
  for (const auto& segment : segments) {
    if (!existing) return std::nullopt;
    if (auto refusal = existing->refusal(segment, normalized)) return refusal;
    existing = existing->existing_child(segment);
  }
  if (existing && existing->route) return path_tree_detail::duplicate(normalized);
  return std::nullopt;
}

template <typename Value>
bool PathTree<Value>::remove(std::string_view path) {
  if (!root_ || validate_subscription_path(path)) return false;
  const auto segments = path_tree_detail::split_route(path);
  // Checked first, so that removing an absent path copies no node.
  if (!contains(segments)) return false;
  remove_below(writable(root_), segments);
  if (root_->empty()) root_.reset();
  return true;
}

// Whether the path made of `segments`, with these parameter and wildcard names, is in the tree.
template <typename Value>
bool PathTree<Value>::contains(Segments segments) const {
  const Node* node = root_.get();
  for (const auto& segment : segments) {
    if (segment.kind == Node::Kind::Wildcard) return node->wildcard && node->name == segment.text;
    if (segment.kind == Node::Kind::Parameter && node->name != segment.text) return false;
    node = node->existing_child(segment);
    if (!node) return false;
  }
  return node->route != nullptr;
}

// The node held by `slot`, safe to change: copied first unless this copy of the tree created it.
template <typename Value>
typename PathTree<Value>::Node& PathTree<Value>::writable(std::shared_ptr<Node>& slot) {
  if (slot->edit != edit_.value()) {
    auto copy = std::make_shared<Node>(*slot);
    copy->edit = edit_.value();
    slot = std::move(copy);
  }
  return *slot;
}

// The child of `node` (writable) for a static or parameter segment that does not conflict, writable
// too, created when missing.
template <typename Value>
typename PathTree<Value>::Node& PathTree<Value>::writable_child(Node& node,
                                                               const path_tree_detail::RouteSegment& segment) {
  if (segment.kind == Node::Kind::Parameter) {
    if (!node.param_child) {
      node.name = std::string(segment.text);
      node.param_child = std::make_shared<Node>(edit_.value());
    }
    return writable(node.param_child);
  }
  if (auto* child = node.static_children.find_for_change(segment.text, edit_.value())) return writable(*child);
  auto child = std::make_shared<Node>(edit_.value());
  Node& created = *child;
  node.static_children.insert(segment.text, std::move(child), edit_.value());
  return created;
}

// Removes the path made of `segments`, which is in the tree, below `node` (writable), and prunes the
// nodes left empty.
template <typename Value>
void PathTree<Value>::remove_below(Node& node, Segments segments) {
  if (segments.empty()) {
    node.route.reset();
    return;
  }
  const auto& segment = segments.front();
  if (segment.kind == Node::Kind::Wildcard) {
    node.wildcard.reset();
    node.name.clear();
    return;
  }
  if (segment.kind == Node::Kind::Parameter) {
    remove_below(writable(node.param_child), segments.subspan(1));
    if (node.param_child->empty()) {
      node.param_child.reset();
      node.name.clear();
    }
    return;
  }
  auto& child = *node.static_children.find_for_change(segment.text, edit_.value());
  remove_below(writable(child), segments.subspan(1));
  if (child->empty()) node.static_children.erase(segment.text, edit_.value());
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
      match.params.emplace_back(node->name, rest);
      match.value = &node->wildcard->value;
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
