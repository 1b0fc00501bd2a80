#!/usr/bin/env bash
# Regenerates the FFM bindings of jextract/mplug_native.h into java/dev/mplug/nativeops/mplug_native_h.java.
# Needs jextract (https://jdk.java.net/jextract/) on PATH or in $JEXTRACT. It is not obtainable on the project's build
# machines, so the checked-in bindings follow jextract's output style and NativeSymbolsTest checks that they cover every
# function of the header and that the built library exports each one.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JEXTRACT="${JEXTRACT:-jextract}"
command -v "$JEXTRACT" >/dev/null 2>&1 || { echo "jextract not found (set JEXTRACT=/path/to/jextract/bin/jextract)" >&2; exit 1; }

HEADER="$ROOT/jextract/mplug_native.h"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

# Only the API of the header (no libc), the library found through the class loader (NativeLibrary System.load()s it
# after JavaCPP has loaded libtorch), one header class.
"$JEXTRACT" \
  --output "$OUT" \
  --target-package dev.mplug.nativeops \
  --header-class-name mplug_native_h \
  -D MPLUG_NATIVE_EXPORTS \
  $(grep -oE '\bmplug_[a-z_]+\s*\(' "$HEADER" | tr -d '( ' | sort -u | sed 's/^/--include-function /') \
  $(grep -oE '#define (MPLUG_OK|MPLUG_ERR_[A-Z]+|MPLUG_DTYPE_[A-Z0-9]+)' "$HEADER" | awk '{print "--include-constant " $2}') \
  --include-typedef mplug_tensor \
  "$HEADER"

cp "$OUT/dev/mplug/nativeops/"*.java "$ROOT/java/dev/mplug/nativeops/"
echo "bindings written to java/dev/mplug/nativeops/; run ./mplug test -Dtest=NativeSymbolsTest"
