#!/usr/bin/env bash
# Apache Kafka 4 (KRaft; each node acts as broker and controller), run from its Maven Central jars:
# no Docker and no Kafka tarball needed, only Java 17+, Maven and openssl. One node, or a cluster of nodes
# started with the same --voters and --shared-dir (below).
#
#   kafka.sh fetch                                   jars into the cache (idempotent)
#   kafka.sh start  --data-dir DIR --port P [opts]   background; waits until ready, prints KAFKA_BOOTSTRAP=...,
#                                                    KAFKA_SSL_BOOTSTRAP=..., KAFKA_CA_FILE=..., KAFKA_ADMIN_*=...
#   kafka.sh run    --data-dir DIR --port P [opts]   foreground (exec java), for supervisors and containers
#   kafka.sh config --data-dir DIR --port P [opts]   writes DIR/server.properties only (to check it)
#   kafka.sh stop   --data-dir DIR                   SIGTERM, after 30 s SIGKILL
#   kafka.sh status --data-dir DIR                   exit 0 if the broker of DIR is running
# opts: --ssl-port SP (default P+2)  --controller-port CP (default P+1)
#       --host H (where the client listeners bind, default 127.0.0.1; 0.0.0.0 in a container)
#       --advertised-host A (the name clients of CLIENT are sent back to, default H)
#       --external-host E (the name clients of EXTERNAL are sent back to, default A; in the TLS certificate)
#       --node-id N (default 1)  --voters ID@HOST:CPORT,... (the controller quorum, default N@A:CP)
#       --shared-dir S (default DIR: where the nodes of one cluster keep what they share, below)
#       --client-tls (CLIENT is SASL_SSL too; brokers then replicate over TLS, trusting S/tls/ca.crt)
#
# A cluster: each node its own DIR, ports and --node-id, all with the same --voters (every node is a
# controller voter and a broker: combined roles, fine for a local or small cluster; a large one runs
# dedicated controllers) and the same --shared-dir, which holds the cluster id, the super user's password
# and the TLS material (one certificate, for localhost/127.0.0.1/E, that every node serves). Start the
# nodes together: a broker is ready only once a majority of the voters runs. With 3 or more voters, topics
# get replication factor 3 and min.insync.replicas 2 (the internal ones too), and no unclean leader
# election: a record acknowledged to acks=all is on 2 brokers at least, and one broker's loss loses none.
#
# Security (docs/security.md): every client listener authenticates with SASL/SCRAM.
#   CLIENT    SASL_PLAINTEXT on H:P    the services, inside the deployment's network; SCRAM-SHA-256 only
#             (SASL_SSL with --client-tls: the same certificate as EXTERNAL, e.g. in Kubernetes)
#   EXTERNAL  SASL_SSL on H:SP         what POS integrations reach; TLS with a certificate of DIR's own CA;
#             SCRAM-SHA-512 only
#   CONTROLLER SASL_PLAINTEXT on H:CP  the KRaft quorum and the brokers' registrations (SASL/PLAIN as the
#              super user: SCRAM users live in the metadata the controllers serve, so they cannot log them in)
# Who may log in where follows from the SCRAM mechanism (the broker keeps a credential per user and
# mechanism): the super user and the services have SCRAM-SHA-256 credentials only, POS integrations
# SCRAM-SHA-512 only (shared/kafka_access.py), so on EXTERNAL a service's or the super user's password is
# refused like a wrong one, and an integration cannot log in on CLIENT.
# The StandardAuthorizer denies what no ACL allows. The super user (KAFKA_ADMIN_USERNAME, default otop-admin)
# is created at format time with the password in S/admin.password (made on first start, mode 600, or
# KAFKA_ADMIN_PASSWORD; it reaches the formatting JVM in an argument file, never on a command line); it
# administers (topics, principals: deploy/kafka/provision.py) and is the identity brokers use towards each
# other (replication) and towards the controllers, nothing else.
# S/tls holds ca.crt (give it to clients), broker.p12 and its password; no private key leaves S.
#
# DIR holds server.properties, the log segments (DIR/logs), broker.log and kafka.pid. It is formatted
# on first start only, so topics, offsets, users and ACLs survive a stop/start.
#
# Environment: KAFKA_JARS_DIR (jars, default ~/.cache/otop-kafka/<version>/libs; a directory given here
# is used as it is, e.g. /opt/kafka/libs of the apache/kafka image), KAFKA_ADMIN_USERNAME,
# KAFKA_ADMIN_PASSWORD and KAFKA_CLUSTER_ID (first start only), KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m),
# KAFKA_OPTS (extra JVM options), KAFKA_START_TIMEOUT (seconds, default 180), KAFKA_STOP_TIMEOUT (seconds,
# default 30).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pom=$here/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
jars=${KAFKA_JARS_DIR:-$HOME/.cache/otop-kafka/$version/libs}
admin_user=${KAFKA_ADMIN_USERNAME:-otop-admin}
start_timeout=${KAFKA_START_TIMEOUT:-180}
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
fetched() {
  [ -n "${KAFKA_JARS_DIR:-}" ] && compgen -G "$jars/kafka_2.13-*.jar" >/dev/null && return 0  # given, not fetched
  [ -f "$jars/.complete" ] && [ "$(cat "$jars/.complete")" = "$(pom_hash)" ]
}

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
  echo "usage: kafka.sh fetch | {start|run|config} --data-dir DIR --port P [--ssl-port SP] [--controller-port CP]" \
       "[--host H] [--advertised-host A] [--external-host E] [--node-id N] [--voters V] [--shared-dir S]" \
       "[--client-tls]" \
       "| {stop|status} --data-dir DIR" >&2
  exit 2
}
need_dir() {  # need_dir [--existing]: the absolute, symlink-free data dir (created unless --existing)
  [ -n "$data_dir" ] || usage
  if [ "${1:-}" = --existing ] && [ ! -d "$data_dir" ]; then say "not running (no $data_dir)"; exit "$2"; fi
  mkdir -p "$data_dir"; data_dir=$(cd "$data_dir" && pwd -P)
  shared_dir=${shared_dir:-$data_dir}
  mkdir -p "$shared_dir"; shared_dir=$(cd "$shared_dir" && pwd -P)
}
need_ports() {
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  cport=${cport:-$((port + 1))}
  sport=${sport:-$((port + 2))}
  [[ "$cport" =~ ^[0-9]+$ ]] && [[ "$sport" =~ ^[0-9]+$ ]] || usage
  [ "$cport" != "$port" ] && [ "$sport" != "$port" ] && [ "$sport" != "$cport" ] || usage
  host=${host:-127.0.0.1}
  advertised=${advertised:-$host}
  external=${external:-$advertised}
  [ "$advertised" != 0.0.0.0 ] || die "--advertised-host is needed with --host 0.0.0.0"
  node_id=${node_id:-1}
  [[ "$node_id" =~ ^[0-9]+$ ]] || usage
  voters=${voters:-$node_id@$advertised:$cport}
  [[ ",$voters," == *",$node_id@"* ]] || die "--voters $voters names no node $node_id"
  nodes=$(tr ',' '\n' <<<"$voters" | grep -c .)
  # Replicas per partition and the in-sync ones an acks=all write needs: 3 and 2 on a cluster of 3 or more.
  replicas=$((nodes < 3 ? nodes : 3))
  min_isr=$((replicas > 1 ? replicas - 1 : 1))
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
  port_taken "$sport" && die "TLS port $sport on 127.0.0.1 is in use (by another process or connection): pass --ssl-port"
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
  tool_jvm=(java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${common[@]}")
  tool_cmd=("${tool_jvm[@]}" kafka.tools.StorageTool)
}

# A secret kept in a file of DIR (mode 600): the given value on first use, else a random one.
kept_secret() {  # kept_secret FILE [VALUE]
  if [ ! -s "$1" ]; then
    (umask 077; printf '%s' "${2:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}" >"$1")
  fi
  cat "$1"
}

# The listener integrations reach is TLS: a CA of S's own signs the brokers' certificate (EC P-256, names:
# localhost, 127.0.0.1 and the external host). Made once; delete S/tls to make new ones. Given (S/tls with
# ca.crt, broker.p12 and broker.p12.password, e.g. a Kubernetes secret), it is used as it is.
make_tls() {
  local tls=$shared_dir/tls
  [ -f "$tls/broker.p12" ] && [ -f "$tls/ca.crt" ] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found: apt-get install -y openssl"
  rm -rf "$tls"; mkdir -p "$tls"  # ca.crt is public; the keystore and its password are mode 600
  local san="DNS:localhost,IP:127.0.0.1"
  if [[ "$external" =~ ^[0-9.]+$ ]]; then san="$san,IP:$external"; else san="$san,DNS:$external"; fi
  local store_password; store_password=$(kept_secret "$tls/broker.p12.password")
  (
    cd "$tls"; umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=OTOP Kafka CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$external" \
      -keyout broker.key -out broker.csr
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$san" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile broker.ext \
      -out broker.crt
    openssl pkcs12 -export -name broker -inkey broker.key -in broker.crt -certfile ca.crt \
      -passout "pass:$store_password" -out broker.p12
    # The CA signed its one certificate: its key is not kept (a new CA comes with a new DIR/tls).
    rm -f ca.key ca.srl broker.key broker.csr broker.ext
    chmod 644 ca.crt
  ) >"$shared_dir/tls.log" 2>&1 || { cat "$shared_dir/tls.log" >&2; die "making the TLS certificates failed"; }
  say "made a CA and the broker's TLS certificate in $tls (clients trust $tls/ca.crt)"
}

# The TLS settings of a listener: the broker's certificate; as a client of it (replication over CLIENT with
# --client-tls), the broker trusts the deployment's CA.
tls_listener() {  # tls_listener NAME
  cat <<TLS
listener.name.$1.ssl.keystore.type=PKCS12
listener.name.$1.ssl.keystore.location=$shared_dir/tls/broker.p12
listener.name.$1.ssl.keystore.password=$(cat "$shared_dir/tls/broker.p12.password")
listener.name.$1.ssl.client.auth=none
TLS
  [ "$1" != client ] || printf '%s\n' "listener.name.client.ssl.truststore.type=PEM" \
    "listener.name.client.ssl.truststore.location=$shared_dir/tls/ca.crt"
}

# Writes DIR/server.properties (and, the first time, what the nodes share: the password, the TLS material).
configure() {
  local admin_password scram_jaas plain_jaas
  # What the nodes of a cluster share is made once, by the first node to get here.
  exec 7>"$shared_dir/.shared.lock"; flock 7
  admin_password=$(kept_secret "$shared_dir/admin.password" "${KAFKA_ADMIN_PASSWORD:-}")
  make_tls
  exec 7>&-
  scram_jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
  plain_jaas="org.apache.kafka.common.security.plain.PlainLoginModule required"
  (umask 077; cat >"$data_dir/server.properties" <<PROPS
# Written by deploy/kafka/kafka.sh on every start: edits here are lost. Holds the super user's password.
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=CLIENT://$host:$port,EXTERNAL://$host:$sport,CONTROLLER://$host:$cport
advertised.listeners=CLIENT://$advertised:$port,EXTERNAL://$external:$sport,CONTROLLER://$advertised:$cport
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CLIENT:$client_protocol,EXTERNAL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
# Every listener authenticates. Brokers replicate from each other over CLIENT as the super user (SCRAM), and
# reach the controllers over CONTROLLER with SASL/PLAIN (the one user that listener knows: the super user).
# CLIENT takes SCRAM-SHA-256 only (the super user, the services), EXTERNAL SCRAM-SHA-512 only (integrations).
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.scram-sha-256.sasl.jaas.config=$scram_jaas username="$admin_user" password="$admin_password";
listener.name.external.scram-sha-512.sasl.jaas.config=$scram_jaas;
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$plain_jaas username="$admin_user" password="$admin_password" user_$admin_user="$admin_password";
$(tls_listener external)
$(if [ "$client_protocol" = SASL_SSL ]; then tls_listener client; fi)
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$admin_user
log.dirs=$data_dir/logs
num.partitions=3
auto.create.topics.enable=false
# Replication: $replicas replicas, $min_isr in sync for an acks=all write ($nodes voters), for every topic
# (a topic created with an explicit factor keeps it) and the internal ones: offsets, transactions, shares.
default.replication.factor=$replicas
min.insync.replicas=$min_isr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
# After a crash (kill -9) the new incarnation is refused (DUPLICATE_BROKER_REGISTRATION) until the old
# one's session expires: 4 s instead of the default 9 s, so a restarted broker is back in ~5 s, not ~12 s.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
# A broker waits up to 5 minutes (default 1) for the controller quorum to register it before it gives up and
# exits: the nodes of a cluster started together on a busy machine may take minutes to come up.
initial.broker.registration.timeout.ms=300000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
PROPS
  )
}

# Formats DIR/logs on the first start: every node of a cluster with the same cluster id (S/cluster.id, made by
# the first node, or KAFKA_CLUSTER_ID) and the super user's SCRAM credential.
format_storage() {
  local admin_password cluster_id
  java_cmd
  [ ! -f "$data_dir/logs/meta.properties" ] || return 0
  admin_password=$(cat "$shared_dir/admin.password")
  exec 7>"$shared_dir/.shared.lock"; flock 7
  if [ ! -s "$shared_dir/cluster.id" ]; then
    cluster_id=${KAFKA_CLUSTER_ID:-}
    if [ -z "$cluster_id" ]; then
      "${tool_cmd[@]}" random-uuid >"$shared_dir/cluster-id.log" 2>&1 || true
      cluster_id=$(grep -E '^[A-Za-z0-9_-]{22}$' "$shared_dir/cluster-id.log" | tail -1 || true)
      [ -n "$cluster_id" ] || { cat "$shared_dir/cluster-id.log" >&2; die "StorageTool random-uuid failed"; }
    fi
    printf '%s\n' "$cluster_id" >"$shared_dir/cluster.id"
  fi
  exec 7>&-
  cluster_id=$(cat "$shared_dir/cluster.id")
  # StorageTool's arguments, the super user's credential among them, go in a java argument file (mode 600,
  # deleted after): its password is never on a command line (ps, /proc/<pid>/cmdline). The launcher expands
  # an @file only before the main class, so the class is in the file too.
  local args="$data_dir/format.args" arg
  (
    umask 077
    for arg in kafka.tools.StorageTool format -t "$cluster_id" -c "$data_dir/server.properties" \
        --add-scram "SCRAM-SHA-256=[name=$admin_user,password=$admin_password]"; do
      arg=${arg//\\/\\\\}; printf '"%s"\n' "${arg//\"/\\\"}"
    done >"$args"
  )
  "${tool_jvm[@]}" "@$args" >"$data_dir/format.log" 2>&1 \
    || { rm -f "$args"; cat "$data_dir/format.log" >&2; die "formatting $data_dir/logs failed"; }
  rm -f "$args"
  say "formatted $data_dir/logs (cluster id $cluster_id, node $node_id)"
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
    # The pid only (not pid_alive's command line): just after the start, the child may not have exec'd java yet.
    alive "$(pid_of)" || { say "the broker process exited"; return 1; }
    sleep 0.2
  done
  say "no broker answering on 127.0.0.1:$port after ${start_timeout}s"
  return 1
}

ready() {
  say "broker pid $(pid_of) ready, data in $data_dir"
  echo "KAFKA_BOOTSTRAP=$advertised:$port"
  echo "KAFKA_SSL_BOOTSTRAP=$external:$sport"
  echo "KAFKA_CA_FILE=$shared_dir/tls/ca.crt"
  echo "KAFKA_ADMIN_USERNAME=$admin_user"
  echo "KAFKA_ADMIN_PASSWORD_FILE=$shared_dir/admin.password"
}

# --- commands ---------------------------------------------------------------------------------------
# All in a function, so bash has parsed the whole file before it runs anything: rewriting kafka.sh
# while a start of it is waiting cannot break that start.
main() {
  cmd=${1:-}; shift || true
  data_dir=""; port=""; cport=""; sport=""; host=""; advertised=""; external=""
  node_id=""; voters=""; shared_dir=""; client_protocol=SASL_PLAINTEXT
  while [ $# -gt 0 ]; do
    case "$1" in
      --data-dir) data_dir=${2:?--data-dir needs a value}; shift 2 ;;
      --port) port=${2:?--port needs a value}; shift 2 ;;
      --controller-port) cport=${2:?--controller-port needs a value}; shift 2 ;;
      --ssl-port) sport=${2:?--ssl-port needs a value}; shift 2 ;;
      --host) host=${2:?--host needs a value}; shift 2 ;;
      --advertised-host) advertised=${2:?--advertised-host needs a value}; shift 2 ;;
      --external-host) external=${2:?--external-host needs a value}; shift 2 ;;
      --node-id) node_id=${2:?--node-id needs a value}; shift 2 ;;
      --voters) voters=${2:?--voters needs a value}; shift 2 ;;
      --shared-dir) shared_dir=${2:?--shared-dir needs a value}; shift 2 ;;
      --client-tls) client_protocol=SASL_SSL; shift ;;
      *) say "unknown argument $1"; exit 2 ;;
    esac
  done

  case "$cmd" in
    fetch)
      [ -z "$data_dir$port$cport$sport$host$advertised$external$node_id$voters$shared_dir" ] || usage
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
      check_ports; configure; format_storage
      [ ! -f "$data_dir/broker.log" ] || mv -f "$data_dir/broker.log" "$data_dir/broker.log.1"
      # setsid: a Ctrl-C in the caller's terminal does not reach the broker, so the caller can stop its
      # services first and the broker last. Background jobs of this non-interactive shell stay in its
      # process group, so the child is no group leader and setsid execs in place: $! is java's pid.
      setsid nohup "${broker_cmd[@]}" </dev/null >>"$data_dir/broker.log" 2>&1 8>&- &
      echo $! >"$data_dir/kafka.pid"
      if ! wait_ready --logged; then
        alive "$(pid_of)" && kill -9 "$(pid_of)" 2>/dev/null || true
        rm -f "$data_dir/kafka.pid"
        say "last lines of $data_dir/broker.log:"; tail -40 "$data_dir/broker.log" >&2
        die "the broker did not start"
      fi
      ready ;;

    run)
      need_ports; need_dir
      ! pid_alive || die "broker pid $(pid_of) already runs for $data_dir"
      require java; fetch; check_ports; configure; format_storage
      echo $$ >"$data_dir/kafka.pid"  # exec keeps the pid
      exec "${broker_cmd[@]}" ;;

    config)  # the configuration only, as start and run would write it (to check it), no JVM started
      need_ports; need_dir; configure
      say "wrote $data_dir/server.properties" ;;

    stop)
      [ -z "$port$cport$sport$host$advertised$external$node_id$voters$shared_dir" ] || usage
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
      [ -z "$port$cport$sport$host$advertised$external$node_id$voters$shared_dir" ] || usage
      need_dir --existing 1
      if pid_alive; then say "running, pid $(pid_of)"; else say "not running"; exit 1; fi ;;

    *) usage ;;
  esac
}

main "$@"
exit
