#!/bin/sh
# The image's entrypoint: `concord <process> [args...]` starts one Concord process as PID 1 (exec, so SIGTERM reaches
# node, which drains in-flight calls for CONCORD_SHUTDOWN_GRACE_MS); any other command runs as given.
set -eu
cd /app
cmd="${1:-controller}"
[ "$#" -gt 0 ] && shift
case "$cmd" in
  relation | leadership | meterstatus | multiwatcher)
    exec node --import tsx "services/$cmd/src/main.ts" "$@"
    ;;
  controller)
    # In a container the all-in-one listens on every interface (its default outside one is 127.0.0.1).
    CONCORD_ADDR="${CONCORD_ADDR:-0.0.0.0:17070}"
    export CONCORD_ADDR
    exec node packages/controller/bin/concord-controller.mjs "$@"
    ;;
  gateway)
    # One address for clients; backends from CONCORD_RELATION_ADDR, ..._LEADERSHIP_, ..._METERSTATUS_, ..._MULTIWATCHER_.
    exec node packages/controller/bin/concord-gateway.mjs "$@"
    ;;
  migrate) exec node packages/controller/bin/concord-migrate.mjs "$@" ;;
  token) exec node packages/controller/bin/concord-token.mjs "$@" ;;
  health) exec node deploy/image/health-check.mjs "$@" ;;
  help | -h | --help)
    echo "usage: concord relation|leadership|meterstatus|multiwatcher|gateway|controller|migrate [service...]|token issue <identity>|health [host:port] [service]"
    ;;
  *) exec "$cmd" "$@" ;;
esac
