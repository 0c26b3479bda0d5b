#!/usr/bin/env bash
# Set up, build and start cinder with the demo app: ws://localhost:4000/socket/websocket
# Extra arguments go to cinder (see build/server/cinder --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/server/cinder "$@"
