# Shared helpers for the end-to-end scripts (sourced, not run). They drive the real binary.
DW_BIN=${DW_BIN:-$PWD/build/dreamwatch}
DW_ROOT=${DW_ROOT:-$PWD}
export DW_ROOT          # scripts run alone as under tests/run.sh (their Python children read it)
SHARED=${DW_SHARED_DATA:-$DW_ROOT/../shared/data}
TMP=$(mktemp -d)
trap 'tm_stop_all; rm -rf "$TMP"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi; }
have_shared() { [ -d "$SHARED" ]; }
# A script stops what it starts, the way a user would, and waits for it: a live monitor whose
# terminal goes goes on headless (tmux kill-server alone leaves it recording), a replay may still be
# writing its summary. tests/run.sh fails a test that leaves a process behind.
# running PID: the process exists and is not a zombie
running() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'; }
# stop_pids PID...: SIGTERM (a safe shutdown), then up to 20 s for each to exit (children of this
# shell are waited for); one still there is killed and named in a FAIL line. 0 if all ended.
stop_pids() { [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    _left=$(wait_gone 200 "$@")
    [ -z "$_left" ] || { fail stop_pids "still running 20 s after SIGTERM, killed: $_left"
        kill -KILL $_left 2>/dev/null; }
    for _p in "$@"; do wait "$_p" 2>/dev/null; done
    [ -z "$_left" ]; }
# wait_gone TENTHS PID...: wait up to TENTHS x 0.1 s for the processes to end; print those left
wait_gone() { _n=$1; shift; _i=0
    while :; do _l=; for _p in "$@"; do running "$_p" && _l="$_l $_p"; done
        [ -z "$_l" ] || [ $_i -ge "$_n" ] && break; sleep 0.1; _i=$((_i + 1)); done
    echo $_l; }
# tmux on a private socket: tm_start W H CMD...; tm_keys KEYS...; tm_screen > file; tm_stop
# Each tm_start stops the session before it (tm_stop) and takes a fresh socket, so a server still
# shutting down cannot swallow the next session.
TMUX_SOCK=$TMP/tmux.sock
TM_N=0
tm_start() { w=$1; h=$2; shift 2; tm_stop; TM_N=$((TM_N + 1)); TMUX_SOCK=$TMP/tmux$TM_N.sock
    tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s t -x "$w" -y "$h" "$@" || return
    tmux -S "$TMUX_SOCK" display-message -p '#{pid}' > "$TMUX_SOCK.pid" 2>/dev/null; }
# tm_stop [SOCKET]: end the session on SOCKET (default the last one) as a user would: SIGTERM to
# the process group of each pane (what the pane runs, a safe shutdown, and the shell around it),
# waited for up to 20 s (then killed, a FAIL line), then the tmux server, waited for until gone.
tm_stop() { _s=${1:-$TMUX_SOCK}
    [ -S "$_s" ] || [ -f "$_s.pid" ] || return 0
    for _g in $(tmux -S "$_s" list-panes -a -F '#{pane_pid}' 2>/dev/null); do
        kill -TERM -"$_g" 2>/dev/null
        _i=0
        while pgrep -g "$_g" > /dev/null && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
        if pgrep -g "$_g" > /dev/null; then
            fail tm_stop "still running 20 s after SIGTERM, killed: $(pgrep -a -g "$_g" | tr "\\n" ";")"
            kill -KILL -"$_g" 2>/dev/null
        fi
    done
    tmux -S "$_s" kill-server 2>/dev/null
    _srv=$(cat "$_s.pid" 2>/dev/null)
    [ -n "$_srv" ] && [ -n "$(wait_gone 50 $_srv)" ] && kill -KILL $_srv 2>/dev/null
    rm -f "$_s" "$_s.pid"; }
tm_stop_all() { for _s in "$TMP"/tmux*.sock "$TMP"/tmux*.sock.pid; do tm_stop "${_s%.pid}"; done; }
tm_keys() { tmux -S "$TMUX_SOCK" send-keys -t t "$@"; }
tm_screen() { tmux -S "$TMUX_SOCK" capture-pane -p -t t; }
tm_resize() { tmux -S "$TMUX_SOCK" resize-window -t t -x "$1" -y "$2"; }
tm_alive() { tmux -S "$TMUX_SOCK" has-session -t t 2>/dev/null; }
# wait_for SECONDS PATTERN: poll the screen until PATTERN (grep -E) shows; 0 if it did
wait_for() { end=$(( $(date +%s) + $1 )); while [ "$(date +%s)" -le $end ]; do
    tm_screen 2>/dev/null | grep -Eq "$2" && return 0; sleep 0.2; done; return 1; }
