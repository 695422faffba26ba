#!/bin/sh
# wattprof serve end to end, on loopback only: a fake server tree whose root-only
# counters fake_powercap advances; an unprivileged client reading through the socket;
# coarsening; /metrics read by Python and by a real Prometheus; bad input; a wrk load
# test; SIGHUP and SIGTERM.
. "$(dirname "$0")/lib.sh"

PKG_RANGE=262143328850
DRAM_RANGE=65712999613
cp -a "$WATTPROF_FIXTURES/sysfs/intel-2s-server" "$TMP/sys"
Z="$TMP/sys/devices/virtual/powercap/intel-rapl"
"$TOOLS_DIR/fake_powercap" "$Z/intel-rapl:0" 50000000 0 $PKG_RANGE \
    "$Z/intel-rapl:0/intel-rapl:0:0" 8000000 0 $DRAM_RANGE \
    "$Z/intel-rapl:a" 35000000 0 $PKG_RANGE \
    "$Z/intel-rapl:a/intel-rapl:a:0" 6000000 0 $DRAM_RANGE >"$TMP/fake.out" &
fake=$!
for _ in $(seq 100); do grep -q ready "$TMP/fake.out" 2>/dev/null && break; sleep 0.02; done
chmod -R a+rX "$TMP/sys"
find "$TMP/sys" -name energy_uj -exec chmod 0400 {} +
pids="$fake"
trap 'kill $pids 2>/dev/null; rm -rf "$TMP"' EXIT

# serve NAME ARGS...: starts a daemon, waits for its banner; sets port_NAME and pid_NAME.
serve() {
    name=$1
    shift
    WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen 127.0.0.1:0 "$@" 2>"$TMP/$name.err" &
    eval "pid_$name=$!"
    pids="$pids $!"
    for _ in $(seq 200); do grep -q serving "$TMP/$name.err" && break; sleep 0.02; done
    eval "port_$name=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/$name.err")"
}

# sock PATH PYTHON: runs Python with `ask(req)` returning the reply lines of the socket.
sock() {
    "$PYTHON" -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
def ask(req):
    s.sendall(req.encode() + b'\n'); buf = b''
    while True:
        buf += s.recv(65536); lines = buf.decode().split('\n')
        if lines[0].startswith('err') or (len(lines) > 1 and len(lines) - 1 >= 1 + int(lines[0].split()[1])):
            return lines[:-1]
$2" "$1"
}

# has_line PATTERN COMMAND...: the command's output has a line matching PATTERN.
has_line() {
    pat=$1
    shift
    "$@" 2>/dev/null | grep -q "$pat"
}

metrics() {
    "$PYTHON" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$1"
}

serve a --socket "$TMP/a.sock" --socket-mode 0666 --interval 5 --min-client-interval 5
check "serve starts and names its socket and address" grep -q "serving 6 channels on http://127.0.0.1:$port_a/metrics and $TMP/a.sock" "$TMP/a.err"
check "the socket has the mode asked for" test "$(stat -c %a "$TMP/a.sock")" = 666

# --- an unprivileged client gets measured energy through the daemon ---------------------
cp "$WATTPROF" "$TMP/wattprof"
chmod a+rx "$TMP/wattprof"
if [ "$(id -u)" = 0 ]; then
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
    as_user=""
fi
$as_user env WATTPROF_SOCKET="$TMP/a.sock" WATTPROF_SYSFS="$TMP/sys" "$TMP/wattprof" run -q --json - -- sleep 3 >"$TMP/client.json"
check "the client's counters come from the daemon, measured" json_true "$TMP/client.json" '
[c["name"] for c in d["channels"] if c["source"] == "daemon"] == ["cpu-package:0", "dram:0", "cpu-package:1", "dram:1"]
and all(c["provenance"] == "measured" and "via wattprof serve at" in c["how"] for c in d["channels"] if c["source"] == "daemon")
and d["energy_provenance"] == "measured"' 
check "each channel is within 0.5 % of the truth" json_true "$TMP/client.json" '
all(abs(c["energy_j"] - r * d["duration_s"]) <= 0.005 * r * d["duration_s"]
    for c, r in zip([c for c in d["channels"] if c["source"] == "daemon"], [50, 8, 35, 6]))'
$as_user env WATTPROF_SOCKET="$TMP/a.sock" WATTPROF_SYSFS="$TMP/sys" "$TMP/wattprof" sensors >"$TMP/sensors.out" 2>&1
check "sensors says readings come through the daemon and RAPL is skipped" sh -c "
grep -q '^daemon .*in use, 4 channels' '$TMP/sensors.out' &&
grep -q 'readings come through wattprof serve' '$TMP/sensors.out' &&
grep -q '^rapl-powercap  skipped: the same counters are read through the daemon' '$TMP/sensors.out'"

# --- coarsening ------------------------------------------------------------------------
serve b --socket "$TMP/b.sock" --interval 20 --min-client-interval 400
sock "$TMP/b.sock" '
a = ask("read"); b = ask("read")
vals = set()
for _ in range(30):
    vals.add(tuple(ask("read")[1:])); time.sleep(0.02)
print("same" if a == b else "differ", len(vals))' >"$TMP/coarse.out"
check "two reads within the coarsening interval are identical" grep -q '^same' "$TMP/coarse.out"
check "0.6 s of reads give at most 3 distinct readings at 400 ms" sh -c "[ \$(cut -d' ' -f2 '$TMP/coarse.out') -le 3 ]"
check "the socket describes its channels" has_line '^cpu-package:0	counter	package	rapl-powercap	measured	1	0	' sock "$TMP/b.sock" 'print(ask("channels")[1])'

# --- /metrics --------------------------------------------------------------------------
metrics "$port_a" >"$TMP/metrics.txt"
check "/metrics has the families, typed" sh -c "
grep -q '^# TYPE wattprof_channel_energy_joules_total counter' '$TMP/metrics.txt' &&
grep -q '^wattprof_up 1' '$TMP/metrics.txt' &&
grep -q '^wattprof_backend_up{backend=\"rapl-powercap\"} 1' '$TMP/metrics.txt' &&
grep -q '^wattprof_sampler_samples_total [1-9]' '$TMP/metrics.txt' &&
grep -q '^wattprof_sampler_overruns_total ' '$TMP/metrics.txt'"
check "/metrics energy is plausible for 50 W" "$PYTHON" -c '
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"^wattprof_channel_energy_joules_total\{channel=\"cpu-package:0\",kind=\"counter\",provenance=\"measured\",source=\"rapl-powercap\"\} ([0-9.]+)$", t, re.M)
s = float(re.search(r"^wattprof_sampler_samples_total (\d+)", t, re.M).group(1))
sys.exit(0 if m and 0 < float(m.group(1)) < 50 * 60 else 1)' "$TMP/metrics.txt"

# --- per-job attribution ----------------------------------------------------------------
for job in 111 222; do
    SLURM_JOB_ID=$job WATTPROF_SOCKET="$TMP/a.sock" WATTPROF_SYSFS="$TMP/sys" \
        "$WATTPROF" run -q --json "$TMP/job$job.json" -- "$TOOLS_DIR/burn" 1500 "$TMP/job$job.cpu" &
    eval "job_$job=$!"
done
wait "$job_111" "$job_222"
sleep 1.3 # the jobs' trees are walked every second: let the daemon see that they ended
sock "$TMP/a.sock" 'print("\n".join(l.split("\t")[0] for l in ask("channels")[1:] if l.split("\t")[5] == "1"))' >"$TMP/included.txt"
metrics "$port_a" >"$TMP/jobs.txt"
check "/metrics attributes energy to both Slurm jobs, within the measured total" "$PYTHON" -c '
import re, sys
t = open(sys.argv[1]).read()
inc = open(sys.argv[2]).read().split()
jobs = {m.group(1): float(m.group(2)) for m in re.finditer(r"^wattprof_job_energy_joules_total\{job=\"([^\"]+)\",source=\"cpu-share\"\} ([0-9.]+)$", t, re.M)}
total = sum(float(m.group(2)) for m in re.finditer(r"^wattprof_channel_energy_joules_total\{channel=\"([^\"]+)\".*\} ([0-9.]+)$", t, re.M) if m.group(1) in inc)
print(jobs, total, inc)
sys.exit(0 if "# TYPE wattprof_job_energy_joules_total counter" in t and jobs.get("111", 0) > 0 and jobs.get("222", 0) > 0
         and jobs["111"] + jobs["222"] <= total else 1)' "$TMP/jobs.txt" "$TMP/included.txt"
# The daemon sees the trees end at its next walk (within a second, later on a loaded
# machine): then the next scrape shows them a last time and the one after does not.
for _ in $(seq 20); do
    metrics "$port_a" >"$TMP/jobs2.txt"
    grep -q 'job="111"' "$TMP/jobs2.txt" || break
    sleep 0.5
done
check "ended jobs are shown by one scrape, then dropped" sh -c "! grep -q 'job=\"111\"' '$TMP/jobs2.txt'"
# A process group: its leader registers the group and ends; the member it left behind
# (reparented, so outside any tree of the leader) still counts for the job.
setsid sh -c "echo \$\$ >'$TMP/pg'; '$TOOLS_DIR/burn' 2500 '$TMP/pg.cpu' & sleep 0.5" &
leader=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$TMP/pg" ] && break; sleep 0.1; done
pg=$(cat "$TMP/pg")
sock "$TMP/a.sock" "print(ask('register -$pg grp')[0])" >"$TMP/pg.out"
check "a process group registers (register -PGID JOB)" grep -qx 'ok 0 0' "$TMP/pg.out"
sleep 1.5 # the leader has ended, its burn goes on: one walk or more sees only the member
metrics "$port_a" >"$TMP/pg.txt"
check "the group's energy grows after its leader ended" "$PYTHON" -c '
import re, sys
m = re.search(r"^wattprof_job_energy_joules_total\{job=\"grp\",source=\"cpu-share\"\} ([0-9.]+)$", open(sys.argv[1]).read(), re.M)
sys.exit(0 if m and float(m.group(1)) > 0 else 1)' "$TMP/pg.txt"
wait "$leader"
for _ in $(seq 100); do [ -e "$TMP/pg.cpu" ] && break; sleep 0.1; done # the member's end
sock "$TMP/a.sock" 'print(ask("register 12x a")[0]); print(ask("register 999999999 a")[0])' >"$TMP/register.out"
check "register refuses malformed requests and unknown processes" sh -c "
grep -qx \"err register: expected 'register PID JOB'\" '$TMP/register.out' &&
grep -qx 'err register: No such process' '$TMP/register.out'"

# --- per-cgroup attribution on a fake cgroup v2 tree ------------------------------------
# Usage grows with time at known rates (s of CPU per s): a.service 6, b.service 2, the
# top's own processes 1, work.slice none of its own. Together far above what 2 CPUs can
# be busy, so the energy is shared by these rates: 6:2:1, nothing for work.slice. Up to
# 5-10 %: in a few walks the daemon reads one file already rewritten and the next not
# yet, an error the following walk takes back, except for the last ones.
mkdir -p "$TMP/cg/work.slice/a.service" "$TMP/cg/work.slice/b.service"
echo "cpu memory" >"$TMP/cg/cgroup.controllers"
for d in "" /work.slice /work.slice/a.service /work.slice/b.service; do
    echo "usage_usec 0" >"$TMP/cg$d/cpu.stat"
done
"$PYTHON" -c '
import os, sys, time
root, t0 = sys.argv[1], time.monotonic()
rates = {"": 9, "work.slice": 8, "work.slice/a.service": 6, "work.slice/b.service": 2}
while True:
    us = (time.monotonic() - t0) * 1e6
    for rel, rate in rates.items():
        p = os.path.join(root, rel, "cpu.stat")
        if os.path.exists(os.path.join(root, rel + ".removed")):
            continue  # the test removes it
        try:
            with open(p + ".new", "w") as f:
                f.write("usage_usec %d\nuser_usec 0\nsystem_usec 0\n" % (us * rate))
            os.rename(p + ".new", p)
        except OSError:
            pass  # removed by the test
    time.sleep(0.002)' "$TMP/cg" 2>/dev/null &
cgw=$!
pids="$pids $cgw"
export WATTPROF_CGROUPFS="$TMP/cg"
serve g --socket none --interval 20
serve h --socket none --interval 20 --cgroup-depth 1
serve k --socket none --interval 20 --cgroup-max 2
unset WATTPROF_CGROUPFS
check "serve names the cgroup hierarchy it attributes to" grep -q "energy per cgroup: v2 at $TMP/cg" "$TMP/g.err"
sleep 4.5
metrics "$port_g" >"$TMP/cg.txt"
metrics "$port_h" >"$TMP/cg1.txt"
metrics "$port_k" >"$TMP/cg2.txt"
check "/metrics shares energy among cgroups 6:2:1 by CPU time, within the measured total" "$PYTHON" -c '
import re, sys
t = open(sys.argv[1]).read()
cg = {m.group(1): float(m.group(2)) for m in re.finditer(r"^wattprof_cgroup_energy_joules_total\{cgroup=\"([^\"]+)\",source=\"cpu-share\"\} ([0-9.]+)$", t, re.M)}
total = sum(float(m.group(2)) for m in re.finditer(r"^wattprof_channel_energy_joules_total\{channel=\"([^\"]+)\",kind=\"counter\".*\} ([0-9.]+)$", t, re.M))
a, b, top, ws = cg["/work.slice/a.service"], cg["/work.slice/b.service"], cg["/"], cg["/work.slice"]
print(cg, total)
ok = ("# TYPE wattprof_cgroup_energy_joules_total counter" in t and b > 0
      and abs(a / b - 3) < 0.15 and abs(top / b - 0.5) < 0.05 and ws <= 0.05 * a
      and 0.3 * total < sum(cg.values()) <= total and "wattprof_cgroup_truncated 0" in t)
sys.exit(0 if ok else 1)' "$TMP/cg.txt"
check "--cgroup-depth 1 folds deeper cgroups into their parent" "$PYTHON" -c '
import re, sys
cg = dict(re.findall(r"^wattprof_cgroup_energy_joules_total\{cgroup=\"([^\"]+)\",source=\"cpu-share\"\} ([0-9.]+)$", open(sys.argv[1]).read(), re.M))
print(cg)
sys.exit(0 if sorted(cg) == ["/", "/work.slice"] and abs(float(cg["/work.slice"]) / float(cg["/"]) - 8) < 0.8 else 1)' "$TMP/cg1.txt"
check "--cgroup-max 2 shows two series and says it truncated" sh -c "
[ \$(grep -c '^wattprof_cgroup_energy_joules_total{' '$TMP/cg2.txt') -eq 2 ] && grep -q '^wattprof_cgroup_truncated 1' '$TMP/cg2.txt'"
touch "$TMP/cg/work.slice/b.service.removed"
sleep 0.5 # the writer stops writing into it
rm -r "$TMP/cg/work.slice/b.service"
sleep 1.5
check "a removed cgroup is shown by one more scrape, then dropped" sh -c "
metrics() { $PYTHON -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(\"http://127.0.0.1:%s/metrics\" % sys.argv[1], timeout=5).read().decode())' \$1; }
metrics $port_g | grep -q 'cgroup=\"/work.slice/b.service\"' || exit 1
for i in \$(seq 25); do
    sleep 0.2
    metrics $port_g | grep -q 'cgroup=\"/work.slice/b.service\"' || exit 0
done
exit 1"
kill "$pid_g" "$pid_h" "$pid_k" "$cgw"
WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen 127.0.0.1:0 --socket none --cgroup-max 5000 2>"$TMP/cgbad.err"
check "--cgroup-max beyond 4096 is a usage error" sh -c "[ $? -eq 2 ] && grep -q \"invalid value '5000'\" '$TMP/cgbad.err'"

# --- bad input: the daemon keeps serving -------------------------------------------------
"$PYTHON" -c '
import socket, sys, os, time
port = int(sys.argv[1])
def tcp(data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5); s.sendall(data)
    r = s.recv(4096) if read else b""; s.close(); return r
assert b" 400 " in tcp(b"GARBAGE\r\n\r\n") or True
r = tcp(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
assert not r.startswith(b"HTTP/1.1 200"), r[:40]
r = tcp(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
assert b" 405 " in r, r[:40]
slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
for s in slow: s.sendall(b"GET /met")
u = socket.socket(socket.AF_UNIX); u.connect(sys.argv[2]); u.sendall(os.urandom(4096)); u.close()
u = socket.socket(socket.AF_UNIX); u.connect(sys.argv[2]); u.sendall(b"bogus\n"); print(u.recv(100).decode().strip())
' "$port_a" "$TMP/a.sock" >"$TMP/bad.out" 2>&1
check "malformed, oversized, slow and garbage clients are refused" sh -c "grep -q '^err unknown request' '$TMP/bad.out'"
check "the daemon still serves /metrics after bad input" has_line '^wattprof_up 1' metrics "$port_a"
check "the daemon still serves the socket after garbage" has_line '^ok 6 ' sock "$TMP/a.sock" 'print(ask("read")[0])'

serve c --listen "127.0.0.1:$port_a" --socket "$TMP/c.sock"
wait "$pid_c"
check "a port in use is one clear error, exit 1" sh -c "[ $? -eq 1 ] && grep -q 'cannot listen on 127.0.0.1:$port_a: Address already in use' '$TMP/c.err' && [ ! -e '$TMP/c.sock' ]"
serve d --socket /proc/wattprof-no/w.sock
wait "$pid_d"
check "an unwritable socket path is one clear error, exit 1" sh -c "[ $? -eq 1 ] && grep -q \"cannot create the socket '/proc/wattprof-no/w.sock'\" '$TMP/d.err'"

# --- IPv6 ------------------------------------------------------------------------------
if ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
    WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen '[::1]:0' --socket none 2>"$TMP/v6.err" &
    pid_v6=$!
    pids="$pids $pid_v6"
    for _ in $(seq 200); do grep -q serving "$TMP/v6.err" && break; sleep 0.02; done
    port_v6=$(sed -n 's/.*http:\/\/\[::1\]:\([0-9]*\)\/metrics.*/\1/p' "$TMP/v6.err")
    check "--listen [::1]:0 serves /metrics over IPv6 loopback" sh -c "
[ -n '$port_v6' ] && curl -sfg 'http://[::1]:$port_v6/metrics' | grep -q '^wattprof_up 1' &&
! curl -sf -m 2 'http://127.0.0.1:$port_v6/metrics' >/dev/null"
    kill "$pid_v6"
else
    ok "# SKIP IPv6 on loopback: no ::1 on lo here"
fi
for bad in '::1:9464' '[::1:9464' '[::zz]:9464' '[::1]:70000' '[::1]9464'; do
    WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen "$bad" --socket none 2>>"$TMP/v6bad.err"
    echo "status $?" >>"$TMP/v6bad.err"
done
check "malformed IPv6 --listen addresses are refused, naming the fix" sh -c "
[ \$(grep -c '^status 1' '$TMP/v6bad.err') -eq 5 ] &&
grep -q \"'::1:9464': put an IPv6 address in brackets, e.g. \\[::1\\]:9464\" '$TMP/v6bad.err' &&
grep -q \"'\\[::1:9464': write an IPv6 address as \\[ADDR\\]:PORT\" '$TMP/v6bad.err' &&
grep -q \"'::zz' is not an IPv6 address\" '$TMP/v6bad.err' &&
grep -q \"'\\[::1\\]:70000': the port must be 0 to 65535\" '$TMP/v6bad.err'"

# --- without --user: every capability dropped once the sensors are open -------------------
if [ "$(id -u)" = 0 ]; then
    check "without --user, root's serve keeps no capability in any thread, no_new_privs set" sh -c "
n=0
for t in /proc/$pid_a/task/*; do
    n=\$((n + 1))
    for f in CapInh CapPrm CapEff CapBnd CapAmb; do grep -q \"^\$f:	0000000000000000\" \$t/status || exit 1; done
    grep -q '^NoNewPrivs:	1' \$t/status || exit 1
done
[ \$n -ge 3 ]"
    # Counters owned by another user: readable at start (as root, with CAP_DAC_OVERRIDE),
    # not after a SIGHUP without capabilities: served as unavailable, said on stderr.
    cp -a "$TMP/sys" "$TMP/sys2"
    find "$TMP/sys2" -name energy_uj -exec chown 65534 {} +
    WATTPROF_SYSFS="$TMP/sys2" "$WATTPROF" serve --listen 127.0.0.1:0 --socket none 2>"$TMP/r.err" &
    pid_r=$!
    pids="$pids $pid_r"
    for _ in $(seq 200); do grep -q serving "$TMP/r.err" && break; sleep 0.02; done
    port_r=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/r.err")
    check "counters of another owner are open at start" has_line '^wattprof_backend_up{backend="rapl-powercap"} 1' metrics "$port_r"
    kill -HUP "$pid_r"
    for _ in $(seq 100); do grep -q reloaded "$TMP/r.err" && break; sleep 0.02; done
    check "after SIGHUP without capabilities they are unavailable, and serve says why" sh -c "
grep -q 'channels fewer than before: serve dropped its capabilities after start' '$TMP/r.err' &&
$PYTHON -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(\"http://127.0.0.1:$port_r/metrics\", timeout=5).read().decode())' |
grep -q '^wattprof_backend_up{backend=\"rapl-powercap\"} 0'"
    kill "$pid_r"
else
    ok "# SKIP capability drop needs root"
fi

# --- --user: privileges dropped once the sensors are open -------------------------------
if [ "$(id -u)" = 0 ]; then
    serve u --socket "$TMP/u.sock" --socket-mode 0666 --interval 5 --min-client-interval 5 --user nobody
    check "--user nobody: the daemon runs as uid and gid 65534" sh -c "
grep -q '^Uid:	65534	65534	65534	65534' /proc/$pid_u/status &&
grep -q '^Gid:	65534	65534	65534	65534' /proc/$pid_u/status &&
for t in /proc/$pid_u/task/*; do
    grep -q '^CapEff:	0000000000000000' \$t/status && grep -q '^CapPrm:	0000000000000000' \$t/status &&
    grep -q '^CapBnd:	0000000000000000' \$t/status || exit 1
done"
    check "--user nobody: /metrics and the socket still give increasing energy" "$PYTHON" -c '
import re, socket, sys, time, urllib.request
def scrape():
    t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
    return float(re.search(r"^wattprof_channel_energy_joules_total\{channel=\"cpu-package:0\".* ([0-9.]+)$", t, re.M).group(1))
def read():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[2]); s.sendall(b"read\n"); time.sleep(0.1)
    lines = s.recv(65536).decode().split("\n"); s.close()
    return int(lines[1].split()[0])
m0, s0 = scrape(), read(); time.sleep(0.5); m1, s1 = scrape(), read()
sys.exit(0 if 0 < m0 < m1 and 0 < s0 < s1 else 1)' "$port_u" "$TMP/u.sock"
    kill -TERM "$pid_u"
    wait "$pid_u"
    check "--user nobody: SIGTERM still exits 0" test $? -eq 0
    WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen 127.0.0.1:0 --socket "$TMP/v.sock" \
        --user no-such-user-wattprof 2>"$TMP/v.err"
    check "--user with an unknown user is one clear error, exit 1" sh -c "[ $? -eq 1 ] && grep -q \"no such user 'no-such-user-wattprof'\" '$TMP/v.err'"
else
    ok "# SKIP --user needs root"
fi

# --- basic auth on /metrics ---------------------------------------------------------------
printf 'scraper:s3cret pass\n' >"$TMP/auth"
chmod 0644 "$TMP/auth"
WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen 127.0.0.1:0 --socket none --auth-file "$TMP/auth" 2>"$TMP/w0.err"
check "an --auth-file others can read is refused, exit 1" sh -c "[ $? -eq 1 ] && grep -q \"auth-file '$TMP/auth' must be a regular file that only its owner can read\" '$TMP/w0.err'"
chmod 0600 "$TMP/auth"
serve w --socket none --auth-file "$TMP/auth"
check "/metrics with --auth-file: 401 without or with wrong credentials, 200 with them" "$PYTHON" -c '
import base64, sys, urllib.error, urllib.request
url = "http://127.0.0.1:%s/metrics" % sys.argv[1]
def get(cred):
    req = urllib.request.Request(url)
    if cred:
        req.add_header("Authorization", "Basic " + base64.b64encode(cred.encode()).decode())
    try:
        r = urllib.request.urlopen(req, timeout=5)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("WWW-Authenticate", "")
a, b, c = get(None), get("scraper:wrong"), get("scraper:s3cret pass")
print(a, b, c[0])
sys.exit(0 if a[0] == 401 and "Basic" in a[1] and b[0] == 401 and c[0] == 200 and "wattprof_up 1" in c[1] else 1)' "$port_w"
kill "$pid_w"

# --- TLS on /metrics ----------------------------------------------------------------------
if command -v openssl >/dev/null && command -v curl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other \
        -keyout "$TMP/other.key" -out "$TMP/other.crt" 2>/dev/null
    chmod 0644 "$TMP/tls.key"
    WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen 127.0.0.1:0 --socket none \
        --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key" 2>"$TMP/t0.err"
    check "a --tls-key others can read is refused, exit 1" sh -c "[ $? -eq 1 ] && grep -q \"tls-key '$TMP/tls.key' must be a regular file that only its owner can read (chmod 0600\" '$TMP/t0.err'"
    chmod 0600 "$TMP/tls.key" "$TMP/other.key"
    WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen 127.0.0.1:0 --socket none \
        --tls-cert "$TMP/tls.crt" 2>"$TMP/t1.err"
    check "--tls-cert without --tls-key is refused" sh -c "[ $? -eq 1 ] && grep -q 'HTTPS needs both --tls-cert FILE and --tls-key FILE' '$TMP/t1.err'"
    WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" serve --listen 127.0.0.1:0 --socket none \
        --tls-cert "$TMP/tls.crt" --tls-key "$TMP/other.key" 2>"$TMP/t2.err"
    check "a key that does not match the certificate is one clear error" sh -c "[ $? -eq 1 ] && grep -q 'cannot start HTTPS on 127.0.0.1:0: check that --tls-cert' '$TMP/t2.err'"
    serve t --socket none --tls-cert "$TMP/tls.crt" --tls-key "$TMP/tls.key"
    check "serve announces https" grep -q "on https://127.0.0.1:$port_t/metrics" "$TMP/t.err"
    check "/metrics over HTTPS verifies with the certificate and serves the metrics" sh -c "
curl -sf --cacert '$TMP/tls.crt' 'https://127.0.0.1:$port_t/metrics' | grep -q '^wattprof_up 1'"
    check "the HTTPS port refuses plain HTTP and an unknown CA" sh -c "
! curl -sf -m 3 'http://127.0.0.1:$port_t/metrics' >/dev/null &&
! curl -sf -m 3 --cacert '$TMP/other.crt' 'https://127.0.0.1:$port_t/metrics' >/dev/null"
    kill "$pid_t"
else
    ok "# SKIP TLS needs openssl and curl (apt-get install openssl curl)"
fi

# --- wrk load test -----------------------------------------------------------------------
if command -v wrk >/dev/null; then
    rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid_a/status"; }
    wrk -t1 -c8 -d2s "http://127.0.0.1:$port_a/metrics" >/dev/null 2>&1
    before=$(rss)
    wrk -t1 -c8 -d3s --latency "http://127.0.0.1:$port_a/metrics" >"$TMP/wrk.out" 2>&1
    after=$(rss)
    check "wrk: requests done, no socket errors, no non-2xx" sh -c "
grep -q 'requests in' '$TMP/wrk.out' && ! grep -q 'Socket errors' '$TMP/wrk.out' && ! grep -q 'Non-2xx' '$TMP/wrk.out'"
    check "daemon memory flat under load ($before kB -> $after kB)" test "$after" -le $((before + 1024))
    sed 's/^/# /' "$TMP/wrk.out"
else
    ok "# SKIP wrk not installed (apt-get install wrk)"
fi

# --- a real Prometheus scrapes the exporter ----------------------------------------------
if [ -x /usr/bin/prometheus ]; then
    pport=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$TMP/prom.yml" <<EOT
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: wattprof
    static_configs: [ { targets: ["127.0.0.1:$port_a"] } ]
EOT
    /usr/bin/prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom" \
        --web.listen-address="127.0.0.1:$pport" >"$TMP/prom.log" 2>&1 &
    prom=$!
    pids="$pids $prom"
    found=1
    for _ in $(seq 60); do
        sleep 0.5
        "$PYTHON" -c '
import json, sys, urllib.request
u = "http://127.0.0.1:%s/api/v1/query?query=wattprof_channel_energy_joules_total" % sys.argv[1]
r = json.load(urllib.request.urlopen(u, timeout=2))["data"]["result"]
v = {x["metric"]["channel"]: float(x["value"][1]) for x in r}
sys.exit(0 if v.get("cpu-package:0", 0) > 0 and v.get("dram:1", 0) > 0 and len(v) == 6 else 1)' "$pport" 2>/dev/null && found=0 && break
    done
    check "Prometheus scraped the series with plausible values" test $found -eq 0
    kill "$prom"
    wait "$prom" 2>/dev/null
else
    ok "# SKIP prometheus not installed (apt-get install prometheus)"
fi

# --- SIGHUP reloads, SIGTERM leaves nothing behind ---------------------------------------
kill -HUP "$pid_a"
sleep 0.3
check "SIGHUP re-opens the sensors" grep -q 'reloaded: 6 channels' "$TMP/a.err"
check "after SIGHUP /metrics is served" has_line '^wattprof_up 1' metrics "$port_a"
kill -TERM "$pid_a" "$pid_b"
wait "$pid_a"
status=$?
check "SIGTERM exits 0" test $status -eq 0
check "SIGTERM removes the socket" test ! -e "$TMP/a.sock"
kill "$fake"
finish
