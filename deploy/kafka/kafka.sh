#!/usr/bin/env bash
# Apache Kafka (KRaft, single node, 127.0.0.1) from its Maven Central jars: no Docker needed.
#   kafka.sh fetch                                  jars into $KAFKA_JARS_DIR (cached; idempotent)
#   kafka.sh start --data-dir DIR --port P [--controller-port CP]   background; waits until ready
#   kafka.sh run   --data-dir DIR --port P [--controller-port CP]   foreground (for supervisors)
#   kafka.sh stop  --data-dir DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
jars=${KAFKA_JARS_DIR:-$HOME/.cache/otop-kafka/$version/libs}

require() {
  command -v java >/dev/null 2>&1 || { echo "kafka.sh: java not found: install OpenJDK 17+ (apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }
  if [ "${1:-}" = mvn ]; then
    command -v mvn >/dev/null 2>&1 || { echo "kafka.sh: mvn not found: install Maven (apt-get install -y maven)" >&2; exit 1; }
  fi
}

fetch() {
  [ -f "$jars/.complete" ] && return 0
  require mvn
  echo "kafka.sh: fetching Apache Kafka $version jars into $jars" >&2
  rm -rf "$jars"; mkdir -p "$jars"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$jars" >&2
  touch "$jars/.complete"
}

cmd=${1:-}; shift || true
data_dir=""; port=""; cport=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --controller-port) cport=$2; shift 2 ;;
    *) echo "kafka.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_alive() { [ -f "$data_dir/kafka.pid" ] && kill -0 "$(cat "$data_dir/kafka.pid")" 2>/dev/null; }

configure() {
  [ -n "$data_dir" ] && [ -n "$port" ] || { echo "kafka.sh: --data-dir and --port are required" >&2; exit 2; }
  cport=${cport:-$((port + 1))}
  mkdir -p "$data_dir"
  data_dir=$(cd "$data_dir" && pwd)
  cat >"$data_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data_dir/logs
num.partitions=6
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
PROPS
  java_cmd=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$here/log4j2.properties" -cp "$jars/*")
  if [ ! -f "$data_dir/logs/meta.properties" ]; then
    "${java_cmd[@]}" kafka.tools.StorageTool format -t "$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid)" \
      -c "$data_dir/server.properties" >"$data_dir/format.log" 2>&1 || { cat "$data_dir/format.log" >&2; exit 1; }
  fi
}

case "$cmd" in
  fetch) require mvn; fetch ;;
  start)
    require; fetch; configure
    if pid_alive && port_open "$port"; then echo "KAFKA_BOOTSTRAP=127.0.0.1:$port"; exit 0; fi
    : >"$data_dir/broker.log"
    nohup "${java_cmd[@]}" kafka.Kafka "$data_dir/server.properties" >>"$data_dir/broker.log" 2>&1 &
    echo $! >"$data_dir/kafka.pid"
    for _ in $(seq 1 900); do
      if grep -q "Kafka Server started" "$data_dir/broker.log" && port_open "$port"; then
        echo "KAFKA_BOOTSTRAP=127.0.0.1:$port"; exit 0
      fi
      pid_alive || break
      sleep 0.1
    done
    echo "kafka.sh: broker did not start; last log lines:" >&2; tail -40 "$data_dir/broker.log" >&2
    exit 1 ;;
  run)
    require; fetch; configure
    exec "${java_cmd[@]}" kafka.Kafka "$data_dir/server.properties" ;;
  stop)
    [ -n "$data_dir" ] || { echo "kafka.sh: --data-dir is required" >&2; exit 2; }
    if pid_alive; then
      pid=$(cat "$data_dir/kafka.pid"); kill "$pid"
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$data_dir/kafka.pid" ;;
  *) echo "usage: kafka.sh fetch | start|run --data-dir DIR --port P [--controller-port CP] | stop --data-dir DIR" >&2; exit 2 ;;
esac
