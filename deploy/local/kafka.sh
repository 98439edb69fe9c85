#!/usr/bin/env bash
# Runs the official Apache Kafka broker (KRaft, one node acting as broker and controller)
# from Maven Central jars with the machine's Java 17 — no Docker needed.
#   kafka.sh start | stop | status
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), NYPROD_RUN_DIR (<repo>/.run);
# with KAFKA_BOOTSTRAP_SERVERS set, `start` does nothing: the user's broker is used.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/deploy/local/kafka"
LIB="$ROOT/.cache/kafka/lib"
RUN="${NYPROD_RUN_DIR:-$ROOT/.run}/kafka"
PORT="${KAFKA_PORT:-9092}"
CPORT="${KAFKA_CONTROLLER_PORT:-9093}"
PIDFILE="$RUN/kafka.pid"

log() { echo "kafka: $*" >&2; }

fetch_jars() {
  if ls "$LIB"/kafka_2.13-*.jar >/dev/null 2>&1; then return; fi
  command -v java >/dev/null || { log "java 17+ is required (apt-get install openjdk-17-jre-headless)"; exit 1; }
  command -v mvn >/dev/null || { log "installing maven"; apt-get update -q >/dev/null && apt-get install -y -q maven >/dev/null; }
  log "resolving broker jars from Maven Central into $LIB"
  mvn -B -q -f "$HERE/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIB"
}

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if running; then log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"; return; fi
  if port_open "$PORT"; then log "port $PORT is taken by another process; set KAFKA_PORT or KAFKA_BOOTSTRAP_SERVERS"; exit 1; fi
  fetch_jars
  mkdir -p "$RUN/data" "$RUN/logs"
  sed -e "s#@PORT@#$PORT#g" -e "s#@CPORT@#$CPORT#g" -e "s#@DATA@#$RUN/data#g" \
      "$HERE/server.properties.in" > "$RUN/server.properties"
  # A local broker lives for minutes, on a machine it shares with everything else: the serial
  # collector, and only the JIT's quick tier (the optimising one spent half of a fresh broker's CPU
  # in a booking rush compiling, work a long-lived broker would earn back and this one never does).
  local jopts=(-Xms128m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
               -Dkafka.logs.dir="$RUN/logs" -Dlog4j2.configurationFile="$HERE/log4j2.properties")
  if [[ ! -f "$RUN/data/meta.properties" ]]; then
    local cid
    cid=$(java "${jopts[@]}" -cp "$LIB/*" kafka.tools.StorageTool random-uuid)
    java "${jopts[@]}" -cp "$LIB/*" kafka.tools.StorageTool format --standalone -t "$cid" \
        -c "$RUN/server.properties" --ignore-formatted >/dev/null
  fi
  : > "$RUN/logs/server.log"
  nohup java "${jopts[@]}" -cp "$LIB/*" kafka.Kafka "$RUN/server.properties" \
      > "$RUN/logs/kafka.out" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 120); do
    if grep -q "Kafka Server started" "$RUN/logs/server.log" 2>/dev/null && port_open "$PORT"; then
      # the log line and an open port are not enough: wait until a message goes in and comes out
      if [[ -x "$ROOT/.venv/bin/python" ]] && ! "$ROOT/.venv/bin/python" "$ROOT/deploy/local/kafka_ready.py" "127.0.0.1:$PORT" 60; then
        exit 1
      fi
      log "started (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"; return
    fi
    running || { log "broker exited; see $RUN/logs/kafka.out and server.log"; tail -5 "$RUN/logs/kafka.out" >&2; exit 1; }
    sleep 0.5
  done
  log "not ready after 60 s; see $RUN/logs/server.log"; exit 1
}

stop() {
  if ! running; then log "not running"; return; fi
  local pid; pid=$(cat "$PIDFILE")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; log "stopped"; return; }; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$PIDFILE"; log "killed after 30 s"
}

case "${1:-}" in
  start)
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then log "using KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS (no local broker)"; exit 0; fi
    start ;;
  stop) stop ;;
  status) if running; then echo "running (pid $(cat "$PIDFILE"))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
