#pragma once
// What the gateway was built from: the metrics' gateway_build_info.

#include <string_view>

namespace eg::app {

// The project's version (CMakeLists.txt).
std::string_view build_version();
// The git commit the build was configured at ("unknown" outside a git checkout). Read when CMake
// configures, so a commit made since without configuring again is not seen; scripts/test.sh and
// scripts/dev.sh configure every time.
std::string_view build_commit();

}  // namespace eg::app
