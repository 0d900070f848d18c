#!/usr/bin/env bash
# Starts (or stops, with "stop") an nginx on 127.0.0.1:8089 that answers 200 to
# every request: a neutral loopback target for the traffic benchmarks.
set -euo pipefail
dir=/tmp/mtls-console-nginx
if [ "${1:-}" = stop ]; then
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    exit 0
fi
mkdir -p "$dir"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:8089 reuseport backlog=4096;
        location / { return 200 'ok'; }
    }
}
CONF
nginx -c "$dir/nginx.conf"
echo "nginx answering 200 on http://127.0.0.1:8089/"
