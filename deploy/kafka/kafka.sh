#!/usr/bin/env bash
# Apache Kafka 4 (KRaft, one node acting as broker and controller, 127.0.0.1 only), run from its
# Maven Central jars: no Docker and no Kafka tarball needed, only Java 17+ and Maven.
#
#   kafka.sh fetch                                                 jars into the cache (idempotent)
#   kafka.sh start  --data-dir DIR --port P [--controller-port CP]  background; waits until ready,
#                                                                   prints KAFKA_BOOTSTRAP=127.0.0.1:P
#   kafka.sh run    --data-dir DIR --port P [--controller-port CP]  foreground (exec java), for supervisors
#   kafka.sh stop   --data-dir DIR                                  SIGTERM, after 30 s SIGKILL
#   kafka.sh status --data-dir DIR                                  exit 0 if the broker of DIR is running
#
# DIR holds server.properties, the log segments (DIR/logs), broker.log and kafka.pid. It is formatted
# on first start only, so topics and offsets survive a stop/start. The controller port defaults to P+1.
#
# Environment: KAFKA_JARS_DIR (jar cache, default ~/.cache/otop-kafka/<version>/libs),
# KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m), KAFKA_OPTS (extra JVM options),
# KAFKA_START_TIMEOUT (seconds, default 90), KAFKA_STOP_TIMEOUT (seconds, default 30).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pom=$here/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
jars=${KAFKA_JARS_DIR:-$HOME/.cache/otop-kafka/$version/libs}
start_timeout=${KAFKA_START_TIMEOUT:-90}
stop_timeout=${KAFKA_STOP_TIMEOUT:-30}
install_hint="install OpenJDK 17+ / Maven: apt-get install -y openjdk-17-jre-headless maven"

say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }

require() {  # require java [mvn]
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found: $install_hint"
  done
  local spec
  spec=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  case "$spec" in
    1.*|[0-9]|1[0-6]) die "Java $spec found, Kafka $version needs 17+: $install_hint" ;;
  esac
}

# --- jars -------------------------------------------------------------------------------------------
pom_hash() { sha256sum "$pom" | cut -d' ' -f1; }
fetched() { [ -f "$jars/.complete" ] && [ "$(cat "$jars/.complete")" = "$(pom_hash)" ]; }

fetch() {
  fetched && return 0
  require java mvn
  mkdir -p "$(dirname "$jars")"
  # Concurrent callers (parallel test sessions) wait for one download instead of racing in one dir.
  exec 9>"$jars.lock"
  flock 9
  if ! fetched; then
    say "fetching Apache Kafka $version jars from Maven Central into $jars"
    local tmp="$jars.partial.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    # Maven's output is kept for a failure only (with -q, Maven 3.8 still prints bare colour codes).
    if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
      sed 's/\x1b\[[0-9;]*m//g' "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      die "mvn could not fetch the jars (is Maven Central reachable? a proxy to set in ~/.m2/settings.xml?)"
    fi
    rm -f "$tmp.log"
    pom_hash >"$tmp/.complete"
    rm -rf "$jars"; mv "$tmp" "$jars"
  fi
  exec 9>&-
}

usage() {
  echo "usage: kafka.sh fetch | {start|run} --data-dir DIR --port P [--controller-port CP] | {stop|status} --data-dir DIR" >&2
  exit 2
}
need_dir() {  # need_dir [--existing]: the absolute, symlink-free data dir (created unless --existing)
  [ -n "$data_dir" ] || usage
  if [ "${1:-}" = --existing ] && [ ! -d "$data_dir" ]; then say "not running (no $data_dir)"; exit "$2"; fi
  mkdir -p "$data_dir"; data_dir=$(cd "$data_dir" && pwd -P)
}
need_ports() {
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  cport=${cport:-$((port + 1))}
  [[ "$cport" =~ ^[0-9]+$ ]] && [ "$cport" != "$port" ] || usage
}

# --- process helpers --------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# True if a socket other than a TIME_WAIT one holds local port $1 on 127.0.0.1 or the wildcard address:
# a listener, or an outgoing connection's source port, which would make the broker's bind fail too.
# (Linux hands connect() even source ports first, so port P+1 after a bind(0) port P is a likely one.)
port_taken() {
  port_open "$1" && return 0
  [ -r /proc/net/tcp ] || return 1
  awk -v port="$(printf '%04X' "$1")" '
    FNR > 1 { split($2, local, ":"); if (local[2] == port && $4 != "06" &&
      local[1] ~ /^(0100007F|00000000|00000000000000000000000000000000|00000000000000000000000001000000|0000000000000000FFFF00000100007F)$/) found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
check_ports() {
  port_taken "$port" && die "port $port on 127.0.0.1 is in use (by another process or connection)"
  port_taken "$cport" && die "controller port $cport on 127.0.0.1 is in use (by another process or connection): pass --controller-port"
  return 0
}
pid_of() { cat "$data_dir/kafka.pid" 2>/dev/null || true; }
# A zombie (exited, not yet reaped by a supervisor) counts as gone.
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"; }
# True if the pid file names a live broker of this data dir (not a recycled pid of something else).
pid_alive() {
  local pid; pid=$(pid_of)
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $data_dir/server.properties"
}

java_cmd() {
  # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS / KAFKA_OPTS are word lists on purpose
  local common=(-Djava.awt.headless=true "-Dlog4j2.configurationFile=$here/log4j2.properties"
    "-Dkafka.logs.dir=$data_dir" ${KAFKA_OPTS:-} -cp "$jars/*")
  # shellcheck disable=SC2206
  broker_cmd=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError "${common[@]}" kafka.Kafka "$data_dir/server.properties")
  # Short-lived tool JVMs: C1 only and serial GC start faster on a small machine.
  tool_cmd=(java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${common[@]}" kafka.tools.StorageTool)
}

configure() {
  cat >"$data_dir/server.properties" <<PROPS
# Written by deploy/kafka/kafka.sh on every start: edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data_dir/logs
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=true
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a crash (kill -9) the new incarnation is refused (DUPLICATE_BROKER_REGISTRATION) until the old
# one's session expires: 4 s instead of the default 9 s, so a restarted broker is back in ~5 s, not ~12 s.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
PROPS
  java_cmd
  if [ ! -f "$data_dir/logs/meta.properties" ]; then
    local cluster_id
    "${tool_cmd[@]}" random-uuid >"$data_dir/format.log" 2>&1 || true
    cluster_id=$(grep -E '^[A-Za-z0-9_-]{22}$' "$data_dir/format.log" | tail -1 || true)
    [ -n "$cluster_id" ] || { cat "$data_dir/format.log" >&2; die "StorageTool random-uuid failed"; }
    "${tool_cmd[@]}" format -t "$cluster_id" -c "$data_dir/server.properties" >>"$data_dir/format.log" 2>&1 \
      || { cat "$data_dir/format.log" >&2; die "formatting $data_dir/logs failed"; }
    say "formatted $data_dir/logs (cluster id $cluster_id)"
  fi
}

# Waits until the broker answers on its port and (with --logged) has logged that it started. Fails if
# the process died (then says so) or after the timeout. Without --logged, for a broker found running:
# it may be a `kafka.sh run` one, logging to its supervisor rather than broker.log.
wait_ready() {
  local deadline=$((SECONDS + start_timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if { [ "${1:-}" != --logged ] || grep -q "Kafka Server started" "$data_dir/broker.log" 2>/dev/null; } \
        && port_open "$port"; then
      return 0
    fi
    pid_alive || { say "the broker process exited"; return 1; }
    sleep 0.2
  done
  say "no broker answering on 127.0.0.1:$port after ${start_timeout}s"
  return 1
}

ready() { say "broker pid $(pid_of) ready, data in $data_dir"; echo "KAFKA_BOOTSTRAP=127.0.0.1:$port"; }

# --- commands ---------------------------------------------------------------------------------------
# All in a function, so bash has parsed the whole file before it runs anything: rewriting kafka.sh
# while a start of it is waiting cannot break that start.
main() {
  cmd=${1:-}; shift || true
  data_dir=""; port=""; cport=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --data-dir) data_dir=${2:?--data-dir needs a value}; shift 2 ;;
      --port) port=${2:?--port needs a value}; shift 2 ;;
      --controller-port) cport=${2:?--controller-port needs a value}; shift 2 ;;
      *) say "unknown argument $1"; exit 2 ;;
    esac
  done

  case "$cmd" in
    fetch)
      [ -z "$data_dir$port$cport" ] || usage
      require java; fetch; say "jars ready in $jars" ;;

    start)
      need_ports; need_dir
      exec 8>"$data_dir/.kafka.sh.lock"; flock 8  # one start at a time per data dir
      if pid_alive; then
        wait_ready || die "broker pid $(pid_of) runs for $data_dir but does not answer on port $port"
        say "already running"; ready; exit 0
      fi
      rm -f "$data_dir/kafka.pid"
      require java; fetch
      check_ports; configure
      [ ! -f "$data_dir/broker.log" ] || mv -f "$data_dir/broker.log" "$data_dir/broker.log.1"
      # setsid: a Ctrl-C in the caller's terminal does not reach the broker, so the caller can stop its
      # services first and the broker last. Background jobs of this non-interactive shell stay in its
      # process group, so the child is no group leader and setsid execs in place: $! is java's pid.
      setsid nohup "${broker_cmd[@]}" </dev/null >>"$data_dir/broker.log" 2>&1 8>&- &
      echo $! >"$data_dir/kafka.pid"
      if ! wait_ready --logged; then
        pid_alive && kill -9 "$(pid_of)" 2>/dev/null || true
        rm -f "$data_dir/kafka.pid"
        say "last lines of $data_dir/broker.log:"; tail -40 "$data_dir/broker.log" >&2
        die "the broker did not start"
      fi
      ready ;;

    run)
      need_ports; need_dir
      ! pid_alive || die "broker pid $(pid_of) already runs for $data_dir"
      require java; fetch; check_ports; configure
      echo $$ >"$data_dir/kafka.pid"  # exec keeps the pid
      exec "${broker_cmd[@]}" ;;

    stop)
      [ -z "$port$cport" ] || usage
      need_dir --existing 0
      if pid_alive; then
        pid=$(pid_of)
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + stop_timeout))
        while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        if alive "$pid"; then
          say "broker pid $pid still running ${stop_timeout}s after SIGTERM: SIGKILL"
          kill -KILL "$pid" 2>/dev/null || true
          for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
        fi
        say "stopped broker pid $pid"
      else
        say "not running"
      fi
      rm -f "$data_dir/kafka.pid" ;;

    status)
      [ -z "$port$cport" ] || usage
      need_dir --existing 1
      if pid_alive; then say "running, pid $(pid_of)"; else say "not running"; exit 1; fi ;;

    *) usage ;;
  esac
}

main "$@"
exit
