#!/bin/sh
# Runs `clawfleet runtime-host` and `clawfleet serve` under the restrictions of their systemd units, emulated
# without systemd as PID 1 (this machine has none), and chats with a sandboxed OpenClaw runtime through them.
# Run as root from the repository (after `npm run build`):  sh test/systemd-emulation/emulate-units.sh
#
# What is emulated, per unit (deploy/systemd/*.service):
#   both   User=clawfleet (here uid 65534), NoNewPrivileges, CapabilityBoundingSet= (setpriv), SystemCallFilter=
#          exactly as the unit computes it (syscalls.py + seccomp-exec, errno EPERM), RestrictAddressFamilies=
#          (EAFNOSUPPORT), ProtectSystem=strict + ReadWritePaths=<data dir> (read-only / with a rw bind),
#          PrivateTmp, ProtectHome, PrivateDevices (tmpfs /dev with null zero full random urandom tty pts shm),
#          ProtectControlGroups (read-only /sys/fs/cgroup), ProtectProc=invisible (proc with hidepid=invisible)
#   serve  ProcSubset=pid (proc with subset=pid: no /proc/sys, no /proc/kmsg left to cover, which is what
#          ProtectKernelTunables/Logs cover), read-only /sys, RestrictNamespaces=yes approximated by removing
#          unshare(2) and setns(2) from its allow list
#   host   PrivateNetwork=yes (its own network namespace with only lo)
# Controls first: the same host under the serve unit's filter, with ProtectKernelTunables' read-only /proc/sys
# or with ProcSubset=pid must fail to start (proves the emulation bites).
# Not emulated: PrivateUsers, IPAddressDeny/IPAddressAllow (cgroup BPF), RestrictNamespaces for clone(2) flags,
# RestrictRealtime, LockPersonality, RestrictSUIDSGID, ProtectClock, ProtectKernelModules, KeyringMode.
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/test/systemd-emulation"
WORK=$(mktemp -d /srv/cf-emulation-XXXXXX)
DATA="$WORK/data"
SOCKET="$DATA/rt/launcher.sock" # stands in for /run/clawfleet-runtimes/launcher.sock (RuntimeDirectory=)
PORT=${PORT:-18642}
SERVICE_UID=65534
ADMIN_TOKEN=emulation-admin-token-0123456789abcdef
AF="1,2,10,16" # AF_UNIX AF_INET AF_INET6 AF_NETLINK, as both units list them
chmod 755 "$WORK"
mkdir -m 700 "$DATA" && chown "$SERVICE_UID:$SERVICE_UID" "$DATA"
gcc -O2 -o "$WORK/seccomp-exec" "$HERE/seccomp-exec.c"
python3 "$HERE/syscalls.py" "$REPO/deploy/systemd/clawfleet-runtimes.service" > "$WORK/runtimes.syscalls"
python3 "$HERE/syscalls.py" "$REPO/deploy/systemd/clawfleet.service" | grep -vx -e 272 -e 308 > "$WORK/serve.syscalls"

# Mounts both units share. $1 = proc options.
common_mounts='
  mount -t proc -o "$PROC_OPTIONS" proc /proc
  mount -t tmpfs -o mode=1777 tmpfs /tmp && mount -t tmpfs -o mode=1777 tmpfs /var/tmp
  mount -t tmpfs -o ro,mode=755 tmpfs /home && mount -t tmpfs -o ro,mode=700 tmpfs /root
  mount -t tmpfs -o mode=755,nosuid,noexec tmpfs /dev
  mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 && mknod -m 666 /dev/full c 1 7
  mknod -m 666 /dev/random c 1 8 && mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/tty c 5 0
  mkdir /dev/pts /dev/shm && mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
  ln -s pts/ptmx /dev/ptmx
  mount -o remount,bind,ro /sys/fs/cgroup
  mount --bind "$DATA" "$DATA"
  mount -o remount,bind,ro /
'
as_service="setpriv --reuid=$SERVICE_UID --regid=$SERVICE_UID --clear-groups --bounding-set=-all --inh-caps=-all --no-new-privs"

# The runtime host under its unit's restrictions (replaces the calling shell). $1: system call list, $2: extra
# mount commands, $3: log file, $4: extra unshare options.
run_host() {
  PROC_OPTIONS=hidepid=invisible DATA="$DATA" exec unshare --mount --propagation private --net $4 sh -c "
    set -e
    if command -v ip >/dev/null; then ip link set lo up; fi
    $common_mounts
    $2
    exec $as_service env HOME=/nonexistent CLAWFLEET_DATA_DIR='$DATA' CLAWFLEET_RUNTIME_SANDBOX=bwrap CLAWFLEET_RUNTIME_LAUNCHER_SOCKET='$SOCKET' \
      '$WORK/seccomp-exec' '$1' '$AF' -- '$(command -v node)' '$REPO/bin/clawfleet.js' runtime-host
  " > "$3" 2>&1
}

# Controls: the emulation must be able to fail. The runtime host refuses to start (exit 2) when bubblewrap's
# self-test fails, i.e. under clawfleet.service's system call filter, or with ProtectKernelTunables' read-only
# /proc/sys, or with ProcSubset=pid.
control() { # $1 name, $2 syscalls, $3 extra mounts, $4 expected message
  # In its own pid namespace: a bubblewrap stuck after a refused system call dies with the namespace.
  set +e; (run_host "$2" "$3" "$WORK/control-$1.log" "--pid --fork"); code=$?; set -e
  if [ "$code" = 2 ] && grep -q "$4" "$WORK/control-$1.log"; then echo "control $1: the runtime host refused to start as expected ($4)"
  else echo "CONTROL $1 FAILED (exit $code):"; cat "$WORK/control-$1.log"; exit 1; fi
}
echo "== controls"
control serve-filter "$WORK/serve.syscalls" ":" "bubblewrap self-test failed"
control kernel-tunables "$WORK/runtimes.syscalls" "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys" "Can't mount proc on /newroot/proc: Operation not permitted"
control proc-subset "$WORK/runtimes.syscalls" "mount -t proc -o hidepid=invisible,subset=pid proc /proc" "Can't read /proc/sys/kernel/overflowuid"

echo "== runtime host under clawfleet-runtimes.service's restrictions"
run_host "$WORK/runtimes.syscalls" ":" "$WORK/host.log" "" &
HOST=$!
for _ in $(seq 100); do [ -S "$SOCKET" ] && break; sleep 0.2; done
[ -S "$SOCKET" ] || { cat "$WORK/host.log"; echo "FAIL: the runtime host did not start"; exit 1; }

echo "== serve under clawfleet.service's restrictions"
PROC_OPTIONS=hidepid=invisible,subset=pid DATA="$DATA" unshare --mount --propagation private sh -c "
  set -e
  $common_mounts
  mount -o remount,bind,ro /sys
  exec $as_service env HOME=/nonexistent CLAWFLEET_DATA_DIR='$DATA' CLAWFLEET_PORT=$PORT CLAWFLEET_ADMIN_TOKEN=$ADMIN_TOKEN \
    CLAWFLEET_RUNTIME_SANDBOX=bwrap CLAWFLEET_RUNTIME_LAUNCHER_SOCKET='$SOCKET' CLAWFLEET_RUNTIME_START_TIMEOUT_MS=300000 \
    '$WORK/seccomp-exec' '$WORK/serve.syscalls' '$AF' -- '$(command -v node)' '$REPO/bin/clawfleet.js' serve
" > "$WORK/serve.log" 2>&1 &
SERVE=$!
for _ in $(seq 150); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

cleanup() {
  kill -TERM "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true
  kill -TERM "$HOST" 2>/dev/null || true; wait "$HOST" 2>/dev/null || true
}
trap cleanup EXIT

KEY=$(curl -fsS "http://127.0.0.1:$PORT/admin/v1/tenants" -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' -d '{"id":"acme"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
echo "== chat (boots a sandboxed OpenClaw through the runtime host)"
ANSWER=$(curl -sS -m 300 "http://127.0.0.1:$PORT/t/acme/v1/chat/completions" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"model":"openclaw","messages":[{"role":"user","content":"hello from the emulated units"}]}')
echo "$ANSWER" | head -c 400; echo
RUNTIME=$(curl -fsS "http://127.0.0.1:$PORT/admin/v1/tenants/acme" -H "authorization: Bearer $ADMIN_TOKEN")
echo "$RUNTIME"
PID=$(echo "$RUNTIME" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runtime"]["pid"] or "")')
echo "== process tree of the runtime (pid $PID)"
p=$PID; while [ -n "$p" ] && [ "$p" != 1 ] && [ "$(awk '/^Uid/{print $2}' /proc/$p/status)" != 0 ]; do echo "  $p uid=$(awk '/^Uid/{print $2}' /proc/$p/status) Seccomp=$(awk '/^Seccomp:/{print $2}' /proc/$p/status) NoNewPrivs=$(awk '/^NoNewPrivs/{print $2}' /proc/$p/status) $(tr '\0' ' ' < /proc/$p/cmdline | cut -c1-70)"; p=$(awk '/^PPid/{print $2}' /proc/$p/status); done
if echo "$ANSWER" | grep -q "mock model"; then echo "EMULATION OK: a sandboxed runtime started under both units' restrictions"; STATUS=0; else echo "EMULATION FAILED"; tail -20 "$WORK/host.log"; tail -20 "$WORK/serve.log"; STATUS=1; fi
cleanup
trap - EXIT
echo "logs: $WORK/host.log $WORK/serve.log"
exit $STATUS
