#!/usr/bin/env bash
# `npm run generate`: every generated client from proto/, with pinned local tools only (the Buf Schema
# Registry is not reachable from our machines). The tools are installed once into .flowgate/tools:
#   gen/                  TypeScript (protoc-gen-es, from npm)                    buf.gen.yaml
#   clients/go/flowgate/  Go (protoc-gen-go, protoc-gen-connect-go: go install)   buf.gen.go.yaml
#   clients/python/src/   Python (grpcio-tools from PyPI: messages, .pyi types, gRPC stubs)
# Everything here is committed and never edited by hand; CI runs this and fails when it changes anything.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO=v1.36.12        # google.golang.org/protobuf
PROTOC_GEN_CONNECT_GO=v1.19.2 # connectrpc.com/connect
GRPCIO_TOOLS=1.85.1           # PyPI grpcio-tools (bundles protoc and the gRPC Python plugin)
tools=.flowgate/tools

go_tool() { # name module version
  local dir="$tools/$1-$3"
  if [ ! -x "$dir/$1" ]; then
    echo "installing $2@$3 into $dir" >&2
    GOBIN="$PWD/$dir" GOFLAGS=-mod=mod go install "$2@$3"
  fi
}
go_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO"
go_tool protoc-gen-connect-go connectrpc.com/connect/cmd/protoc-gen-connect-go "$PROTOC_GEN_CONNECT_GO"

grpc_tools="$tools/grpcio-tools-$GRPCIO_TOOLS"
if [ ! -f "$grpc_tools/.complete" ]; then
  echo "installing grpcio-tools==$GRPCIO_TOOLS into $grpc_tools" >&2
  python3 -m pip install --quiet --disable-pip-version-check --no-input --upgrade --target "$grpc_tools" "grpcio-tools==$GRPCIO_TOOLS"
  touch "$grpc_tools/.complete"
fi

npx --no-install buf generate
npx --no-install buf generate --template buf.gen.go.yaml --path proto/flowgate

# Python: grpc_tools' protoc reads the module buf compiled (so imports resolve exactly as buf resolves them).
# The package carries buf/validate (no PyPI package ships it for the standard protobuf runtime); google/api
# comes from googleapis-common-protos, which every Google Python library already depends on.
image="$(mktemp -d)/flowgate.binpb"
npx --no-install buf build -o "$image"
out=clients/python/src
rm -rf "$out/flowgate" "$out/buf"
mkdir -p "$out"
mapfile -t files < <(cd proto && find flowgate buf -name '*.proto' | LC_ALL=C sort)
PYTHONPATH="$grpc_tools" python3 -m grpc_tools.protoc --descriptor_set_in="$image" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" "${files[@]}"
rm -rf "$(dirname "$image")"
# Regular packages (not namespace ones), so `import flowgate.workflow.v1` finds this copy first.
find "$out/flowgate" "$out/buf" -type d -exec sh -c 'for d; do touch "$d/__init__.py"; done' sh {} +
# PEP 561: type checkers read the .pyi stubs of a package that says it has them.
touch "$out/flowgate/py.typed" "$out/buf/py.typed"
# protoc writes a gRPC module for every file; drop those of files that declare no service.
grep -rL --include='*_pb2_grpc.py' '^class .*Stub' "$out" | xargs -r rm
