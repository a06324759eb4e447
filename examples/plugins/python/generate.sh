#!/usr/bin/env bash
# Regenerates reacter_pb2.py and reacter_pb2_grpc.py from proto/plugin/v1/reacter.proto with Debian's
# protoc (protobuf-compiler) and gRPC plugin (protobuf-compiler-grpc), the versions that match
# python3-protobuf and python3-grpcio. The stubs are checked in so that running a plugin needs no
# compiler; `generate.sh --check` exits 1 when they differ from what the proto gives (a test runs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
proto_dir="$here/../../../proto/plugin/v1"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
protoc -I "$proto_dir" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin reacter.proto

if [ "${1:-}" = "--check" ]; then
  for stub in reacter_pb2.py reacter_pb2_grpc.py; do
    if ! cmp -s "$out/$stub" "$here/$stub"; then
      echo "$here/$stub is out of date with reacter.proto: run $0" >&2
      exit 1
    fi
  done
  exit 0
fi
cp "$out/reacter_pb2.py" "$out/reacter_pb2_grpc.py" "$here/"
