#include <algorithm>
#include <memory>

#include "providers/awsfirehose/awsfirehose_provider.h"
#include "providers/awskinesis/awskinesis_provider.h"
#include "providers/awslambda/awslambda_provider.h"
#include "providers/http/http_provider.h"
#include "providers/provider.h"

namespace eg::providers {
namespace {

// Every function type the gateway knows, sorted by type name. A new provider is one line here.
const std::vector<std::unique_ptr<Provider>>& all_providers() {
  static const auto providers = [] {
    std::vector<std::unique_ptr<Provider>> list;
    list.push_back(std::make_unique<AwsFirehoseProvider>());
    list.push_back(std::make_unique<AwsKinesisProvider>());
    list.push_back(std::make_unique<AwsLambdaProvider>());
    list.push_back(std::make_unique<HttpProvider>());
    return list;
  }();
  return providers;
}

class FailingTarget final : public CallTarget {
 public:
  explicit FailingTarget(std::string error) : error_(std::move(error)) {}
  boost::asio::awaitable<CallResult> call(const std::string& /*payload*/, const CallMarks& /*marks*/,
                                          CallContext& /*context*/) const override {
    co_return CallResult{.outcome = CallResult::Outcome::Unreachable, .error = error_, .retryable = false};
  }

 private:
  std::string error_;
};

}  // namespace

std::shared_ptr<const CallTarget> failing_target(std::string error) {
  return std::make_shared<const FailingTarget>(std::move(error));
}

std::shared_ptr<const CompiledFunction> compile_function(model::Function function) {
  const auto* provider = find_provider(function.type);
  auto target = provider != nullptr ? provider->compile(function)
                                    : failing_target("unknown function type " + function.type);
  return std::make_shared<const CompiledFunction>(
      CompiledFunction{.function = std::move(function), .target = std::move(target)});
}

const std::vector<std::string_view>& Provider::secret_fields() const {
  static const std::vector<std::string_view> none;
  return none;
}

std::optional<std::string> Provider::destination_url(const boost::json::object&) const {
  return std::nullopt;
}

const Provider* find_provider(std::string_view type) {
  const auto& providers = all_providers();
  const auto found = std::find_if(providers.begin(), providers.end(),
                                  [type](const auto& provider) { return provider->type() == type; });
  return found == providers.end() ? nullptr : found->get();
}

std::string known_provider_types() {
  std::string types;
  for (const auto& provider : all_providers()) {
    if (!types.empty()) types += ", ";
    types += provider->type();
  }
  return types;
}

}  // namespace eg::providers
