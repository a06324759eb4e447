#pragma once
// Errors of the configuration service. The Config API maps each kind to one HTTP status, so the
// service never speaks HTTP and the API never guesses.

#include <stdexcept>
#include <string>

namespace eg::config {

class ConfigError : public std::runtime_error {
 public:
  enum class Kind {
    Invalid,        // 400: the request can never succeed as it is
    NotFound,       // 404
    AlreadyExists,  // 409
    Unreadable,     // 500: the stored record cannot be read (GET /v1/status lists it)
  };
  ConfigError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

inline ConfigError invalid(const std::string& message) { return {ConfigError::Kind::Invalid, message}; }
inline ConfigError not_found(const std::string& message) { return {ConfigError::Kind::NotFound, message}; }
inline ConfigError already_exists(const std::string& message) {
  return {ConfigError::Kind::AlreadyExists, message};
}
inline ConfigError unreadable(const std::string& message) { return {ConfigError::Kind::Unreadable, message}; }

}  // namespace eg::config
