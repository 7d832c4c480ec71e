#!/usr/bin/env bash
# A throwaway one-node Ceph with an S3 gateway on 127.0.0.1, for tests and development.
#
#   scripts/ceph-dev.sh start  [DIR]   # start (or find running) one monitor, one OSD, one RADOS Gateway
#   scripts/ceph-dev.sh stop   [DIR]   # stop every daemon started in DIR and wait until they are gone
#   scripts/ceph-dev.sh status [DIR]   # say which of the three daemons run
#
# DIR (default: build/ceph-dev in the source tree) holds everything: ceph.conf, the
# monitor's store, the OSD's folder, logs, pid files, admin sockets, and after `start`
# the file DIR/s3.env, to `source`:
#   S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY,
#   S3_BUCKET_LOCKED (created with Object Lock enabled), S3_BUCKET_PLAIN (without),
#   and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION for the AWS CLI
#   (which still needs --endpoint-url "$S3_ENDPOINT").
#
# The cluster is for tests only: authentication is off, the OSD keeps its data in
# memory (memstore), so data does not survive `stop`. `start` on a folder whose
# cluster is fully running only checks it answers S3 and exits 0; on a folder with
# a partial or dead cluster it stops what is left and makes a new cluster there.
#
# Ports: the monitor and the gateway listen on loopback ports picked at random among
# free ones in 20000-32767 (below Linux's ephemeral range), or on CEPH_DEV_MON_PORT
# and CEPH_DEV_RGW_PORT when set. The OSD takes free ports in 6800-7300 as Ceph does.
# CEPH_DEV_START_TIMEOUT (seconds, default 120) bounds the whole start.
#
# Exit codes: 0 done (status: all three run); 1 error (the message and the failing
# daemon's log tail on stderr; a failed start stops what it started); 2 usage;
# 3 status: nothing runs; 4 status: some but not all run.
set -euo pipefail

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
COMMAND=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${2:-$ROOT/build/ceph-dev}

CONF=""; RUN=""; LOGS=""; ENV_FILE=""; MARKER=""
set_paths() {
  DIR=$(cd "$DIR" && pwd)
  CONF=$DIR/ceph.conf
  RUN=$DIR/run
  LOGS=$DIR/log
  ENV_FILE=$DIR/s3.env
  MARKER=$DIR/.ceph-dev
}

DAEMONS=(mon.a osd.0 client.rgw.dev)
RGW_NAME=client.rgw.dev
REGION=default                       # the name of RGW's default zonegroup
BUCKET_LOCKED=preserve-locked
BUCKET_PLAIN=preserve-plain
START_TIMEOUT=${CEPH_DEV_START_TIMEOUT:-120}

log() { echo "ceph-dev: $*" >&2; }

# ---- Daemons, found by pid file and checked to be ours (binary and ceph.conf) -----

pid_file() { echo "$RUN/$1.pid"; }
binary_of() {
  case $1 in
    mon.*) echo ceph-mon ;;
    osd.*) echo ceph-osd ;;
    client.rgw.*) echo radosgw ;;
  esac
}

# Prints the pid of daemon $1 when it runs, from its pid file; fails otherwise.
# A pid file left by a dead daemon whose pid was reused does not count.
running_pid() {
  local file pid cmdline
  file=$(pid_file "$1")
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  case $cmdline in
    *"$(binary_of "$1")"*"$CONF"*) ;;
    *) return 1 ;;
  esac
  gone "$pid" && return 1
  echo "$pid"
}

count_running() {
  local n=0 d
  for d in "${DAEMONS[@]}"; do
    if running_pid "$d" >/dev/null; then n=$((n + 1)); fi
  done
  echo "$n"
}

gone() { [ ! -d "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# Stops every daemon of ours, one at a time: the gateway, the OSD, the monitor, each
# with SIGTERM, then SIGKILL if it is still there after 5 s; returns once all are gone.
# In this order each shuts down in well under a second; together, the gateway waits
# two minutes for an OSD that is going away and the OSD for a monitor that has gone.
stop_daemons() {
  local i d pid deadline
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    d=${DAEMONS[i]}
    if pid=$(running_pid "$d"); then
      kill -TERM "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 5))
      until gone "$pid"; do
        if [ $SECONDS -ge $deadline ]; then
          log "$d (pid $pid) still there 5 s after SIGTERM: SIGKILL"
          kill -KILL "$pid" 2>/dev/null || true
          deadline=$((SECONDS + 5))
        fi
        sleep 0.05
      done
    fi
    rm -f "$(pid_file "$d")"
  done
}

# ---- Helpers for start ------------------------------------------------------------

DEADLINE=0
FAILED_LOG=""

fail() {
  log "$1"
  local f
  for f in $FAILED_LOG; do
    if [ -s "$f" ]; then
      log "last lines of $f:"
      tail -n 30 "$f" | sed 's/^/    /' >&2
    fi
  done
  log "stopping what was started; the logs stay in $LOGS"
  stop_daemons
  exit 1
}

ceph_cli() { timeout 30 ceph -c "$CONF" --connect-timeout 15 "$@"; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12768))
    if ! port_in_use "$p" && [ "$p" != "${1:-}" ]; then echo "$p"; return 0; fi
  done
  return 1
}

# Waits until "${@:2}" succeeds, or fails the start, naming $1, when the deadline passes.
wait_for() {
  local what=$1; shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $DEADLINE ] || fail "timed out after ${START_TIMEOUT}s waiting for $what"
    sleep 0.1
  done
}

# A daemon that exited while we wait for it fails the start at once, not at the deadline.
alive_or_fail() {
  local d=$1 pid=$2
  if gone "$pid"; then fail "$d exited during start"; fi
}

mon_in_quorum() { ceph_cli quorum_status >/dev/null; }
osd_up() {
  local dump
  dump=$(ceph_cli osd dump -f json 2>/dev/null) || return 1
  [[ $dump == *'"up":1'* ]]
}
rgw_answers() {
  local code
  code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$RGW_PORT/") || return 1
  [ "$code" = 200 ]
}

# curl signed with AWS Signature V4 as the S3 user; the payload is not hashed.
s3_curl() {
  curl -sS --noproxy '*' --max-time 30 --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# Starts daemon $1 (already daemonizing) with its command line in $2...; waits for its pid file.
launch() {
  local d=$1; shift
  "$@" </dev/null >>"$LOGS/$d.stdout" 2>&1 9>&- || { FAILED_LOG="$LOGS/$d.log $LOGS/$d.stdout"; fail "$d did not start"; }
  wait_for "the pid file of $d" running_pid "$d"
}

random_string() {
  local s
  s=$(LC_ALL=C tr -dc "$1" </dev/urandom 2>/dev/null | head -c "$2") || true  # tr ends on SIGPIPE
  echo "$s"
}

write_conf() {
  local fsid=$1
  cat >"$CONF" <<EOF
# Written by scripts/ceph-dev.sh: a one-node test cluster, authentication off.
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
# radosgw cannot reach a monitor with authentication off without this.
ms mon client mode = crc
ms bind retry count = 1
ms bind retry delay = 1
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
# Faster Paxos rounds: the gateway creates about six pools on its first start.
paxos propose interval = 0.05
paxos min wait = 0.01
mon data avail crit = 1
run dir = $RUN
crash dir = $DIR/crash
log file = $LOGS/\$name.log
mon cluster log file = $LOGS/cluster.log
keyring = $DIR/keyring
[mon]
mon data = $DIR/mon
admin socket = $RUN/\$name.asok
pid file = $RUN/\$name.pid
[osd]
osd data = $DIR/osd
osd objectstore = memstore
# The OSD keeps objects in memory, up to 1 GiB (its resident size grows about 3 times the data).
memstore device bytes = 1073741824
admin socket = $RUN/\$name.asok
pid file = $RUN/\$name.pid
[client]
# Command-line clients (ceph, radosgw-admin) leave no admin socket behind.
admin socket =
[$RGW_NAME]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw thread pool size = 32
rgw data = $DIR/rgw
admin socket = $RUN/\$name.asok
pid file = $RUN/\$name.pid
EOF
}

write_env() {
  local tmp=$ENV_FILE.tmp
  cat >"$tmp" <<EOF
# Written by scripts/ceph-dev.sh for the test cluster in $DIR.
export S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
export S3_REGION=$REGION
export S3_ACCESS_KEY=$ACCESS_KEY
export S3_SECRET_KEY=$SECRET_KEY
export S3_BUCKET_LOCKED=$BUCKET_LOCKED
export S3_BUCKET_PLAIN=$BUCKET_PLAIN
# For the AWS CLI: aws --endpoint-url "\$S3_ENDPOINT" s3api ...
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_DEFAULT_REGION=$REGION
export AWS_EC2_METADATA_DISABLED=true
EOF
  mv "$tmp" "$ENV_FILE"
}

# Reads the endpoint and keys back from s3.env; fails when there is none.
read_env() {
  [ -s "$ENV_FILE" ] || return 1
  RGW_PORT=$(sed -n 's|^export S3_ENDPOINT=http://127.0.0.1:||p' "$ENV_FILE")
  ACCESS_KEY=$(sed -n 's/^export S3_ACCESS_KEY=//p' "$ENV_FILE")
  SECRET_KEY=$(sed -n 's/^export S3_SECRET_KEY=//p' "$ENV_FILE")
  [ -n "$RGW_PORT" ] && [ -n "$ACCESS_KEY" ] && [ -n "$SECRET_KEY" ]
}

# The user's signed bucket listing names both buckets.
s3_ready() {
  local listing
  listing=$(s3_curl --fail "http://127.0.0.1:$RGW_PORT/") || return 1
  case $listing in *"<Name>$BUCKET_LOCKED</Name>"*"<Name>$BUCKET_PLAIN</Name>"*) return 0 ;; esac
  case $listing in *"<Name>$BUCKET_PLAIN</Name>"*"<Name>$BUCKET_LOCKED</Name>"*) return 0 ;; esac
  return 1
}

# Creates bucket $1; "true" as $2 enables Object Lock on it.
create_bucket() {
  local args=(-X PUT -o "$LOGS/create-bucket.out" -w '%{http_code}')
  [ "$2" = true ] && args+=(-H "x-amz-bucket-object-lock-enabled: true")
  local code
  code=$(s3_curl "${args[@]}" "http://127.0.0.1:$RGW_PORT/$1") || code=curl-error
  if [ "$code" != 200 ]; then
    FAILED_LOG="$LOGS/create-bucket.out $LOGS/$RGW_NAME.log"
    fail "creating bucket $1 answered $code"
  fi
}

start() {
  local absolute
  absolute=$(realpath -m "$DIR")
  if [ ${#absolute} -gt 80 ]; then
    # Admin sockets are Unix sockets, whose paths are limited to 107 bytes.
    log "$absolute is too long a path (${#absolute} > 80 characters) for the daemons' admin sockets"
    exit 1
  fi
  if [ -e "$absolute" ] && [ ! -e "$absolute/.ceph-dev" ] && [ -n "$(find "$absolute" -mindepth 1 -maxdepth 1 ! -name .lock -print -quit)" ]; then
    log "$absolute is not empty and holds no cluster of ours; give an empty or new folder"
    exit 1
  fi
  mkdir -p "$DIR"
  set_paths
  exec 9>"$DIR/.lock"
  flock 9

  if [ "$(count_running)" = ${#DAEMONS[@]} ] && read_env && s3_ready; then
    log "already running in $DIR: $(sed -n 's/^export S3_ENDPOINT=//p' "$ENV_FILE")"
    echo "$ENV_FILE"
    return 0
  fi

  if [ -e "$MARKER" ]; then
    log "making a new cluster in $DIR in place of the stopped or partial one"
    stop_daemons
    rm -rf "$CONF" "$RUN" "$LOGS" "$ENV_FILE" "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/crash" "$DIR/monmap"
  fi
  echo "preserve scripts/ceph-dev.sh" >"$MARKER"
  mkdir -p "$RUN" "$LOGS" "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/crash"

  local t0=$SECONDS
  DEADLINE=$((SECONDS + START_TIMEOUT))
  MON_PORT=${CEPH_DEV_MON_PORT:-$(pick_port)} || { log "no free port for the monitor"; exit 1; }
  RGW_PORT=${CEPH_DEV_RGW_PORT:-$(pick_port "$MON_PORT")} || { log "no free port for the gateway"; exit 1; }
  [ "$MON_PORT" != "$RGW_PORT" ] || { log "the monitor and the gateway cannot share port $MON_PORT"; exit 1; }
  local p
  for p in "$MON_PORT" "$RGW_PORT"; do
    if port_in_use "$p"; then log "port $p on 127.0.0.1 is already in use"; exit 1; fi
  done

  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"

  # Monitor.
  FAILED_LOG="$LOGS/mon.a.log $LOGS/mon.a.stdout"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >"$LOGS/monmaptool.out" 2>&1 ||
    { FAILED_LOG="$LOGS/monmaptool.out"; fail "monmaptool failed"; }
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >"$LOGS/mon.a.mkfs" 2>&1 ||
    { FAILED_LOG="$LOGS/mon.a.mkfs"; fail "ceph-mon --mkfs failed"; }
  launch mon.a ceph-mon -c "$CONF" -i a
  local mon_pid; mon_pid=$(running_pid mon.a)
  until mon_in_quorum >/dev/null 2>&1; do
    alive_or_fail mon.a "$mon_pid"
    [ $SECONDS -lt $DEADLINE ] || fail "timed out after ${START_TIMEOUT}s waiting for the monitor"
    sleep 0.1
  done

  # OSD, on memstore.
  FAILED_LOG="$LOGS/osd.0.log $LOGS/osd.0.stdout"
  local id
  id=$(ceph_cli osd new "$osd_uuid" 2>"$LOGS/osd-new.err") || { FAILED_LOG="$LOGS/osd-new.err"; fail "ceph osd new failed"; }
  [ "$id" = 0 ] || fail "ceph osd new gave id '$id', expected 0"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$LOGS/osd.0.mkfs" 2>&1 ||
    { FAILED_LOG="$LOGS/osd.0.mkfs $LOGS/osd.0.log"; fail "ceph-osd --mkfs failed"; }
  launch osd.0 ceph-osd -c "$CONF" -i 0
  local osd_pid; osd_pid=$(running_pid osd.0)
  until osd_up; do
    alive_or_fail osd.0 "$osd_pid"
    [ $SECONDS -lt $DEADLINE ] || fail "timed out after ${START_TIMEOUT}s waiting for the OSD to be up"
    sleep 0.1
  done

  # Gateway: it creates its pools on the first start, then answers HTTP.
  FAILED_LOG="$LOGS/$RGW_NAME.log $LOGS/$RGW_NAME.stdout"
  launch "$RGW_NAME" radosgw -c "$CONF" -n "$RGW_NAME"
  local rgw_pid; rgw_pid=$(running_pid "$RGW_NAME")
  until rgw_answers; do
    alive_or_fail "$RGW_NAME" "$rgw_pid"
    [ $SECONDS -lt $DEADLINE ] || fail "timed out after ${START_TIMEOUT}s waiting for the gateway on port $RGW_PORT"
    sleep 0.1
  done

  # The S3 user and the two buckets.
  ACCESS_KEY=$(random_string 'A-Z0-9' 20)
  SECRET_KEY=$(random_string 'A-Za-z0-9' 40)
  timeout 60 radosgw-admin -c "$CONF" user create --uid preserve-dev --display-name "preserve dev" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >"$LOGS/user-create.out" 2>&1 ||
    { FAILED_LOG="$LOGS/user-create.out"; fail "radosgw-admin user create failed"; }
  create_bucket "$BUCKET_LOCKED" true
  create_bucket "$BUCKET_PLAIN" false
  FAILED_LOG="$LOGS/$RGW_NAME.log"
  wait_for "the gateway to list both buckets" s3_ready
  write_env

  log "running in $DIR after $((SECONDS - t0)) s: monitor 127.0.0.1:$MON_PORT, S3 http://127.0.0.1:$RGW_PORT"
  echo "$ENV_FILE"
}

stop() {
  if [ ! -d "$DIR" ]; then log "no folder $DIR: nothing runs"; return 0; fi
  set_paths
  if [ ! -e "$MARKER" ]; then log "$DIR holds no cluster of ours: nothing to stop"; return 0; fi
  exec 9>"$DIR/.lock"
  flock 9
  stop_daemons
  rm -f "$ENV_FILE"
  log "stopped the cluster in $DIR"
}

status() {
  if [ ! -d "$DIR" ]; then echo "no cluster in $DIR"; return 3; fi
  set_paths
  local d pid n=0
  for d in "${DAEMONS[@]}"; do
    if pid=$(running_pid "$d"); then
      echo "$d: running, pid $pid, RSS $(awk '/^VmRSS/ {print $2, $3}' "/proc/$pid/status")"
      n=$((n + 1))
    else
      echo "$d: not running"
    fi
  done
  if [ $n = ${#DAEMONS[@]} ] && [ -s "$ENV_FILE" ]; then
    echo "S3: $(sed -n 's/^export S3_ENDPOINT=//p' "$ENV_FILE") (settings in $ENV_FILE)"
  fi
  [ $n = ${#DAEMONS[@]} ] && return 0
  [ $n = 0 ] && return 3
  return 4
}

case $COMMAND in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
