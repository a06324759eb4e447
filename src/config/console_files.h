#pragma once
// The web console's files, src/config/console/index.html, app.js and style.css, byte for byte, as
// they were when the gateway was built (cmake/console.cmake generates the definitions). The
// Configuration API serves them at /console, /console/app.js and /console/style.css (docs/console.md).

#include <string_view>

namespace eg::config {

std::string_view console_page();
std::string_view console_script();
std::string_view console_style();

}  // namespace eg::config
