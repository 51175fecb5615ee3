# Shared helpers for scripts/run, scripts/test and .ci/run. Source it; do not execute it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GENESYS_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mError:\033[0m %s\n' "$*" >&2; exit 1; }

# Create the virtual environment and install the pinned requirements: the runtime set
# (requirements.txt) and the test and lint tools (requirements-dev.txt, which includes it). Installs
# again only when either file changes: the stamp is a hash of both.
bootstrap_venv() {
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || die "$python not found; install Python 3.11 or newer."
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "Python 3.11 or newer is required ($("$python" --version 2>&1) found); set PYTHON=/path/to/python3.11."
  if [ ! -x "$PY" ]; then
    say "Creating the virtual environment in $VENV"
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.requirements.sha256"
  local want; want="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing the pinned requirements"
    "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt"
    echo "$want" > "$stamp"
  fi
}

# Make sure a Redis answers at the URL; start a private one on the same port if it is local and
# redis-server is installed, otherwise explain how to get Redis.
ensure_redis() {
  local url="$1"
  if "$PY" - "$url" <<'PYEOF' 2>/dev/null; then return 0; fi
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()
PYEOF
  local host port
  read -r host port < <("$PY" -c 'import sys; from urllib.parse import urlsplit; u = urlsplit(sys.argv[1]); print(u.hostname or "127.0.0.1", u.port or 6379)' "$url")
  case "$host" in
    127.0.0.1|localhost|::1) ;;
    *) die "Redis does not answer at $host:$port. Start it there, or point REDIS_URL at a Redis you can reach." ;;
  esac
  if ! command -v redis-server >/dev/null; then
    die "Redis does not answer at $host:$port and redis-server is not installed.
Install it (Debian/Ubuntu: sudo apt install redis-server; macOS: brew install redis) or run
  docker run -d -p $port:6379 redis:7
then run this command again."
  fi
  say "Starting a private Redis on 127.0.0.1:$port (data in memory only; stop it with: redis-cli -p $port shutdown nosave)"
  mkdir -p "$ROOT/var/redis"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$ROOT/var/redis" --pidfile "$ROOT/var/redis/redis-$port.pid" \
    --logfile "$ROOT/var/redis/redis-$port.log" >/dev/null
  for _ in $(seq 1 50); do
    if "$PY" -c 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()' "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  die "Started redis-server but it does not answer on port $port; see $ROOT/var/redis/redis-$port.log"
}
