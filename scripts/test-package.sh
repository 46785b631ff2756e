#!/usr/bin/env bash
# The `package` stage of scripts/test.sh: builds the Debian packages and
# checks them the way a user meets them.
#
#   1. scripts/package.sh into build-pkg/
#   2. dpkg-deb: each package holds what it should (binaries, headers,
#      library, CMake package, units, sysusers.d, conffile, man pages,
#      completion, copyright, changelog; python3-mmm: the package mmm in
#      /usr/lib/python3/dist-packages, extension and stubs included) and
#      nothing of the others; man pages render without warnings and list
#      every mmmctl command of --help
#   3. lintian: no errors (warnings are printed)
#   4. as root, on a machine where mmm is not installed and no user mmm exists
#      (else steps 4-9 are skipped, with the reason):
#      apt-get install ./build-pkg/packages/*.deb; the user and group mmm
#      (system uid), the conffile, mmmd.service enabled
#   5. systemd-analyze verify of the system and the user unit (offline)
#   6. mmmd started by hand as user mmm with the unit's own command line and
#      settings (no systemd runs in CI); an outside project built against /usr
#      with find_package(mmm) and with pkg-config; a member of group mmm
#      creates a chunk, another member updates it, a non-member is refused;
#      /usr/bin/python3 imports the installed mmm and reads the chunk
#   7. an upgrade (dpkg -i of the same package) while mmmd is stopped keeps
#      the chunk; the restarted mmmd re-adopts it; bash completion offers the
#      commands and the chunk
#   8. apt-get purge: no file of the packages, no user or group mmm, no
#      segment of user mmm (both forms: mmm.<ns>.<chunk> files and mmm.<ns>/
#      directories), no /run/mmm, no unit enablement left; someone else's
#      /dev/shm/mmm.* survives
#   9. on any exit (trap): mmmd stopped by its pid, packages purged, the test
#      users and files removed
#
# Usage: scripts/test-package.sh      Exit status: 0 when every check passed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="build-pkg"
runtime=/run/mmm
test_users=(mmmci-producer mmmci-member mmmci-outsider)
decoy=/dev/shm/mmm.pkgtest-not-mmms

work="$(mktemp -d "${TMPDIR:-/tmp}/mmm-package.XXXXXX")"
chmod 755 "$work" # the test users run programs built in here
mmmd_pid=""
installed=0

note() { printf 'test-package: %s\n' "$*"; }
fail() {
  printf 'test-package: FAILED: %s\n' "$*" >&2
  exit 1
}

# --- processes and clean-up ------------------------------------------------------
# stop_mmmd: SIGTERM to the mmmd this script started, then SIGKILL after 10 s.
stop_mmmd() {
  [[ -n $mmmd_pid ]] || return 0
  local pid=$mmmd_pid i
  mmmd_pid=""
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05 # poll interval of a bounded wait
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
  fi
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  stop_mmmd
  if ((installed)); then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq mmm libmmm-dev python3-mmm >/dev/null 2>&1 ||
      dpkg --purge mmm libmmm-dev python3-mmm >/dev/null 2>&1
  fi
  local user
  for user in "${test_users[@]}"; do
    getent passwd "$user" >/dev/null && userdel "$user" >/dev/null 2>&1
    getent group "$user" >/dev/null && groupdel "$user" >/dev/null 2>&1
  done
  rm -rf -- "$decoy" "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. build --------------------------------------------------------------------
scripts/package.sh "$build"
mmm_deb="$(ls "$build"/packages/mmm_*.deb)"
dev_deb="$(ls "$build"/packages/libmmm-dev_*.deb)"
py_deb="$(ls "$build"/packages/python3-mmm_*.deb)" ||
  fail "no python3-mmm package (is the Python package built? see scripts/install-deps.sh)"
pydir=/usr/lib/python3/dist-packages/mmm
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH)"

# --- 2. contents -----------------------------------------------------------------
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|; s|/$||'; }
contents "$mmm_deb" >"$work/mmm.files"
contents "$dev_deb" >"$work/dev.files"
contents "$py_deb" >"$work/py.files"
expect_files() {
  local list=$1 path
  shift
  for path in "$@"; do
    grep -qxF -- "$path" "$list" || fail "$(basename "$list" .files) lacks $path"
  done
}
expect_files "$work/mmm.files" /usr/bin/mmmd /usr/bin/mmmctl \
  /usr/lib/systemd/system/mmmd.service /usr/lib/systemd/user/mmmd.service \
  /usr/lib/sysusers.d/mmm.conf /etc/default/mmmd \
  /usr/share/man/man8/mmmd.8.gz /usr/share/man/man1/mmmctl.1.gz \
  /usr/share/bash-completion/completions/mmmctl \
  /usr/share/doc/mmm/copyright /usr/share/doc/mmm/changelog.Debian.gz \
  /usr/share/doc/mmm/README.md /usr/share/doc/mmm/DEPLOYMENT.md /usr/share/doc/mmm/SECURITY.md
expect_files "$work/dev.files" /usr/include/mmm/mmm.hpp "/usr/lib/$multiarch/libmmm.a" \
  "/usr/lib/$multiarch/cmake/mmm/mmmConfig.cmake" "/usr/lib/$multiarch/cmake/mmm/mmmTargets.cmake" \
  "/usr/lib/$multiarch/pkgconfig/mmm.pc" \
  /usr/share/doc/libmmm-dev/copyright /usr/share/doc/libmmm-dev/changelog.Debian.gz
expect_files "$work/py.files" "$pydir/__init__.py" "$pydir/_errors.py" "$pydir/shared_memory.py" \
  "$pydir/_mmm.pyi" "$pydir/py.typed" \
  /usr/share/doc/python3-mmm/copyright /usr/share/doc/python3-mmm/changelog.Debian.gz
grep -qE "^$pydir/_mmm\.cpython-[0-9]+-.*\.so$" "$work/py.files" || fail "python3-mmm lacks the extension"
! grep -vE "^($pydir|/usr/share/doc/python3-mmm)(/|$)|^/usr(/share(/doc)?|/lib(/python3(/dist-packages)?)?)?$|^/?$" \
  "$work/py.files" || fail "python3-mmm holds files outside $pydir"
! grep -E '^/usr/lib/python3' "$work/mmm.files" "$work/dev.files" || fail "mmm or libmmm-dev holds Python files"
py_depends="$(dpkg-deb -f "$py_deb" Depends)"
[[ $py_depends == *python3-numpy* && $py_depends == *libc6* ]] ||
  fail "python3-mmm's Depends lack python3-numpy or libc6: $py_depends"
! grep -E '^/usr/(include|lib/.*\.a$)' "$work/mmm.files" || fail "mmm holds development files"
! grep -E '^/usr/bin/' "$work/dev.files" || fail "libmmm-dev holds programs"
! grep -vE '^/(usr|etc)(/|$)' "$work/mmm.files" "$work/dev.files" || fail "files outside /usr and /etc"
[[ "$(dpkg-deb -f "$mmm_deb" Depends)" == *libc6* ]] || fail "mmm's Depends lack libc6 (dpkg-shlibdeps)"
# (Outputs go through variables: `grep -q` in a pipe may end its writer with
# SIGPIPE, which pipefail reports as a failure.)
conffiles="$(dpkg-deb --ctrl-tarfile "$mmm_deb" | tar -xO ./conffiles)"
grep -qx /etc/default/mmmd <<<"$conffiles" || fail "/etc/default/mmmd is not a conffile"

dpkg-deb -x "$mmm_deb" "$work/mmm-root"
grep -q '^ExecStart=/usr/bin/mmmd ' "$work/mmm-root/usr/lib/systemd/system/mmmd.service" ||
  fail "the system unit does not start /usr/bin/mmmd"
grep -q '^ExecStart=/usr/bin/mmmd ' "$work/mmm-root/usr/lib/systemd/user/mmmd.service" ||
  fail "the user unit does not start /usr/bin/mmmd"
if command -v man >/dev/null; then
  for page in "$work"/mmm-root/usr/share/man/man*/*.gz; do
    warnings="$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)"
    [[ -z $warnings ]] || fail "$(basename "$page"): groff warnings: $warnings"
  done
else
  note "no man program (man-db): man pages not rendered"
fi
mapfile -t commands < <("$work/mmm-root/usr/bin/mmmctl" --help |
  sed -n '/^Subcommands:$/,/^$/s/^  \([a-z][a-z0-9_-]*\).*/\1/p')
((${#commands[@]} > 0)) || fail "mmmctl --help lists no commands"
mmmctl_page="$(zcat "$work/mmm-root/usr/share/man/man1/mmmctl.1.gz")"
for command in "${commands[@]}"; do
  grep -q "^\.SS \"mmmctl $command " <<<"$mmmctl_page" ||
    fail "mmmctl(1) has no section for the command $command"
done
note "contents ok: $(wc -l <"$work/mmm.files") entries in mmm, $(wc -l <"$work/dev.files") in libmmm-dev, $(wc -l <"$work/py.files") in python3-mmm; man pages cover ${commands[*]}"

# --- 3. lintian ------------------------------------------------------------------
lintian_rc=0
lintian --fail-on error --display-info "$mmm_deb" "$dev_deb" "$py_deb" >"$work/lintian.log" 2>&1 || lintian_rc=$?
grep -v '^running with root privileges is not recommended!$' "$work/lintian.log" || true
((lintian_rc == 0)) || fail "lintian reports errors (exit $lintian_rc)"
note "lintian: no errors"

# --- 4. install --------------------------------------------------------------------
skip_reason=""
if ((EUID != 0)); then
  skip_reason="not root"
elif dpkg-query -W -f='${Status}' mmm libmmm-dev python3-mmm 2>/dev/null | grep -q 'ok installed'; then
  skip_reason="mmm, libmmm-dev or python3-mmm is already installed on this machine: not replacing and purging it"
elif getent passwd mmm >/dev/null || getent group mmm >/dev/null; then
  skip_reason="a user or group mmm exists already: the purge check would remove it"
elif [[ -e $runtime ]]; then
  skip_reason="$runtime exists already"
fi
if [[ -n $skip_reason ]]; then
  note "skipping install, run, upgrade and purge checks: $skip_reason"
  exit 0
fi
for user in "${test_users[@]}"; do # left over by a run that was killed
  getent passwd "$user" >/dev/null && userdel "$user"
  getent group "$user" >/dev/null && groupdel "$user"
done

installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$mmm_deb" "./$dev_deb" "./$py_deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; fail "apt-get install of the packages failed"; }
mmm_uid="$(id -u mmm)" || fail "no user mmm after the install"
getent group mmm >/dev/null || fail "no group mmm after the install"
sys_uid_max="$(awk '$1 == "SYS_UID_MAX" {print $2}' /etc/login.defs 2>/dev/null)"
((mmm_uid <= ${sys_uid_max:-999})) || fail "user mmm has uid $mmm_uid, not a system uid"
[[ -f /etc/default/mmmd ]] || fail "no /etc/default/mmmd"
enabled_link=/etc/systemd/system/multi-user.target.wants/mmmd.service
[[ -L $enabled_link ]] || fail "mmmd.service is not enabled ($enabled_link)"
note "installed: user mmm (uid $mmm_uid), mmmd.service enabled"

# --- 5. systemd-analyze verify (offline: it needs no running systemd) -------------
man_check=--man=no
[[ -e /usr/share/man/man8/mmmd.8.gz ]] && command -v man >/dev/null && man_check=--man=yes
verify() {
  local output
  output="$("$@" 2>&1)" || fail "$* failed: $output"
  [[ -z $output ]] || fail "$* warns: $output"
}
verify systemd-analyze verify "$man_check" /usr/lib/systemd/system/mmmd.service
mkdir -m 0700 "$work/xdg"
XDG_RUNTIME_DIR="$work/xdg" verify systemd-analyze --user verify "$man_check" \
  /usr/lib/systemd/user/mmmd.service
note "systemd-analyze verify: both units clean ($man_check);" \
  "$(systemd-analyze security --offline=yes /usr/lib/systemd/system/mmmd.service 2>&1 |
    grep -o 'Overall exposure level.*' || echo 'no exposure level')"

# --- 6. mmmd as the unit runs it ----------------------------------------------------
# unit_command UNIT: the unit's ExecStart= words after systemd's expansion of
# ${NAME} (one word) and $NAME (split), with the values of its Environment=
# lines overridden by the EnvironmentFile= (/etc/default/mmmd).
unit_command() {
  local unit=$1 line exec="" in_exec=0 word
  local -A env=()
  while IFS= read -r line; do
    if ((in_exec)); then
      exec+=" ${line%\\}"
      [[ $line == *\\ ]] || in_exec=0
    elif [[ $line == ExecStart=* ]]; then
      exec="${line#ExecStart=}"
      exec="${exec%\\}"
      [[ $line == *\\ ]] && in_exec=1
    elif [[ $line == Environment=* ]]; then
      for word in ${line#Environment=}; do env[${word%%=*}]="${word#*=}"; done
    fi
  done <"$unit"
  while IFS= read -r line; do
    [[ $line =~ ^([A-Z_][A-Z0-9_]*)=\"?([^\"]*)\"?$ ]] && env[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}"
  done </etc/default/mmmd
  local -a words=() split=()
  for word in $exec; do
    if [[ $word =~ ^\$([A-Z_][A-Z0-9_]*)$ ]]; then
      read -ra split <<<"${env[${BASH_REMATCH[1]}]:-}" # $NAME: split on blanks
      words+=("${split[@]}")
    else
      while [[ $word =~ \$\{([A-Z_][A-Z0-9_]*)\} ]]; do
        word="${word//"${BASH_REMATCH[0]}"/${env[${BASH_REMATCH[1]}]:-}}"
      done
      words+=("$word")
    fi
  done
  printf '%s\n' "${words[@]}"
}
mapfile -t mmmd_command < <(unit_command /usr/lib/systemd/system/mmmd.service)
note "the unit's command: ${mmmd_command[*]}"
[[ ${mmmd_command[0]} == /usr/bin/mmmd ]] || fail "unexpected ExecStart: ${mmmd_command[*]}"

# What RuntimeDirectory=mmm, RuntimeDirectoryMode=0710, User=, Group= and UMask= do.
start_mmmd() {
  install -d -o mmm -g mmm -m 0710 "$runtime"
  (
    umask 0077
    exec setpriv --reuid=mmm --regid=mmm --init-groups -- "${mmmd_command[@]}"
  ) 2>>"$work/mmmd.log" &
  mmmd_pid=$!
  local i
  for ((i = 0; i < 200; i++)); do
    mmmctl --runtime-dir "$runtime" stats >/dev/null 2>&1 && return 0
    kill -0 "$mmmd_pid" 2>/dev/null || break
    sleep 0.05 # poll interval of a bounded wait
  done
  cat "$work/mmmd.log" >&2
  fail "mmmd did not serve on $runtime within 10 s"
}
start_mmmd
[[ "$(stat -c '%U %G %a' "$runtime/mmmd.sock")" == "mmm mmm 660" ]] ||
  fail "socket is $(stat -c '%U %G %a' "$runtime/mmmd.sock"), not mmm mmm 660"
[[ "$(stat -c '%U %G %a' "$runtime")" == "mmm mmm 710" ]] || fail "$runtime is not mmm mmm 710"
note "mmmd runs as user mmm (pid $mmmd_pid) on $runtime"

# An outside project against /usr: the CMake package, then pkg-config.
cmake -S packaging/ci/consumer -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release >"$work/consumer.log" ||
  { cat "$work/consumer.log"; fail "configuring the consumer against /usr failed"; }
grep -q "from /usr/lib/$multiarch/cmake/mmm" "$work/consumer.log" ||
  { cat "$work/consumer.log"; fail "find_package(mmm) did not find /usr's package"; }
cmake --build "$work/consumer" -j2 >>"$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log"; fail "building the consumer failed"; }
share="$work/consumer/share"
[[ "$(realpath "$(pkg-config --variable=prefix mmm)")" == /usr ]] ||
  fail "mmm.pc's prefix is $(pkg-config --variable=prefix mmm), not /usr"
# shellcheck disable=SC2046 # pkg-config's flags are words
g++ -std=c++20 -O1 -o "$work/share-pc" packaging/ci/consumer/main.cpp $(pkg-config --cflags --libs mmm) ||
  fail "building the consumer with pkg-config failed"
note "consumer built against /usr with find_package(mmm) and with pkg-config"

useradd --system --no-create-home --shell /usr/sbin/nologin --groups mmm mmmci-producer
useradd --system --no-create-home --shell /usr/sbin/nologin --groups mmm mmmci-member
useradd --system --no-create-home --shell /usr/sbin/nologin mmmci-outsider
# as USER [GROUP] -- COMMAND: runs COMMAND as USER, primary group GROUP (default
# the user's own), with the user's supplementary groups, on the system mmmd.
as() {
  local user=$1 group=$1
  shift
  [[ $1 != -- ]] && { group=$1; shift; }
  shift
  MMM_RUNTIME_DIR=$runtime setpriv --reuid="$user" --regid="$group" --init-groups -- "$@"
}
# The chunk's group is its creator's primary group: create it as group mmm.
as mmmci-producer mmm -- "$share" create pkgtest.shared 41 >/dev/null || fail "a member of mmm could not create"
as mmmci-member -- "$share" update pkgtest.shared 41 42 >/dev/null ||
  fail "another member of mmm could not update the chunk"
as mmmci-producer mmm -- "$work/share-pc" expect pkgtest.shared 42 >/dev/null ||
  fail "the producer does not see the member's write"
rc=0
as mmmci-outsider -- "$share" connect >/dev/null 2>&1 || rc=$?
((rc == 10 + 7)) || fail "a user outside group mmm got exit $rc, not permission_denied (17)"
note "a chunk shared between two members of group mmm; an outsider is refused"

# The installed Python package, as a member of group mmm, from a neutral
# directory (not the source tree), without writing bytecode into /usr.
got="$(cd / && as mmmci-member -- env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c '
import mmm, sys
assert mmm.__file__.startswith("/usr/lib/python3/dist-packages/mmm/"), mmm.__file__
with mmm.Client().open("pkgtest.shared", readonly=True) as c:
    print(mmm.__file__, c.dtype, c.array[0], c.array[-1])
')" || fail "python3 could not import the installed mmm or read the chunk: $got"
[[ $got == "$pydir/__init__.py uint64 42 42" ]] || fail "the installed mmm read: $got"
note "python3 imports the installed mmm ($pydir) and reads the chunk"

# --- 7. upgrade with mmmd stopped; completion -------------------------------------
stop_mmmd || fail "mmmd did not exit cleanly on SIGTERM: $(cat "$work/mmmd.log")"
DEBIAN_FRONTEND=noninteractive dpkg -i "$mmm_deb" >"$work/upgrade.log" 2>&1 ||
  { cat "$work/upgrade.log"; fail "upgrading mmm (dpkg -i) failed"; }
[[ -n "$(find /dev/shm -maxdepth 1 -name 'mmm.*' -uid "$mmm_uid" -print -quit)" ]] ||
  fail "the upgrade removed the chunk's segment"
start_mmmd
as mmmci-member -- "$share" expect pkgtest.shared 42 >/dev/null ||
  fail "the chunk was not re-adopted after the upgrade and restart"
note "the chunk survived an upgrade and a restart"

completion() {
  bash -c 'source /usr/share/bash-completion/completions/mmmctl
           COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mmmctl; printf "%s\n" "${COMPREPLY[@]}"' \
    completion "$@"
}
offered="$(completion mmmctl "")"
for command in "${commands[@]}"; do
  grep -qx "$command" <<<"$offered" || fail "completion does not offer $command (offers: $offered)"
done
offered="$(completion mmmctl dump --)"
grep -qx -- --offset <<<"$offered" || fail "completion does not offer dump --offset (offers: $offered)"
offered="$(completion mmmctl --runtime-dir "$runtime" info pkgtest.)"
grep -qx pkgtest.shared <<<"$offered" ||
  fail "completion does not offer the chunk pkgtest.shared (offers: $offered)"
note "bash completion offers the commands, their options and the chunk names"

# --- 8. purge ---------------------------------------------------------------------
# Segments of both forms owned by mmm, and someone else's that must stay.
install -d -o mmm -g mmm -m 0700 /dev/shm/mmm.pkgtest-dir
install -o mmm -g mmm -m 0600 /dev/null /dev/shm/mmm.pkgtest-dir/chunk
install -o root -g root -m 0600 /dev/null "$decoy"
stop_mmmd || fail "mmmd did not exit cleanly on SIGTERM: $(cat "$work/mmmd.log")"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq mmm libmmm-dev python3-mmm >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log"; fail "apt-get purge failed"; }
installed=0
grep '^mmm: ' "$work/purge.log" >&2 || true # the postrm's warnings, if any
left=()
while IFS= read -r path; do
  [[ -z $path || -d $path ]] && continue # directories are shared (/usr/bin, ...)
  [[ -e $path || -L $path ]] && left+=("$path")
done < <(cat "$work/mmm.files" "$work/dev.files" "$work/py.files")
((${#left[@]} == 0)) || fail "files left by the purge: ${left[*]}"
for dir in /usr/include/mmm "/usr/lib/$multiarch/cmake/mmm" /usr/share/doc/mmm /usr/share/doc/libmmm-dev \
  "$pydir" /usr/share/doc/python3-mmm; do
  [[ ! -e $dir ]] || fail "$dir is left after the purge"
done
! getent passwd mmm >/dev/null || fail "user mmm is left after the purge"
! getent group mmm >/dev/null || fail "group mmm is left after the purge"
segments="$(find /dev/shm /run/mmm-huge -maxdepth 1 -name 'mmm.*' -uid "$mmm_uid" 2>/dev/null || true)"
[[ -z $segments ]] || fail "segments of user mmm left after the purge: $segments"
[[ -e $decoy ]] || fail "the purge removed $decoy, which is not user mmm's"
[[ ! -e $runtime ]] || fail "$runtime is left after the purge"
[[ ! -e $enabled_link && ! -e /var/lib/systemd/deb-systemd-helper-enabled/mmmd.service.dsh-also ]] ||
  fail "the enablement of mmmd.service is left after the purge"
note "purge left no files, user, group, segments or enablement behind"
