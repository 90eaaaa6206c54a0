#!/bin/sh
# A write failure while a night closes reaches the session summary, the exit lines and the exit status
# (it was said once on standard error, under the screen for a monitor, and the summary read as a whole
# night's):
#  - every fdatasync fails (EIO, strace fault injection on the real `record`) when SIGTERM closes the
#    recording: exit 1, the summary opens with "## Failed" and the exit lines end with "the night ended
#    with errors", both saying "closing the recording failed" and why;
#  - the disk full when it closes (a 2-MB tmpfs filled just before SIGTERM): exit 1, the exit lines name
#    the recording and the summary, neither of which could be written.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip closing "no binary at $DW_BIN"; exit 0; }
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data" XDG_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TMP/run"
REC= ST=
trap '[ -n "$ST" ] && kill $ST 2>/dev/null; [ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null
      wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"
bdf_bytes() { stat -c %s "$(ls "$1"/*.bdf 2>/dev/null | head -n 1)" 2>/dev/null || echo 0; }

# ---- fdatasync fails while the recording closes ----
if command -v strace > /dev/null; then
    start_emu
    "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/a" > /dev/null 2> "$TMP/a.err" & REC=$!
    i=0; while [ "$(bdf_bytes "$TMP/a")" -lt 24000 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    # fdatasync fails; each rename waits 2 s, so strace can leave before the process exits (LeakSanitizer
    # cannot run under ptrace): it leaves once the summary is being written, the recording closed
    strace -f -qq -o /dev/null -p $REC -e trace=fdatasync,renameat2,rename \
        -e inject=fdatasync:error=EIO -e inject=renameat2,rename:delay_enter=2000000 & ST=$!
    sleep 1
    kill -TERM $REC
    i=0; while ! ls -a "$TMP/a" | grep -q '^\..*\.summary\.txt\.' && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    kill $ST; wait $ST 2>/dev/null; ST=
    left=$(wait_gone 300 $REC); wait $REC; rc=$?; REC=
    stop_emu
    sum=$(ls "$TMP"/a/*.summary.txt 2>/dev/null | head -n 1)
    failed=$(sed -n '/^## Failed$/,/^$/p' "$sum" 2>/dev/null | sed -n 2p)
    tail_err=$(sed -n '/the night ended with errors/,$p' "$TMP/a.err")
    if [ -z "$left" ] && [ "$rc" = 1 ] && echo "$failed" | grep -q '^closing the recording failed.*Input/output error' &&
       echo "$tail_err" | grep -q '^dreamwatch: the night ended with errors (exit status 1):' &&
       echo "$tail_err" | grep -q '^  closing the recording failed.*Input/output error'; then
        pass "closing_sync_failed: exit 1; the summary and the exit lines say '$failed'"
    else
        fail closing_sync_failed "exit $rc${left:+ (still running)}; summary: ${sum:-none}: '${failed:-no Failed section}'; exit lines: $(tail -n 3 "$TMP/a.err" | tr '\n' ';')"
    fi
else
    skip closing_sync_failed "no strace"
fi

# ---- the disk full when the night closes ----
if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
    skip closing_disk_full "not root, or no private mount namespace here (a tmpfs needs mount)"; exit 0
fi
start_emu
export DW_BIN TMP
unshare -m --propagation private sh -c '
    M=$TMP/mnt; mkdir -p "$M"
    mount -t tmpfs -o size=2m,mode=0700 tmpfs "$M" || exit 3
    "$DW_BIN" record --serial "$TMP/tty" --out "$M" > /dev/null 2> "$TMP/b.err" &
    r=$!
    sleep 4
    head -c 3000000 /dev/zero > "$M/filler" 2>/dev/null      # the disk is full
    kill -TERM $r; wait $r; echo $? > "$TMP/b.rc"
    ls -a "$M" > "$TMP/b.ls"
    umount "$M"
'
stop_emu
rc=$(cat "$TMP/b.rc" 2>/dev/null)
tail_err=$(sed -n '/the night ended with errors/,$p' "$TMP/b.err")
if [ "$rc" = 1 ] && echo "$tail_err" | grep -q '^dreamwatch: the night ended with errors (exit status 1):' &&
   echo "$tail_err" | grep -q '^  closing the recording failed.*disk full' &&
   echo "$tail_err" | grep -q '^  writing the summary failed'; then
    pass "closing_disk_full: exit 1; the exit lines name the recording and the summary ($(echo "$tail_err" | sed 1d | cut -c1-60 | tr '\n' ';'))"
else
    fail closing_disk_full "exit $rc; exit lines: $(tail -n 4 "$TMP/b.err" | tr '\n' ';')"
fi
