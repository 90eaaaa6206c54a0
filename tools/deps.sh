#!/bin/sh
# Checks the Debian packages dreamwatch needs. As root it installs what is missing; otherwise it prints
# the exact apt-get line and fails, so `make` stops before a confusing compiler error.
#   tools/deps.sh build    what `make` needs
#   tools/deps.sh check    what `make check` needs as well
set -u
build="gcc make pkg-config libncurses-dev libserialport-dev libedf-dev libinih-dev libmosquitto-dev libfftw3-dev"
check="tmux python3 python3-numpy python3-scipy python3-sklearn python3-pandas python3-mne clang libclang-rt-14-dev valgrind mosquitto mosquitto-clients openssl"
want=$build
[ "${1:-build}" = check ] && want="$build $check"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: not a Debian system; make sure these are installed: $want" >&2
    exit 0
fi
missing=""
for p in $want; do
    s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$s" in *"ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq $missing >&2 && exit 0
    echo "deps: apt-get failed; install by hand:$missing" >&2
    exit 1
fi
echo "deps: missing Debian packages. Run:" >&2
echo "  sudo apt-get install$missing" >&2
exit 1
