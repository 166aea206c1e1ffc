#!/usr/bin/env bash
# Fails when the committed generated code under Sources/ProtoMessages and Sources/ProtoStubs is not
# what Protos/ generates.
# - With the protoc plugins built (`make plugins`): regenerates everything into a temporary folder
#   and diffs it against the tree.
# - Without them (CI never builds the plugins): compares the descriptor set that `protoc` makes of
#   Protos/ today with the one embedded by the last generation; both come from the same protoc run,
#   so a proto edited without regenerating is caught.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
plugins=${PLUGIN_DIR:-$root/.build-protoc/debug}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -x "$plugins/protoc-gen-swift" ] && [ -x "$plugins/protoc-gen-grpc-swift-2" ]; then
  "$root/scripts/generate-protos.sh" "$work"
  for module in ProtoMessages ProtoStubs; do
    diff -r -x EmbeddedDescriptors.swift "$work/$module" "$root/Sources/$module" \
      || { echo "check-protos: Sources/$module is stale; run 'make protos'" >&2; exit 1; }
  done
  echo "check-protos: generated code matches Protos/ (full regeneration)"
else
  cd "$root/Protos"
  protoc --include_imports --descriptor_set_out="$work/now.pb" echo.proto \
    grpc/health/v1/health.proto grpc/reflection/v1/reflection.proto \
    grpc/reflection/v1alpha/reflection.proto
  python3 - "$root/Sources/ProtoMessages/FileDescriptorSet+Embedded.swift" "$work/embedded.pb" <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
blob = re.search(r'"""\n(.*?)\n\s*"""', text, re.S).group(1)
open(sys.argv[2], "wb").write(base64.b64decode("".join(blob.split())))
PY
  cmp -s "$work/now.pb" "$work/embedded.pb" \
    || { echo "check-protos: Protos/ changed since the code was generated; run 'make protos'" >&2; exit 1; }
  echo "check-protos: Protos/ matches the generated code (descriptor check; 'make plugins' for a full diff)"
fi
