#pragma once
// What the harnesses share: turning the input into text, and checking an invariant. A broken
// invariant prints what broke and aborts, which libFuzzer records as a crash with the input that
// caused it (fuzz/README.md says how that becomes a unit test).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace eg::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The lines of `text`, without their '\n'.
inline std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

[[noreturn]] inline void fail(std::string_view invariant, std::string_view detail = {}) {
  // fwrite rather than printf's %s, which would stop at a NUL in the detail.
  std::fputs("\ninvariant broken: ", stderr);
  std::fwrite(invariant.data(), 1, invariant.size(), stderr);
  std::fputc('\n', stderr);
  std::fwrite(detail.data(), 1, detail.size(), stderr);
  std::fputc('\n', stderr);
  std::abort();
}

inline void check(bool holds, std::string_view invariant, std::string_view detail = {}) {
  if (!holds) fail(invariant, detail);
}

}  // namespace eg::fuzz
