#include "routing/path_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace eg::routing {
namespace {

using Reason = PathRejection::Reason;

// Every route's value is its own path, so a match shows which route served the request.
PathTree<std::string> tree_with(std::initializer_list<std::string_view> paths) {
  PathTree<std::string> tree;
  for (const auto path : paths) {
    const auto rejection = tree.add(path, std::string(path));
    EXPECT_FALSE(rejection) << path << ": " << rejection->message;
  }
  return tree;
}

// The path of the route serving `request`, or "<none>".
std::string served_by(const PathTree<std::string>& tree, std::string_view request) {
  const auto match = tree.match(request);
  return match ? *match->value : "<none>";
}

PathParams params_of(const PathTree<std::string>& tree, std::string_view request) {
  const auto match = tree.match(request);
  EXPECT_TRUE(match) << request;
  return match ? match->params : PathParams{};
}

// --- matching ---

TEST(PathTreeMatch, EmptyTreeMatchesNothing) {
  const PathTree<std::string> tree;
  EXPECT_TRUE(tree.empty());
  EXPECT_FALSE(tree.match("/"));
  EXPECT_FALSE(tree.match("/users"));
}

TEST(PathTreeMatch, StaticPaths) {
  const auto tree = tree_with({"/a", "/b", "/a/b", "/d/e/f", "/users/v1.json", "/a:b@c"});
  EXPECT_FALSE(tree.empty());
  EXPECT_EQ(served_by(tree, "/a"), "/a");
  EXPECT_EQ(served_by(tree, "/b"), "/b");
  EXPECT_EQ(served_by(tree, "/a/b"), "/a/b");
  EXPECT_EQ(served_by(tree, "/d/e/f"), "/d/e/f");
  EXPECT_EQ(served_by(tree, "/users/v1.json"), "/users/v1.json");
  EXPECT_EQ(served_by(tree, "/a:b@c"), "/a:b@c");
  EXPECT_TRUE(tree.match("/d/e/f")->params.empty());
}

TEST(PathTreeMatch, StaticMatchIsCaseSensitive) {
  const auto tree = tree_with({"/Users"});
  EXPECT_EQ(served_by(tree, "/users"), "<none>");
}

TEST(PathTreeMatch, RootMatchesOnlyTheRootRoute) {
  const auto tree = tree_with({"/", "/users"});
  EXPECT_EQ(served_by(tree, "/"), "/");
  EXPECT_EQ(served_by(tree, "/users"), "/users");
  EXPECT_EQ(served_by(tree, "/other"), "<none>");
}

TEST(PathTreeMatch, RootIsNotAParameterValue) {
  const auto tree = tree_with({"/:name"});
  EXPECT_EQ(served_by(tree, "/"), "<none>");
  EXPECT_EQ(served_by(tree, "/x"), "/:name");
}

TEST(PathTreeMatch, RootIsNotServedByARootWildcard) {
  const auto tree = tree_with({"/*all"});
  EXPECT_EQ(served_by(tree, "/"), "<none>");
  EXPECT_EQ(params_of(tree, "/a/b"), (PathParams{{"all", "a/b"}}));
}

TEST(PathTreeMatch, RequestTrailingSlashIsIgnored) {
  const auto tree = tree_with({"/users", "/users/:id"});
  EXPECT_EQ(served_by(tree, "/users/"), "/users");
  EXPECT_EQ(served_by(tree, "/users/7/"), "/users/:id");
  EXPECT_EQ(params_of(tree, "/users/7/"), (PathParams{{"id", "7"}}));
}

TEST(PathTreeMatch, OnlyOneTrailingSlashIsIgnored) {
  const auto tree = tree_with({"/users", "/users/:id"});
  EXPECT_EQ(served_by(tree, "/users//"), "<none>");
}

TEST(PathTreeMatch, SeveralParameters) {
  const auto tree = tree_with({"/users/:id/posts/:post_id"});
  EXPECT_EQ(served_by(tree, "/users/42/posts/abc"), "/users/:id/posts/:post_id");
  EXPECT_EQ(params_of(tree, "/users/42/posts/abc"), (PathParams{{"id", "42"}, {"post_id", "abc"}}));
  const auto only_params = tree_with({"/:a/:b/:c"});
  EXPECT_EQ(params_of(only_params, "/x/y/z"), (PathParams{{"a", "x"}, {"b", "y"}, {"c", "z"}}));
}

TEST(PathTreeMatch, ParameterValueIsTheRawSegment) {
  const auto tree = tree_with({"/users/:id"});
  EXPECT_EQ(params_of(tree, "/users/john.doe@example.com"), (PathParams{{"id", "john.doe@example.com"}}));
  EXPECT_EQ(params_of(tree, "/users/a b%"), (PathParams{{"id", "a b%"}}));
}

TEST(PathTreeMatch, EmptySegmentIsNoParameterValue) {
  const auto tree = tree_with({"/users/:id/posts"});
  EXPECT_EQ(served_by(tree, "/users//posts"), "<none>");
}

TEST(PathTreeMatch, ParameterAndStaticSegmentsMixed) {
  const auto tree = tree_with({"/:name/bar/:id", "/:name/baz"});
  EXPECT_EQ(params_of(tree, "/foo/bar/1"), (PathParams{{"name", "foo"}, {"id", "1"}}));
  EXPECT_EQ(served_by(tree, "/foo/baz"), "/:name/baz");
  EXPECT_EQ(served_by(tree, "/foo/qux"), "<none>");
}

TEST(PathTreeMatch, WildcardCapturesTheRemainder) {
  const auto tree = tree_with({"/users/*userpath"});
  EXPECT_EQ(served_by(tree, "/users/group1/user1"), "/users/*userpath");
  EXPECT_EQ(params_of(tree, "/users/group1/user1"), (PathParams{{"userpath", "group1/user1"}}));
  EXPECT_EQ(params_of(tree, "/users/x"), (PathParams{{"userpath", "x"}}));
}

TEST(PathTreeMatch, WildcardKeepsTheRawRemainder) {
  const auto tree = tree_with({"/files/*path"});
  EXPECT_EQ(params_of(tree, "/files/a/b/"), (PathParams{{"path", "a/b/"}}));
  EXPECT_EQ(params_of(tree, "/files/a//b"), (PathParams{{"path", "a//b"}}));
}

TEST(PathTreeMatch, WildcardMatchesAnEmptyRemainder) {
  const auto tree = tree_with({"/users/*userpath"});
  EXPECT_EQ(params_of(tree, "/users"), (PathParams{{"userpath", ""}}));
  EXPECT_EQ(params_of(tree, "/users/"), (PathParams{{"userpath", ""}}));
  EXPECT_EQ(served_by(tree, "/other"), "<none>");
}

TEST(PathTreeMatch, WildcardAfterParameter) {
  const auto tree = tree_with({"/spaces/:space/*rest"});
  EXPECT_EQ(params_of(tree, "/spaces/s1/a/b"), (PathParams{{"space", "s1"}, {"rest", "a/b"}}));
}

TEST(PathTreeMatch, ExactPathWinsOverAnEmptyWildcard) {
  const auto tree = tree_with({"/users", "/users/*userpath"});
  EXPECT_EQ(served_by(tree, "/users"), "/users");
  EXPECT_TRUE(tree.match("/users")->params.empty());
  EXPECT_EQ(served_by(tree, "/users/"), "/users");
  EXPECT_EQ(served_by(tree, "/users/x"), "/users/*userpath");
}

TEST(PathTreeMatch, NoMatch) {
  const auto tree = tree_with({"/a/b/c", "/users/:id"});
  EXPECT_EQ(served_by(tree, "/a"), "<none>") << "too short, on the way to a route";
  EXPECT_EQ(served_by(tree, "/a/b"), "<none>") << "too short, on the way to a route";
  EXPECT_EQ(served_by(tree, "/a/b/c/d"), "<none>") << "too long";
  EXPECT_EQ(served_by(tree, "/users/1/2"), "<none>") << "too long after a parameter";
  EXPECT_EQ(served_by(tree, "/users"), "<none>") << "a parameter needs a value";
  EXPECT_EQ(served_by(tree, "/a/x/c"), "<none>") << "different static segment";
  EXPECT_EQ(served_by(tree, "/b"), "<none>") << "different first segment";
}

TEST(PathTreeMatch, RequestPathMustStartWithSlash) {
  const auto tree = tree_with({"/", "/users"});
  EXPECT_EQ(served_by(tree, ""), "<none>");
  EXPECT_EQ(served_by(tree, "users"), "<none>");
}

TEST(PathTreeMatch, ValueIsReturnedByPointerIntoTheTree) {
  PathTree<int> tree;
  ASSERT_FALSE(tree.add("/answer", 42));
  const auto match = tree.match("/answer");
  ASSERT_TRUE(match);
  EXPECT_EQ(*match->value, 42);
  EXPECT_EQ(match->value, tree.match("/answer/")->value);
}

// --- conflicts ---

struct ConflictCase {
  std::string_view first;
  std::string_view second;
};

void PrintTo(const ConflictCase& paths, std::ostream* out) { *out << paths.first << " vs " << paths.second; }

class PathTreeConflict : public testing::TestWithParam<ConflictCase> {};

// `added` is refused after `existing`, with a message naming both, and the tree is left as it was.
void expect_conflict(std::string_view existing, std::string_view added) {
  auto tree = tree_with({existing});
  const auto rejection = tree.add(added, "new");
  ASSERT_TRUE(rejection) << added << " was accepted next to " << existing;
  EXPECT_EQ(rejection->reason, Reason::Conflict);
  EXPECT_EQ(rejection->message, "path \"" + std::string(added) + "\" conflicts with existing path \"" +
                                    std::string(existing) + "\"");
  // Unchanged: removing the one route leaves no node behind that `added` would have created.
  EXPECT_TRUE(tree.remove(existing));
  EXPECT_TRUE(tree.empty());
}

TEST_P(PathTreeConflict, InEitherRegistrationOrder) {
  expect_conflict(GetParam().first, GetParam().second);
  expect_conflict(GetParam().second, GetParam().first);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PathTreeConflict,
    testing::Values(ConflictCase{"/users/:id", "/users/foo"},             // static vs parameter
                    ConflictCase{"/:foo", "/bar"},                        // ... at the root
                    ConflictCase{"/:foo/:bar", "/baz"},                   // ... on different levels
                    ConflictCase{"/users/:id/posts", "/users/foo/bar/baz"},
                    ConflictCase{"/users/:id", "/users/:name"},           // parameters with other names
                    ConflictCase{"/users/:id/a", "/users/:name/b"},
                    ConflictCase{"/files/*path", "/files/x"},             // wildcard vs static
                    ConflictCase{"/files/*path", "/files/x/y"},
                    ConflictCase{"/files/*path", "/files/:id"},           // wildcard vs parameter
                    ConflictCase{"/files/*path", "/files/:id/y"},
                    ConflictCase{"/files/*path", "/files/*other"},        // wildcards with other names
                    ConflictCase{"/*all", "/x"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

TEST(PathTreeConflictRules, RootRouteAndRootWildcardCoexist) {
  const auto tree = tree_with({"/*all", "/"});
  EXPECT_EQ(served_by(tree, "/"), "/");
  EXPECT_EQ(served_by(tree, "/x"), "/*all");
}

TEST(PathTreeConflictRules, ConflictMessageNamesAnExistingPath) {
  auto tree = tree_with({"/users/:id/posts/:post", "/users/:id/friends"});
  const auto rejection = tree.add("/users/me", "new");
  ASSERT_TRUE(rejection);
  const std::string prefix = R"(path "/users/me" conflicts with existing path )";
  EXPECT_TRUE(rejection->message == prefix + R"("/users/:id/posts/:post")" ||
              rejection->message == prefix + R"("/users/:id/friends")")
      << rejection->message;
}

TEST(PathTreeConflictRules, CompatiblePathsCoexist) {
  const auto tree = tree_with({"/users", "/users/:id", "/users/:id/posts", "/users/:id/posts/:post",
                               "/teams/:name", "/files", "/files/*path", "/a/b", "/a/c"});
  EXPECT_EQ(served_by(tree, "/users/1/posts"), "/users/:id/posts");
  EXPECT_EQ(served_by(tree, "/teams/x"), "/teams/:name");
  EXPECT_EQ(served_by(tree, "/files/x"), "/files/*path");
  EXPECT_EQ(served_by(tree, "/a/c"), "/a/c");
}

TEST(PathTreeConflictRules, SamePathTwiceIsADuplicate) {
  for (const std::string_view path : {"/", "/users", "/users/:id", "/files/*path"}) {
    auto tree = tree_with({path});
    const auto rejection = tree.add(path, "second");
    ASSERT_TRUE(rejection) << path;
    EXPECT_EQ(rejection->reason, Reason::Duplicate) << path;
    EXPECT_EQ(rejection->message, "path \"" + std::string(path) + "\" already exists");
    EXPECT_EQ(*tree.match(path)->value, path) << "the first value stays";
  }
}

TEST(PathTreeConflictRules, TrailingSlashVariantIsADuplicate) {
  auto tree = tree_with({"/users"});
  const auto rejection = tree.add("/users/", "second");
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->reason, Reason::Duplicate);
  EXPECT_EQ(rejection->message, R"(path "/users" already exists)");
}

TEST(PathTreeConflictRules, MessagesNameTheNormalizedPaths) {
  auto tree = tree_with({"/users/"});
  EXPECT_EQ(served_by(tree, "/users"), "/users/");
  const auto rejection = tree.add("/:name/", "second");
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->message, R"(path "/:name" conflicts with existing path "/users")");
}

TEST(PathTreeConflictRules, InvalidPathIsRefused) {
  PathTree<std::string> tree;
  const auto rejection = tree.add("users", "value");
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->reason, Reason::Invalid);
  EXPECT_EQ(rejection->message, R"(path must start with "/")");
  EXPECT_TRUE(tree.empty());
}

// --- removal ---

TEST(PathTreeRemove, RemovedPathNoLongerMatches) {
  auto tree = tree_with({"/a/b/c"});
  EXPECT_TRUE(tree.remove("/a/b/c"));
  EXPECT_EQ(served_by(tree, "/a/b/c"), "<none>");
  EXPECT_TRUE(tree.empty());
}

TEST(PathTreeRemove, AbsentPathIsNotRemoved) {
  auto tree = tree_with({"/a/b", "/users/:id", "/files/*path"});
  EXPECT_FALSE(tree.remove("/a"));
  EXPECT_FALSE(tree.remove("/a/b/c"));
  EXPECT_FALSE(tree.remove("/x"));
  EXPECT_FALSE(tree.remove("/users/:name"));
  EXPECT_FALSE(tree.remove("/users/1"));
  EXPECT_FALSE(tree.remove("/files/*other"));
  EXPECT_FALSE(tree.remove("/"));
  EXPECT_FALSE(tree.remove("not a path"));
  EXPECT_EQ(served_by(tree, "/a/b"), "/a/b");
  EXPECT_EQ(served_by(tree, "/users/1"), "/users/:id");
  EXPECT_EQ(served_by(tree, "/files/x"), "/files/*path");
}

TEST(PathTreeRemove, RemoveFromEmptyTree) {
  PathTree<std::string> tree;
  EXPECT_FALSE(tree.remove("/a"));
  EXPECT_TRUE(tree.empty());
}

TEST(PathTreeRemove, RemovingTwiceFailsTheSecondTime) {
  auto tree = tree_with({"/a"});
  EXPECT_TRUE(tree.remove("/a"));
  EXPECT_FALSE(tree.remove("/a"));
}

TEST(PathTreeRemove, KeepsLongerAndShorterPaths) {
  auto tree = tree_with({"/a", "/a/b", "/a/b/c"});
  EXPECT_TRUE(tree.remove("/a/b"));
  EXPECT_EQ(served_by(tree, "/a"), "/a");
  EXPECT_EQ(served_by(tree, "/a/b"), "<none>");
  EXPECT_EQ(served_by(tree, "/a/b/c"), "/a/b/c");
}

TEST(PathTreeRemove, ParameterPathWithChildStays) {
  auto tree = tree_with({"/:foo", "/:foo/bar"});
  EXPECT_TRUE(tree.remove("/:foo"));
  EXPECT_EQ(served_by(tree, "/a"), "<none>");
  EXPECT_EQ(served_by(tree, "/a/bar"), "/:foo/bar");
}

TEST(PathTreeRemove, RootWildcardAndTrailingSlashForms) {
  auto tree = tree_with({"/", "/files/*path", "/users"});
  EXPECT_TRUE(tree.remove("/"));
  EXPECT_TRUE(tree.remove("/files/*path"));
  EXPECT_TRUE(tree.remove("/users/"));
  EXPECT_TRUE(tree.empty());
  EXPECT_FALSE(tree.match("/"));
  EXPECT_FALSE(tree.match("/files/x"));
}

TEST(PathTreeRemove, ConflictingPathCanBeAddedAfterRemoval) {
  const ConflictCase cases[] = {{"/users/:id/posts/:post", "/users/foo"},
                                {"/users/:id", "/users/:name"},
                                {"/files/*path", "/files/x/y"},
                                {"/files/x/y", "/files/*path"},
                                {"/files/*path", "/files/*other"}};
  for (const auto& [old_path, new_path] : cases) {
    auto tree = tree_with({old_path, "/unrelated"});
    ASSERT_TRUE(tree.add(new_path, "new")) << new_path;
    ASSERT_TRUE(tree.remove(old_path)) << old_path;
    EXPECT_FALSE(tree.add(new_path, "new")) << new_path << " after removing " << old_path;
    EXPECT_EQ(served_by(tree, "/unrelated"), "/unrelated");
  }
}

TEST(PathTreeRemove, StaticPathCanReplaceAParameterSubtree) {
  auto tree = tree_with({"/:foo"});
  ASSERT_TRUE(tree.remove("/:foo"));
  ASSERT_FALSE(tree.add("/a", "/a"));
  EXPECT_EQ(served_by(tree, "/a"), "/a");
  EXPECT_EQ(served_by(tree, "/b"), "<none>");
}

// --- many routes ---

TEST(PathTreeScale, TenThousandStaticAndParameterRoutes) {
  constexpr int kRoutes = 10'000;
  std::vector<std::string> paths;
  for (int i = 0; i < kRoutes; ++i) {
    paths.push_back("/static/route" + std::to_string(i));
    paths.push_back("/fn" + std::to_string(i) + "/:id/items/:item");
  }
  std::shuffle(paths.begin(), paths.end(), std::mt19937(7));
  PathTree<std::string> tree;
  for (const auto& path : paths) ASSERT_FALSE(tree.add(path, path)) << path;

  for (int i = 0; i < kRoutes; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_EQ(served_by(tree, "/static/route" + n), "/static/route" + n);
    const std::string request = "/fn" + n + "/u" + n + "/items/x";  // the match's values view it
    const auto match = tree.match(request);
    ASSERT_TRUE(match) << i;
    ASSERT_EQ(*match->value, "/fn" + n + "/:id/items/:item");
    ASSERT_EQ(match->params, (PathParams{{"id", "u" + n}, {"item", "x"}}));
  }
  EXPECT_EQ(served_by(tree, "/static/route" + std::to_string(kRoutes)), "<none>");
  EXPECT_EQ(served_by(tree, "/fn0/u/items"), "<none>");

  for (int i = 0; i < kRoutes; i += 2) ASSERT_TRUE(tree.remove("/static/route" + std::to_string(i)));
  for (int i = 0; i < kRoutes; ++i) {
    const std::string path = "/static/route" + std::to_string(i);
    ASSERT_EQ(served_by(tree, path), i % 2 == 0 ? "<none>" : path);
  }
}

// --- refusal without adding ---

TEST(PathTreeRefusal, SaysWhatAddWouldSayAndChangesNothing) {
  auto tree = tree_with({"/users/:id", "/files/*path"});
  const auto conflict = tree.refusal("/users/:name");
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->reason, Reason::Conflict);
  EXPECT_EQ(conflict->message, tree.add("/users/:name", "x")->message);
  EXPECT_EQ(tree.refusal("/users/:id/")->reason, Reason::Duplicate);
  EXPECT_EQ(tree.refusal("/files/*path")->reason, Reason::Duplicate);
  EXPECT_EQ(tree.refusal("users")->reason, Reason::Invalid);
  EXPECT_FALSE(tree.refusal("/users/:id/posts"));
  EXPECT_EQ(served_by(tree, "/users/:id/posts"), "<none>");
  EXPECT_FALSE(PathTree<std::string>().refusal("/anything"));
}

// --- copies ---

TEST(PathTreeCopies, AChangeToOneCopyDoesNotShowInTheOther) {
  auto original = tree_with({"/a/b", "/users/:id", "/files/*path"});
  auto copy = original;
  ASSERT_FALSE(copy.add("/a/c", "/a/c"));
  ASSERT_TRUE(copy.remove("/users/:id"));
  ASSERT_TRUE(copy.remove("/files/*path"));
  EXPECT_EQ(served_by(original, "/a/c"), "<none>");
  EXPECT_EQ(served_by(original, "/users/1"), "/users/:id");
  EXPECT_EQ(served_by(original, "/files/x"), "/files/*path");
  EXPECT_EQ(served_by(copy, "/a/c"), "/a/c");
  EXPECT_EQ(served_by(copy, "/users/1"), "<none>");
  EXPECT_EQ(served_by(copy, "/files/x"), "<none>");

  // The original, changed after the copy was made, copies what they share too.
  ASSERT_FALSE(original.add("/a/d", "/a/d"));
  ASSERT_TRUE(original.remove("/a/b"));
  EXPECT_EQ(served_by(copy, "/a/d"), "<none>");
  EXPECT_EQ(served_by(copy, "/a/b"), "/a/b");
  // A path freed in one copy can take a conflicting form there only.
  ASSERT_FALSE(copy.add("/users/:name", "/users/:name"));
  EXPECT_EQ(served_by(original, "/users/1"), "/users/:id");
}

TEST(PathTreeCopies, ACopySharesEveryRouteAChangeLeavesInPlace) {
  const auto original = tree_with({"/a", "/a/b", "/c/d"});
  auto copy = original;
  ASSERT_FALSE(copy.add("/a/e", "/a/e"));
  ASSERT_TRUE(copy.remove("/c/d"));
  ASSERT_FALSE(copy.add("/c/d", "/c/d again"));
  // Off the changed paths (/a/b), and on them (/a, whose node was copied), the routes are the same
  // objects in both copies; a route added again is a new one.
  EXPECT_EQ(copy.match("/a")->value, original.match("/a")->value);
  EXPECT_EQ(copy.match("/a/b")->value, original.match("/a/b")->value);
  EXPECT_NE(copy.match("/c/d")->value, original.match("/c/d")->value);
  EXPECT_EQ(served_by(original, "/c/d"), "/c/d");
  EXPECT_EQ(served_by(copy, "/c/d"), "/c/d again");
}

// A node keeps its static children in a small vector, a flat map or shards, by their number
// (path_tree_detail::StaticChildren): each form, and the moves from one to the next, behave alike.
class PathTreeSiblings : public testing::TestWithParam<int> {};

TEST_P(PathTreeSiblings, AnyNumberOfSiblingsBehavesAlike) {
  const int kSiblings = GetParam();
  PathTree<std::string> original;
  for (int i = 0; i < kSiblings; ++i) {
    const auto path = "/r/" + std::to_string(i);
    ASSERT_FALSE(original.add(path, path)) << path;
  }
  auto copy = original;
  ASSERT_FALSE(copy.add("/r/new", "/r/new"));
  ASSERT_TRUE(copy.remove("/r/0"));
  EXPECT_EQ(served_by(original, "/r/0"), "/r/0");
  EXPECT_EQ(served_by(original, "/r/new"), "<none>");
  EXPECT_EQ(served_by(copy, "/r/0"), "<none>");
  EXPECT_EQ(served_by(copy, "/r/new"), "/r/new");
  for (int i = 1; i < kSiblings; ++i) {
    const auto path = "/r/" + std::to_string(i);
    ASSERT_EQ(copy.match(path)->value, original.match(path)->value) << path;
  }

  const auto rejection = copy.add("/r/:id", "/r/:id");
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->reason, Reason::Conflict);
  EXPECT_NE(rejection->message.find("conflicts with existing path \"/r/"), std::string::npos) << rejection->message;
  EXPECT_EQ(copy.refusal("/r/1")->reason, Reason::Duplicate);

  for (int i = 1; i < kSiblings; ++i) ASSERT_TRUE(copy.remove("/r/" + std::to_string(i)));
  ASSERT_TRUE(copy.remove("/r/new"));
  EXPECT_TRUE(copy.empty());
  ASSERT_FALSE(copy.add("/r/:id", "/r/:id"));
  EXPECT_EQ(served_by(copy, "/r/1"), "/r/:id");
  EXPECT_EQ(served_by(original, "/r/1"), "/r/1");
}

using Children = eg::routing::path_tree_detail::StaticChildren<int>;
INSTANTIATE_TEST_SUITE_P(FewInlineAndWide, PathTreeSiblings,
                         testing::Values(2, static_cast<int>(Children::kFewLimit), 20,
                                         static_cast<int>(Children::kInlineLimit), 3000));

// --- validation and normalization ---

TEST(SubscriptionPathValidation, ValidPaths) {
  for (const std::string_view path :
       {"/", "/users", "/users/", "/users/:id", "/users/:user_id/posts/:Post2", "/files/*path",
        "/spaces/:space/*rest", "/files/*path/", "/*all", "/a-b.c_d~e!f$g&h'i(j)k*l+m,n;o=p:q@r",
        "/v1/a:b", "/a*b"}) {
    EXPECT_EQ(validate_subscription_path(path), std::nullopt) << path;
  }
}

TEST(SubscriptionPathValidation, MaximumLength) {
  const std::string longest = "/" + std::string(1023, 'a');
  EXPECT_EQ(validate_subscription_path(longest), std::nullopt);
  EXPECT_EQ(validate_subscription_path(longest + "a"), "path must be at most 1024 characters long");
}

struct InvalidPathCase {
  std::string_view path;
  std::string_view message;
};

TEST(SubscriptionPathValidation, InvalidPaths) {
  const InvalidPathCase cases[] = {
      {"", R"(path must start with "/")"},
      {"users", R"(path must start with "/")"},
      {"//", R"(path must not contain an empty segment ("//"))"},
      {"/a//b", R"(path must not contain an empty segment ("//"))"},
      {"/a//", R"(path must not contain an empty segment ("//"))"},
      {"/users/:", R"(parameter ":" must have a name made of letters, digits and "_")"},
      {"/users/:id-x", R"(parameter ":id-x" must have a name made of letters, digits and "_")"},
      {"/files/*", R"(wildcard parameter "*" must have a name made of letters, digits and "_")"},
      {"/files/*a.b", R"(wildcard parameter "*a.b" must have a name made of letters, digits and "_")"},
      {"/users/*rest/x", R"(wildcard parameter "*rest" must be the last segment of the path)"},
      {"/a%20b", R"(path contains a character that is not allowed: "%")"},
      {"/a?b=1", R"(path contains a character that is not allowed: "?")"},
      {"/a#b", R"(path contains a character that is not allowed: "#")"},
      {"/a b", "path contains a character that is not allowed: 0x20"},
      {"/a\nb", "path contains a character that is not allowed: 0x0A"},
      {"/caf\xC3\xA9", "path contains a character that is not allowed: 0xC3"},
      {"/a\\b", R"(path contains a character that is not allowed: "\")"},
  };
  for (const auto& [path, message] : cases) {
    EXPECT_EQ(validate_subscription_path(path), std::optional<std::string>(message)) << path;
  }
}

TEST(SubscriptionPathNormalization, StripsOneTrailingSlash) {
  EXPECT_EQ(normalize_subscription_path("/"), "/");
  EXPECT_EQ(normalize_subscription_path("/users/"), "/users");
  EXPECT_EQ(normalize_subscription_path("/users"), "/users");
  EXPECT_EQ(normalize_subscription_path("/users/:id/"), "/users/:id");
  EXPECT_EQ(normalize_subscription_path("/files/*path"), "/files/*path");
}

}  // namespace
}  // namespace eg::routing

namespace eg::routing {
namespace {

TEST(PathValidationUniqueNames, RepeatedParameterNamesAreRefused) {
  const auto error = validate_subscription_path("/users/:id/posts/:id");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("\"id\" is used twice"), std::string::npos);
  EXPECT_TRUE(validate_subscription_path("/a/:id/*id"));
  EXPECT_FALSE(validate_subscription_path("/users/:id/posts/:post"));
}

}  // namespace
}  // namespace eg::routing
