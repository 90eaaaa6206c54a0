# Shared helpers for the end-to-end scripts (sourced, not run). They drive the real binary.
DW_BIN=${DW_BIN:-$PWD/build/dreamwatch}
DW_ROOT=${DW_ROOT:-$PWD}
SHARED=${DW_SHARED_DATA:-$DW_ROOT/../shared/data}
TMP=$(mktemp -d)
trap 'for s in "$TMP"/tmux*.sock; do [ -S "$s" ] && tmux -S "$s" kill-server 2>/dev/null; done; rm -rf "$TMP"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi; }
have_shared() { [ -d "$SHARED" ]; }
# tmux on a private socket: tm_start W H CMD...; tm_keys KEYS...; tm_screen > file
# Each tm_start takes a fresh socket, so a server still shutting down cannot swallow the next session.
TMUX_SOCK=$TMP/tmux.sock
TM_N=0
tm_start() { w=$1; h=$2; shift 2; TM_N=$((TM_N + 1)); TMUX_SOCK=$TMP/tmux$TM_N.sock
    tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s t -x "$w" -y "$h" "$@"; }
tm_keys() { tmux -S "$TMUX_SOCK" send-keys -t t "$@"; }
tm_screen() { tmux -S "$TMUX_SOCK" capture-pane -p -t t; }
tm_resize() { tmux -S "$TMUX_SOCK" resize-window -t t -x "$1" -y "$2"; }
tm_alive() { tmux -S "$TMUX_SOCK" has-session -t t 2>/dev/null; }
# wait_for SECONDS PATTERN: poll the screen until PATTERN (grep -E) shows; 0 if it did
wait_for() { end=$(( $(date +%s) + $1 )); while [ "$(date +%s)" -le $end ]; do
    tm_screen 2>/dev/null | grep -Eq "$2" && return 0; sleep 0.2; done; return 1; }
