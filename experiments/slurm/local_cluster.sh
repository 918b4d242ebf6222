#!/usr/bin/env bash
# A local single-node SLURM cluster with accounting (MariaDB, munge, slurmdbd, slurmctld, slurmd),
# for the SLURM tests, CI and trying `launcher=submitit_slurm` on one machine.
#
#   experiments/slurm/local_cluster.sh start    # install Debian's packages if missing, write configs, start
#   experiments/slurm/local_cluster.sh status   # exit 0 when every daemon it started is up
#   experiments/slurm/local_cluster.sh stop     # stop the daemons it started (by recorded PID) and their jobs
#
# Needs root and Debian's apt (bookworm: slurm-wlm 22.05). No systemd: each daemon runs in the
# foreground under start-stop-daemon, which records its PID; `stop` signals only those PIDs.
# Accounting is part of it because submitit learns that a job was cancelled or killed only from
# `sacct`; without it a sweep waits forever on such a job.
set -euo pipefail

STATE=${SIM_SLURM_STATE:-/var/spool/sim-slurm}   # spool, database, logs and PID files
DB_PORT=${SIM_SLURM_DB_PORT:-3307}               # MariaDB on 127.0.0.1; not 3306, to leave a system one alone
CLUSTER=simlocal
PARTITION=local
MARK="# written by experiments/slurm/local_cluster.sh"
PACKAGES=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client)
DAEMONS=(mariadbd munged slurmdbd slurmctld slurmd)   # start order; stop goes in reverse
declare -A EXE=([mariadbd]=/usr/sbin/mariadbd [munged]=/usr/sbin/munged [slurmdbd]=/usr/sbin/slurmdbd
                [slurmctld]=/usr/sbin/slurmctld [slurmd]=/usr/sbin/slurmd)
NODE=$(hostname -s)
SOCK=$STATE/mysql-run/mysqld.sock

say() { echo "local_cluster: $*"; }
fail() { echo "local_cluster: cannot start the local SLURM cluster: $*" >&2; exit 1; }

pidfile() { echo "$STATE/pids/$1.pid"; }

running() {  # is the daemon we recorded still alive: same PID, same name, not a zombie? (readable by anyone)
  local pf pid; pf=$(pidfile "$1")
  [ -f "$pf" ] && pid=$(cat "$pf") && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] \
    && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...: poll until COMMAND succeeds
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || fail "$what did not come up within ${secs} s (logs in $STATE/log)"
    sleep 0.5
  done
}

start_daemon() {  # start_daemon NAME USER ARGS...: run NAME in the foreground, detached, PID recorded
  local name=$1 user=$2; shift 2
  if running "$name"; then say "$name already running (pid $(cat "$(pidfile "$name")"))"; return; fi
  start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$(pidfile "$name")" \
    --chuid "$user" --output "$STATE/log/$name.out" --exec "${EXE[$name]}" -- "$@" \
    || fail "$name did not start (see $STATE/log/$name.out)"
  say "started $name (pid $(cat "$(pidfile "$name")"))"
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  command -v apt-get >/dev/null || fail "packages missing (${missing[*]}) and no apt-get to install them"
  say "installing ${missing[*]} (apt-get; about 2 minutes)"
  # Debian's maintainer scripts would start the daemons themselves; policy-rc.d 101 forbids that.
  local policy_added=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_added=1
  fi
  local ok=1
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } > "$STATE/log/apt.log" 2>&1 || ok=""
  [ -n "$policy_added" ] && rm -f /usr/sbin/policy-rc.d
  [ -n "$ok" ] || fail "apt-get install ${missing[*]} failed (see $STATE/log/apt.log)"
}

write_file() {  # write_file PATH MODE OWNER < content: refuse to replace a file someone else wrote
  local path=$1 mode=$2 owner=$3 tmp
  if [ -e "$path" ] && ! grep -qF "$MARK" "$path"; then
    fail "$path exists and was not written by this script (a SLURM is already set up here?)"
  fi
  tmp=$(mktemp "$path.XXXXXX")
  cat > "$tmp"
  chmod "$mode" "$tmp" && chown "$owner" "$tmp" && mv "$tmp" "$path"
}

write_configs() {
  local cpus mem_mb pass
  cpus=$(nproc)
  # a little under the machine's memory, or slurmd drains the node ("Low RealMemory")
  mem_mb=$(awk '/MemTotal/ {m = int($2 / 1024); print m - (m > 4096 ? 512 : int(m / 8))}' /proc/meminfo)
  install -d -m 755 /etc/slurm
  [ -f "$STATE/db.pass" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$STATE/db.pass")
  pass=$(cat "$STATE/db.pass")
  write_file /etc/slurm/slurm.conf 644 root:root <<CONF
$MARK: a single-node cluster for tests
ClusterName=$CLUSTER
SlurmctldHost=$NODE
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# no cgroups needed: processes tracked through /proc; task/affinity pins each job to its CPUs
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without a default, a job that asks for no memory would hold the whole node
DefMemPerCPU=1024
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
# submitit reads job states from sacct: accounting is what makes a cancelled job visible
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$NODE
JobCompType=jobcomp/none
# every CPU the affinity mask allows is one schedulable core (config_overrides: trust this line)
NodeName=$NODE CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem_mb State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
  write_file /etc/slurm/slurmdbd.conf 600 slurm:slurm <<CONF
$MARK
AuthType=auth/munge
DbdHost=$NODE
SlurmUser=slurm
LogFile=$STATE/log/slurmdbd.log
PidFile=$STATE/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$pass
StorageLoc=slurm_acct_db
CONF
}

start_database() {
  if [ ! -d "$STATE/mysql/mysql" ]; then
    say "creating the accounting database in $STATE/mysql"
    mariadb-install-db --user=mysql --datadir="$STATE/mysql" --auth-root-authentication-method=socket \
      --skip-test-db > "$STATE/log/mariadb-install.log" 2>&1 || fail "mariadb-install-db failed (see $STATE/log)"
  fi
  start_daemon mariadbd mysql --no-defaults --datadir="$STATE/mysql" --socket="$SOCK" \
    --pid-file="$STATE/mysql-run/mariadbd.pid" --bind-address=127.0.0.1 --port="$DB_PORT" \
    --log-error="$STATE/mysql-run/mariadbd.log" \
    --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900  # slurmdbd warns below 900 s
  wait_for 60 "MariaDB" mariadb-admin --socket="$SOCK" ping
  local pass; pass=$(cat "$STATE/db.pass")
  mariadb --socket="$SOCK" -u root <<SQL || fail "could not create the accounting database user"
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
}

start_munge() {
  [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create >/dev/null \
    || fail "no munge key and mungekey could not create one"
  install -d -o munge -g munge -m 755 /run/munge
  start_daemon munged munge --foreground
  wait_for 20 "munged" bash -c 'munge -n | unmunge'
}

node_state() { sinfo -h -N -n "$NODE" -o %t 2>/dev/null; }

start() {
  [ "$(id -u)" -eq 0 ] || fail "needs root (apt-get, daemons under their own users)"
  command -v start-stop-daemon >/dev/null || fail "start-stop-daemon not found (is this Debian?)"
  if status >/dev/null 2>&1; then say "already running: $(node_state) node $NODE, partition $PARTITION"; return; fi
  install -d -m 755 "$STATE" "$STATE/pids" "$STATE/log" "$STATE/slurmd"
  install_packages
  install -d -o slurm -g slurm -m 755 "$STATE/ctld" "$STATE/run" "$STATE/log"
  install -d -o mysql -g mysql -m 755 "$STATE/mysql" "$STATE/mysql-run"
  write_configs
  start_database
  start_munge
  start_daemon slurmdbd root -D
  wait_for 60 "slurmdbd" sacctmgr -n show cluster
  sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER" \
    || sacctmgr -i add cluster "$CLUSTER" >/dev/null || fail "could not register cluster $CLUSTER in accounting"
  start_daemon slurmctld root -D
  wait_for 60 "slurmctld" scontrol ping
  start_daemon slurmd root -D
  wait_for 60 "node $NODE" bash -c "sinfo -h -N -n '$NODE' -o %t | grep -qE '^(idle|mix|alloc)'"
  if node_state | grep -qE '^(down|drain)'; then scontrol update nodename="$NODE" state=resume; fi
  wait_for 60 "sacct" sacct -n -X -S now-1hour
  say "running: node $NODE ($(nproc) CPUs) idle in partition $PARTITION, accounting on (state in $STATE)"
}

status() {
  local ok=0 name
  for name in "${DAEMONS[@]}"; do
    if running "$name"; then echo "$name: running (pid $(cat "$(pidfile "$name")"))"
    else echo "$name: not running"; ok=3; fi
  done
  [ $ok -eq 0 ] && echo "node $NODE: $(node_state)"
  return $ok
}

stop() {
  local name pf
  [ -d "$STATE/pids" ] || { say "nothing to stop"; return; }
  if running slurmctld; then  # jobs on this cluster were submitted to it: end them with it
    scancel --quiet --partition="$PARTITION" 2>/dev/null || true
    local end=$((SECONDS + 30))
    while [ -n "$(squeue -h -p "$PARTITION" 2>/dev/null)" ] && [ $SECONDS -lt $end ]; do sleep 0.5; done
  fi
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    name=${DAEMONS[$i]} pf=$(pidfile "${DAEMONS[$i]}")
    [ -f "$pf" ] || continue
    if running "$name"; then
      start-stop-daemon --stop --quiet --pidfile "$pf" --exec "${EXE[$name]}" --retry TERM/20/KILL/5 \
        && say "stopped $name"
    fi
    rm -f "$pf"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
