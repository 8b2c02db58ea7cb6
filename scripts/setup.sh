#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine, or says what is missing.
# Idempotent and quiet when everything is already there.
set -euo pipefail

need_go="1.26"
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    echo "setup: Go is at /usr/local/go/bin but not on PATH: export PATH=/usr/local/go/bin:\$PATH" >&2
  else
    echo "setup: Go ${need_go} or newer is required (https://go.dev/dl/)" >&2
  fi
  exit 1
fi
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need_go" "$have" | sort -V | head -1)" != "$need_go" ]; then
  echo "setup: Go ${need_go} or newer is required, found ${have}" >&2
  exit 1
fi
go mod download
