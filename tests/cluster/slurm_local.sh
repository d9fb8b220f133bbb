#!/usr/bin/env bash
# Run the default workflow on a real one-node SLURM cluster on localhost and check it against a local run.
#
#   sudo tests/cluster/slurm_local.sh            # Debian/Ubuntu, as root, no systemd needed
#
# 1. apt-get install slurmctld slurmd slurm-client munge (skipped when already installed)
# 2. write /etc/slurm/slurm.conf (one node "localhost": this machine's CPUs and memory, partition `debug`,
#    no accounting, MinJobAge=3600 so that the plugin can poll with squeue) and a munge key
# 3. start munged, slurmctld, slurmd (unless already running), wait for the node to be idle
# 4. pip install snakemake-executor-plugin-slurm>=2.8,<3
# 5. run the workflow from a scratch copy of the repository with --executor slurm and profiles/slurm,
#    and the same copy locally (snakemake --cores 2) in another folder (in the background, meanwhile)
# 6. check from SLURM's own records (scontrol show job: Comment=rule_<name>..., JobState, ExitCode) that
#    every rule of the DAG ran as SLURM job(s); print the job ids per rule
# 7. compare results/tables/*.csv of the two runs byte for byte (cells to 1e-9 relative where the estimates'
#    last bits differ between processes; INTELCAP_SLURM_STRICT=1: bytes only)
# 8. stop only the daemons this script started (trap, also on failure)
#
# Environment: INTELCAP_SLURM_WORKDIR (scratch, default /tmp/intelcap-slurm-test; wiped at start),
# INTELCAP_SLURM_JOBS (--jobs, default 8), PYTHON (interpreter with snakemake, default python3),
# INTELCAP_SLURM_KEEP=1 leaves the daemons running at the end.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${INTELCAP_SLURM_WORKDIR:-/tmp/intelcap-slurm-test}"
JOBS="${INTELCAP_SLURM_JOBS:-8}"
PYTHON="${PYTHON:-python3}"
PARTITION=debug
CONF=/etc/slurm/slurm.conf
MARK="# written by intelcap tests/cluster/slurm_local.sh"
COPY=(Snakefile rules scripts config schemas envs profiles src report)

T0=$(date +%s)
log() { printf '[slurm_local %s +%3ds] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T0 ))" "$*"; }
die() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts SLURM daemons)"
[ "$(uname -s)" = Linux ] || die "Linux only"

STARTED=()        # "name:pid" of daemons this script started, stopped in reverse order by cleanup
PLUGIN_INSTALLED=0   # 1 if this script pip-installed the SLURM executor plugin (removed again by cleanup)
LOCAL_PID=""      # background local snakemake run
POLICY_RC_CREATED=0

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

wait_gone() {  # pid, seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do pid_alive "$1" || return 0; sleep 0.1; done
  return 1
}

cleanup() {
  local rc=$?
  set +e
  if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  if pid_alive "$LOCAL_PID"; then
    log "stopping the local snakemake run (pid $LOCAL_PID)"
    kill -TERM -- "-$LOCAL_PID" 2>/dev/null || kill -TERM "$LOCAL_PID" 2>/dev/null
    wait_gone "$LOCAL_PID" 20
  fi
  if [ "${INTELCAP_SLURM_KEEP:-0}" = 1 ]; then
    log "INTELCAP_SLURM_KEEP=1: leaving daemons running: ${STARTED[*]:-none started by this run}"
  elif [ "${#STARTED[@]}" -gt 0 ]; then
    # The cluster is ours (we started slurmctld): cancel leftover jobs so no slurmstepd outlives slurmd.
    if printf '%s\n' "${STARTED[@]}" | grep -q '^slurmctld:' && command -v squeue >/dev/null; then
      if [ -n "$(squeue -h -t PD,R,CG -o %i 2>/dev/null)" ]; then
        log "cancelling leftover SLURM jobs"
        scancel --state=PENDING 2>/dev/null; scancel --state=RUNNING 2>/dev/null
        for _ in $(seq 1 30); do [ -z "$(squeue -h -t PD,R,CG -o %i 2>/dev/null)" ] && break; sleep 1; done
      fi
    fi
    local i entry name pid
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
      entry="${STARTED[$i]}"; name="${entry%%:*}"; pid="${entry##*:}"
      if pid_alive "$pid"; then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid"
        wait_gone "$pid" 15 || { log "$name (pid $pid) ignored SIGTERM, sending SIGKILL"; kill -KILL "$pid"; }
      fi
    done
  fi
  # Leave the Python environment as found: with the plugin installed but no slurmctld running, every later
  # `snakemake` start waits ~9 s on its probe of sacct.
  if [ "$PLUGIN_INSTALLED" = 1 ] && [ "${INTELCAP_SLURM_KEEP:-0}" != 1 ]; then
    log "uninstalling snakemake-executor-plugin-slurm (installed by this run)"
    "$PYTHON" -m pip uninstall -y -q snakemake-executor-plugin-slurm snakemake-executor-plugin-slurm-jobstep \
      >/dev/null 2>&1
  fi
  if [ "$rc" -eq 0 ]; then log "done (exit 0)"; else log "exit $rc"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------------------
# Scratch copies (first, so that the local reference run can go on while SLURM is being set up)
# ---------------------------------------------------------------------------------------------------------
log "repository: $REPO; scratch: $WORK"
rm -rf "$WORK"
mkdir -p "$WORK/slurm"
# One snapshot, copied again for the local run: others may be editing the repository meanwhile.
for name in "${COPY[@]}"; do
  if [ -e "$REPO/$name" ]; then cp -a "$REPO/$name" "$WORK/slurm/"; fi
done
find "$WORK/slurm" -name __pycache__ -type d -prune -exec rm -rf {} +
[ -f "$WORK/slurm/Snakefile" ] || die "no Snakefile in $REPO"
# The reduced configuration of the other end-to-end tests: the same rules on a smaller panel keep this test
# inside its budget (each SLURM job costs ~7-12 s of scheduling anyway).
cp "$REPO/tests/small_config.yaml" "$WORK/slurm/small.yaml"
cp -a "$WORK/slurm" "$WORK/local"
# The scripts `import intelcap`; the editable install points at $REPO/src, which may change during the runs.
# Each run imports its own copy (PYTHONPATH is exported to the SLURM jobs: sbatch --export=ALL).
PP="${PYTHONPATH:+:$PYTHONPATH}"
# pyfixest's Rust demeaning reduces in parallel (rayon): with >1 thread the fixed-effect estimates vary in the
# last bits from run to run (seen: table2/3/6, ~1e-16 relative), local or not. One thread makes every run
# bit-reproducible, so that a difference below means SLURM changed something. Exported to the SLURM jobs.
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"
for d in slurm local; do
  got="$(cd "$WORK/$d" && PYTHONPATH="$WORK/$d/src$PP" "$PYTHON" -c 'import intelcap; print(intelcap.__file__)')" \
    || die "$PYTHON cannot import intelcap (pip install -e .)"
  [ "$got" = "$WORK/$d/src/intelcap/__init__.py" ] || die "intelcap imported from $got, not from the $d copy"
done
SMK_VERSION="$("$PYTHON" -m snakemake --version 2>/dev/null)" || die "$PYTHON -m snakemake does not work (pip install -e .)"
log "snapshot of ${COPY[*]} in $WORK/{slurm,local}; snakemake $SMK_VERSION ($PYTHON = $(command -v "$PYTHON"))"

log "starting the local reference run in the background: PYTHONPATH=$WORK/local/src$PP snakemake --cores 2 (log: $WORK/local.log)"
T_LOCAL0=$(date +%s)
( cd "$WORK/local" && PYTHONPATH="$WORK/local/src$PP" exec setsid "$PYTHON" -m snakemake --cores 2 --configfile config/config.yaml small.yaml ) \
  >"$WORK/local.log" 2>&1 &
LOCAL_PID=$!

# ---------------------------------------------------------------------------------------------------------
# 1. Packages
# ---------------------------------------------------------------------------------------------------------
T_SETUP0=$(date +%s)
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sinfo >/dev/null \
   && command -v munged >/dev/null; then
  log "SLURM and munge already installed: slurm $(dpkg-query -W -f '${Version}' slurmctld 2>/dev/null || echo '?')"
else
  log "installing slurmctld slurmd slurm-client munge (apt-get)"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # keep the package scripts from starting daemons we would not know about
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; POLICY_RC_CREATED=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >"$WORK/apt.log" 2>&1 \
    || { tail -n 30 "$WORK/apt.log"; die "apt-get install failed"; }
  if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
  log "installed: slurm $(dpkg-query -W -f '${Version}' slurmctld), munge $(dpkg-query -W -f '${Version}' munge)"
fi

# ---------------------------------------------------------------------------------------------------------
# 2. slurm.conf and munge key
# ---------------------------------------------------------------------------------------------------------
NODE_HW="$(slurmd -C 2>/dev/null | head -n 1 || true)"   # NodeName=<host> CPUs=.. Boards=.. ... RealMemory=..
CPUS="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$NODE_HW")"
MEM="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE_HW")"
[ -n "$CPUS" ] || CPUS="$(nproc)"
[ -n "$MEM" ] || MEM="$(awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"
TOPO="$(grep -o 'Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*' <<<"$NODE_HW" || true)"
DEFMEM=$(( MEM / CPUS < 2000 ? MEM / CPUS : 2000 ))
mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm
# the configuration's text is tests/cluster/slurm.conf.in; @NAME@ are this machine's values
NEWCONF="$MARK
$(sed -e "s|@DEFMEM@|$DEFMEM|" -e "s|@CPUS@|$CPUS|" -e "s|@TOPO@|$TOPO|" -e "s|@MEM@|$MEM|" \
  -e "s|@PARTITION@|$PARTITION|" "$REPO/tests/cluster/slurm.conf.in")"
CONF_CHANGED=0
if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$NEWCONF" ]; then
  log "$CONF up to date (CPUs=$CPUS RealMemory=${MEM} MB DefMemPerCPU=$DEFMEM)"
else
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    cp -a "$CONF" "$CONF.bak.$(date +%Y%m%d%H%M%S)"; log "backed up the existing $CONF"
  fi
  printf '%s\n' "$NEWCONF" >"$CONF"; CONF_CHANGED=1
  log "wrote $CONF (CPUs=$CPUS ${TOPO:+$TOPO }RealMemory=${MEM} MB DefMemPerCPU=$DEFMEM, partition $PARTITION)"
fi

if [ ! -s /etc/munge/munge.key ]; then
  log "creating /etc/munge/munge.key"
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key --force
  else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
fi
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge; chmod 755 /run/munge

# ---------------------------------------------------------------------------------------------------------
# 3. Daemons
# ---------------------------------------------------------------------------------------------------------
running_pid() {  # pidfile, process name -> pid if that process runs
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  if pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then echo "$pid"; fi
}

wait_pidfile() {  # pidfile, name, seconds
  local i pid
  for ((i = 0; i < $3 * 10; i++)); do
    pid="$(running_pid "$1" "$2")"; [ -n "$pid" ] && { echo "$pid"; return 0; }; sleep 0.1
  done
  return 1
}

if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "munged already running (pid $(running_pid /run/munge/munged.pid munged)); reusing it"
else
  runuser -u munge -- /usr/sbin/munged --force
  pid="$(wait_pidfile /run/munge/munged.pid munged 10)" || die "munged did not start (see /var/log/munge/munged.log)"
  STARTED+=("munged:$pid"); log "started munged (pid $pid)"
  munge -n | unmunge >/dev/null || die "munge credential round trip failed"
fi

pid="$(running_pid /run/slurm/slurmctld.pid slurmctld)"
if [ -n "$pid" ]; then
  log "slurmctld already running (pid $pid); reusing it"
  if [ "$CONF_CHANGED" = 1 ]; then log "slurm.conf changed: scontrol reconfigure"; scontrol reconfigure || true; fi
else
  slurmctld
  pid="$(wait_pidfile /run/slurm/slurmctld.pid slurmctld 15)" \
    || { tail -n 20 /var/log/slurm/slurmctld.log; die "slurmctld did not start"; }
  STARTED+=("slurmctld:$pid"); log "started slurmctld (pid $pid)"
fi

pid="$(running_pid /run/slurm/slurmd.pid slurmd)"
if [ -n "$pid" ]; then
  log "slurmd already running (pid $pid); reusing it"
else
  slurmd
  pid="$(wait_pidfile /run/slurm/slurmd.pid slurmd 15)" \
    || { tail -n 20 /var/log/slurm/slurmd.log; die "slurmd did not start"; }
  STARTED+=("slurmd:$pid"); log "started slurmd (pid $pid)"
fi

log "waiting for node localhost to become idle"
state=""
for i in $(seq 1 120); do
  state="$(sinfo -h -N -n localhost -o %T 2>/dev/null | head -n 1 || true)"
  case "$state" in
    idle|mixed|allocated) break ;;
    down*|drain*|fail*) [ $((i % 10)) -eq 1 ] && scontrol update NodeName=localhost State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.5
done
case "$state" in idle|mixed|allocated) ;; *)
  sinfo -N -l || true; tail -n 20 /var/log/slurm/slurmctld.log || true
  die "node not idle after 60 s (state '$state')" ;;
esac
sinfo
T_SETUP1=$(date +%s)

# ---------------------------------------------------------------------------------------------------------
# 4. Snakemake's SLURM executor plugin
# ---------------------------------------------------------------------------------------------------------
plugin_ok() {
  "$PYTHON" - <<'PY' 2>/dev/null
import importlib.metadata as md
v = tuple(int(x) for x in md.version("snakemake-executor-plugin-slurm").split(".")[:2])
raise SystemExit(0 if (2, 8) <= v < (3, 0) else 1)
PY
}
if plugin_ok; then
  log "snakemake-executor-plugin-slurm already installed"
else
  log "pip install 'snakemake-executor-plugin-slurm>=2.8,<3'"
  "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    'snakemake-executor-plugin-slurm>=2.8,<3' 2>&1 | grep -v "^WARNING: Location" || true
  plugin_ok || die "pip install snakemake-executor-plugin-slurm>=2.8,<3 failed"
  PLUGIN_INSTALLED=1
fi
"$PYTHON" -c 'import snakemake_executor_plugin_slurm' || die "plugin not importable"
log "plugin: $("$PYTHON" -c 'import importlib.metadata as m; print(m.version("snakemake-executor-plugin-slurm"))')"
T_PLUGIN1=$(date +%s)

# ---------------------------------------------------------------------------------------------------------
# 5. The workflow through SLURM
# ---------------------------------------------------------------------------------------------------------
cd "$WORK/slurm"
PYTHONPATH="$WORK/slurm/src$PP" "$PYTHON" -m snakemake --workflow-profile profiles/slurm --executor slurm -n \
  --configfile config/config.yaml small.yaml \
  >"$WORK/dryrun.log" 2>&1 \
  || { tail -n 40 "$WORK/dryrun.log"; die "dry run failed"; }
log "DAG (dry run): $(awk '/^Job stats:/ {f=1; next} f && /^total/ {print $2 " jobs"; exit}' "$WORK/dryrun.log")"

SLURM_CMD=("$PYTHON" -m snakemake --workflow-profile profiles/slurm --executor slurm --jobs "$JOBS"
  --configfile config/config.yaml small.yaml
  --latency-wait 10 --slurm-no-account --slurm-status-command squeue
  --slurm-init-seconds-before-status-checks 2 --slurm-keep-successful-logs)
log "SLURM run: INTELCAP_SLURM_PARTITION=$PARTITION PYTHONPATH=$WORK/slurm/src$PP ${SLURM_CMD[*]} (in $WORK/slurm; log: $WORK/slurm.log)"
T_RUN0=$(date +%s)
set +e
INTELCAP_SLURM_PARTITION="$PARTITION" PYTHONPATH="$WORK/slurm/src$PP" "${SLURM_CMD[@]}" >"$WORK/slurm.log" 2>&1
rc=$?
set -e
T_RUN1=$(date +%s)
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$WORK/slurm.log"
  die "snakemake --executor slurm exited $rc after $((T_RUN1 - T_RUN0)) s"
fi
log "SLURM run finished in $((T_RUN1 - T_RUN0)) s"

# ---------------------------------------------------------------------------------------------------------
# 6. Every rule ran as SLURM job(s): SLURM's own records
# ---------------------------------------------------------------------------------------------------------
log "checking SLURM's records (scontrol show job) for every job snakemake submitted"
"$PYTHON" - "$WORK/dryrun.log" "$WORK/slurm.log" "$WORK/slurm/.snakemake/slurm_logs" <<'PY'
import re, subprocess, sys
from collections import defaultdict
from pathlib import Path

dry, run, logdir = Path(sys.argv[1]).read_text(), Path(sys.argv[2]).read_text(), Path(sys.argv[3])
block = dry.split("Job stats:")[-1]
planned = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, re.M) if m[1] != "total"}
local = set(re.findall(r"^localrule (\w+):", run, re.M))
submitted = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.", run)
errors, per_rule = [], defaultdict(list)
for _, sid, slog in submitted:
    out = subprocess.run(["scontrol", "show", "job", sid], capture_output=True, text=True).stdout
    rec = dict(re.findall(r"(\w+)=(\S*)", out))
    m = re.match(r"rule_(\w+?)(?:_wildcards_.*)?$", rec.get("Comment", ""))
    if m:
        rule = m[1]
        if rec.get("JobState") != "COMPLETED" or rec.get("ExitCode") != "0:0":
            errors.append(f"SLURM job {sid} ({rule}): JobState={rec.get('JobState')} ExitCode={rec.get('ExitCode')}")
    else:
        # record purged from slurmctld (older than MinJobAge): fall back to the job's SLURM log
        m = re.search(r"/rule_(\w+)/", slog)
        text = Path(slog).read_text(errors="replace") if Path(slog).is_file() else ""
        if not m or f"rule {m[1]}:" not in text:
            errors.append(f"SLURM job {sid}: no scontrol record and no usable log {slog}")
            continue
        rule = m[1]
        print(f"  (SLURM job {sid}: record purged by slurmctld; rule {rule} from its SLURM log {slog})")
    if not list(logdir.glob(f"rule_{rule}/**/{sid}.log")):
        errors.append(f"SLURM job {sid} ({rule}): no log under {logdir}/rule_{rule}/")
    per_rule[rule].append(int(sid))
print("SLURM job ids per rule:")
for rule, n in planned.items():
    if rule in per_rule:
        ids = sorted(per_rule[rule])
        print(f"  {rule}: {' '.join(map(str, ids))}")
        if len(ids) != n:
            errors.append(f"rule {rule}: {n} jobs planned, {len(ids)} SLURM jobs")
    elif rule in local:
        print(f"  {rule}: local (target rule without an action; snakemake runs it on the submit host)")
    else:
        errors.append(f"rule {rule}: {n} jobs planned, no SLURM job")
for rule in sorted(set(per_rule) - set(planned)):
    errors.append(f"rule {rule}: SLURM jobs {per_rule[rule]} but not in the dry run's DAG")
nslurm = sum(len(v) for v in per_rule.values())
print(f"  total: {nslurm} SLURM jobs for {len(per_rule)} rules; local: {', '.join(sorted(local)) or 'none'}")
if errors:
    print("\n".join("ERROR: " + e for e in errors))
    sys.exit(1)
PY

# ---------------------------------------------------------------------------------------------------------
# 7. Same tables as a local run
# ---------------------------------------------------------------------------------------------------------
log "waiting for the local reference run (pid $LOCAL_PID)"
set +e
wait "$LOCAL_PID"
rc=$?
set -e
LOCAL_PID=""
T_LOCAL1=$(date +%s)
if [ "$rc" -ne 0 ]; then tail -n 60 "$WORK/local.log"; die "local run exited $rc"; fi
log "local run finished ($((T_LOCAL1 - T_LOCAL0)) s after its start, partly concurrent with setup)"

cd "$WORK"
mapfile -t A < <(cd slurm/results/tables && ls -1 ./*.csv 2>/dev/null | sort)
mapfile -t B < <(cd local/results/tables && ls -1 ./*.csv 2>/dev/null | sort)
[ "${#A[@]}" -gt 0 ] || die "no results/tables/*.csv from the SLURM run"
[ "${A[*]}" = "${B[*]}" ] || die "different table sets: SLURM (${A[*]}) vs local (${B[*]})"
# Byte for byte first. The workflow's fixed-effect estimates are not bit-reproducible from one process to the
# next (last-bit differences also between two local runs), so a file that differs is compared cell by cell:
# text cells equal, numbers equal to 1e-9 relative. INTELCAP_SLURM_STRICT=1 fails on any byte difference.
"$PYTHON" - "${A[@]}" <<'PY' || die "result tables differ between the SLURM and the local run"
import csv, math, os, sys
from pathlib import Path

def num(x):
    try:
        return float(x)
    except ValueError:
        return None

strict = os.environ.get("INTELCAP_SLURM_STRICT") == "1"
same = close = bad = 0
for f in (a.removeprefix("./") for a in sys.argv[1:]):
    pa, pb = Path("slurm/results/tables", f), Path("local/results/tables", f)
    if pa.read_bytes() == pb.read_bytes():
        same += 1
        print(f"  identical          {f}")
        continue
    ra, rb = list(csv.reader(pa.open(newline=""))), list(csv.reader(pb.open(newline="")))
    worst, problem = 0.0, None
    if [len(r) for r in ra] != [len(r) for r in rb]:
        problem = "different shape"
    for i, (x, y) in enumerate(zip(ra, rb)):
        for j, (u, v) in enumerate(zip(x, y)):
            if u == v or problem:
                continue
            fu, fv = num(u), num(v)
            if fu is None or fv is None or (math.isnan(fu) != math.isnan(fv)):
                problem = f"row {i + 1} col {j + 1}: {u!r} vs {v!r}"
                continue
            rel = abs(fu - fv) / max(abs(fu), abs(fv), 1e-300)
            worst = max(worst, rel)
            if rel > 1e-9 and abs(fu - fv) > 1e-12:
                problem = f"row {i + 1} col {j + 1}: {u} vs {v} (rel {rel:.1e})"
    if problem or strict:
        bad += 1
        print(f"  DIFFERENT          {f}: {problem or f'last-bit differences (max rel {worst:.1e}), strict mode'}")
    else:
        close += 1
        print(f"  last bits differ   {f} (max rel difference {worst:.1e})")
n = same + close + bad
if bad:
    print(f"ERROR: {bad} of {n} result tables differ between SLURM and local runs")
    sys.exit(1)
print(f"RESULT: {same} of {n} results/tables/*.csv identical byte for byte, {close} equal to 1e-9 relative")
PY
log "SLURM and local result tables agree"

T1=$(date +%s)
log "timings: setup (packages, conf, daemons) $((T_SETUP1 - T_SETUP0)) s; plugin $((T_PLUGIN1 - T_SETUP1)) s;" \
  "SLURM run $((T_RUN1 - T_RUN0)) s; local run $((T_LOCAL1 - T_LOCAL0)) s (background); total $((T1 - T0)) s"
log "SLURM OK"
