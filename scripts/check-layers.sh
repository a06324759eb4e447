#!/usr/bin/env bash
# Keeps the layers of src/ flowing one way (docs/architecture.md, "Layers"): fails, naming the file,
# the line and the rule, when a folder includes a folder it may not use. Needs only bash and grep,
# and runs in a fraction of a second, so scripts/test.sh runs it before anything is built.
#
# Each top-level folder of src/ is a layer, and may include its own headers and those of the layers
# listed for it here, which are all below it. A folder of src/ missing from this table fails the
# check: give it its place. Includes that name no folder of src/ (the generated "etcd/rpc.grpc.pb.h",
# system headers in quotes) are not checked.
#
# Within src/providers, one folder per function type: a type's folder may use the shared files at
# the top of src/providers and the shared AWS code in src/providers/aws, never another type's
# folder, so that adding or removing a type touches nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A may_include=(
  [common]=""
  [metrics]="common"
  [net]="common"
  [model]="common"
  [store]="common model"
  [providers]="common net model"
  [auth]="common net model"
  [plugin]="common metrics"
  [observe]="common"
  [routing]="common model store providers"
  [delivery]="common net model providers routing"
  [config]="common metrics net model store providers routing delivery auth observe"
  [events]="common metrics net model providers routing delivery auth plugin observe"
  [app]="common metrics net model store providers routing config delivery events auth plugin observe"
)

# Known exceptions, "file -> included folder", each with the reason it is still there. Keep this
# list empty; an entry is a debt with a name on it.
declare -A exceptions=(
)

failures=0
fail() {
  echo "check-layers: $*" >&2
  failures=$((failures + 1))
}

layer_of() {  # src/<layer>/... or src/main.cpp (the process: app)
  local path=${1#src/}
  if [[ $path == */* ]]; then echo "${path%%/*}"; else echo app; fi
}

for folder in src/*/; do
  folder=${folder#src/}
  folder=${folder%/}
  [[ -v may_include[$folder] ]] || fail "src/$folder/ has no place among the layers: add it to scripts/check-layers.sh and docs/architecture.md"
done

while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  include=${rest#*:}
  include=${include#*\"}
  include=${include%%\"*}
  [[ $include == */* ]] || continue
  target=${include%%/*}
  [[ -d src/$target ]] || continue  # generated or system headers
  layer=$(layer_of "$file")
  [[ $target == "$layer" ]] && continue
  [[ -v may_include[$layer] ]] || continue  # reported above
  [[ " ${may_include[$layer]} " == *" $target "* ]] && continue
  [[ $layer == app ]] && continue
  [[ -v exceptions["$file -> $target"] ]] && continue
  fail "$file:$line includes \"$include\": $layer may use only: ${may_include[$layer]:-nothing but itself}"
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src --include='*.h' --include='*.cpp' || true)

# One folder per function type.
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  include=${rest#*:}
  include=${include#*\"}
  include=${include%%\"*}
  [[ $include == providers/*/* ]] || continue
  own=${file#src/providers/}
  own=${own%%/*}
  used=${include#providers/}
  used=${used%%/*}
  [[ $used == "$own" || $used == aws ]] && continue
  fail "$file:$line includes \"$include\": a provider's folder uses only its own files, the top of src/providers and src/providers/aws"
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src/providers/*/ --include='*.h' --include='*.cpp' || true)

for exception in "${!exceptions[@]}"; do
  file=${exception%% -> *}
  target=${exception##* -> }
  grep -qE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$target/" "$file" 2>/dev/null ||
    fail "the exception \"$exception\" is no longer needed: remove it from scripts/check-layers.sh"
done

if ((failures > 0)); then
  echo "check-layers: $failures problem(s); the layers are described in docs/architecture.md" >&2
  exit 1
fi
echo "check-layers: every include in src/ follows the layers"
