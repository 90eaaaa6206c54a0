#!/bin/sh
# A ward over a real broker: mosquitto on 127.0.0.1 (a free port, TLS with a CA made here, passwords, the
# shipped ACL), 10 emulated beds (`emulate` + `record --publish`), one more bed recording without a broker
# as the reference, and `dreamwatch ward` in tmux. Checks: every bed shows; a command from the ward is
# acknowledged; a critical alert goes to the top; wrong credentials, a bed writing another bed's topic or
# a command, a replayed or stale command are refused; the broker killed for 20 s: the ward says so and
# shows the beds stale, then recovers; every recording holds the reference's samples.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip ward_broker "no binary at $DW_BIN"; exit 0; }
for t in mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd openssl tmux; do
    command -v $t >/dev/null 2>&1 || [ -x /usr/sbin/$t ] || { skip ward_broker "$t is not installed (tools/deps.sh check)"; exit 0; }
done
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
PIDS= BROKER=
cleanup() {
    stop_pids $PIDS; [ -n "$BROKER" ] && kill $BROKER 2>/dev/null
    tm_stop_all
    wait 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT
export XDG_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TMP/run"
N=10
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="mqtts://127.0.0.1:$PORT/dreamwatch"

# ---- a CA, the broker's certificate for 127.0.0.1, passwords, the shipped ACL ----
cd "$TMP" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=dw-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out broker.crt -days 2 -extfile san.ext 2>/dev/null
users="station"
i=1; while [ $i -le $N ]; do users="$users bed$i"; i=$((i + 1)); done
: > passwd
for u in $users bed11; do
    mosquitto_passwd -b passwd "$u" "pw-$u" 2>/dev/null
    (umask 077; printf '%s:pw-%s\n' "$u" "$u" > "cred-$u")
done
(umask 077; printf 'bed11:wrong-password\n' > cred-bed11)
cp "$DW_ROOT/sample-data/broker/acl.example" acl
cat > mosquitto.conf <<CONF
per_listener_settings false
allow_anonymous false
password_file $TMP/passwd
acl_file $TMP/acl
persistence false
user root
listener $PORT 127.0.0.1
cafile $TMP/ca.crt
certfile $TMP/broker.crt
keyfile $TMP/broker.key
CONF
start_broker() { "$MOSQ" -c "$TMP/mosquitto.conf" >> "$TMP/broker.log" 2>&1 & BROKER=$!
    i=0; while ! mosquitto_sub -h 127.0.0.1 -p $PORT --cafile "$TMP/ca.crt" -u station -P pw-station -t x -E \
        >/dev/null 2>&1 && [ $i -lt 50 ] && kill -0 $BROKER; do sleep 0.1; i=$((i + 1)); done; }
start_broker
# the station's mosquitto_sub/pub: sub TOPIC SECONDS [COUNT] > file; pub USER TOPIC MESSAGE
sub() { timeout "$2" mosquitto_sub -h 127.0.0.1 -p $PORT --cafile "$TMP/ca.crt" -u station -P pw-station -q 1 -t "$1" -v ${3:+-C $3}; }
pub() { mosquitto_pub -h 127.0.0.1 -p $PORT --cafile "$TMP/ca.crt" -u "$1" -P "pw-$1" -q 1 -t "$2" -m "$3"; }
newid() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
cmd_doc() { printf '{"id":"%s","ts":%s,"bed":"%s","op":"%s","arg":%s}' "$1" "$2" "$3" "$4" "$5"; }

# ---- beds ----
emu() { "$DW_BIN" emulate --link "$TMP/tty$1" --seconds 600 > /dev/null 2>&1 & PIDS="$PIDS $!"; eval "EMU_$1=$!"; }
i=1; while [ $i -le $N ]; do emu $i; i=$((i + 1)); done
emu ref
sleep 1
rec() {  # rec NAME [options]
    n=$1; shift
    "$DW_BIN" record --serial "$TMP/tty$n" --out "$TMP/rec$n" "$@" > "$TMP/rec$n.out" 2> "$TMP/rec$n.err" &
    PIDS="$PIDS $!"; eval "REC_$n=$!"
}
i=1; while [ $i -le $N ]; do
    rec $i --publish "$URL" --bed bed$i --set publish.cafile="$TMP/ca.crt" --set publish.credentials="$TMP/cred-bed$i" \
        --set publish.keepalive_s=5
    i=$((i + 1))
done
rec ref
T0=$(date +%s)
tm_start 150 $((N + 8)) "$DW_BIN" ward --broker "$URL" --cafile "$TMP/ca.crt" --credentials "$TMP/cred-station" --stale 12
online() { tm_screen | grep -cE '^bed[0-9]+ +online'; }
wait_online() { end=$(( $(date +%s) + $1 )); while [ "$(date +%s)" -le $end ]; do
    [ "$(online)" -ge "$2" ] && return 0; sleep 0.5; done; return 1; }
check "ward_broker: the ward shows all $N beds online" wait_online 25 $N
check "ward_broker: the bed ids are the topics' (bed1 .. bed$N), the header names the broker" \
    sh -c "tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -q '127.0.0.1:$PORT/dreamwatch  $N beds'"

# ---- security, with the real broker and the shipped ACL ----
mosquitto_pub -h 127.0.0.1 -p $PORT --cafile ca.crt -u bed1 -P wrong -q 1 -t dreamwatch/bed/bed1/event -m x \
    > /dev/null 2> wrong.err; st=$?
check "ward_broker: wrong credentials are refused by the broker" sh -c "[ $st -ne 0 ] && grep -qi 'not authori' wrong.err"
sub dreamwatch/bed/bed2/event 6 > forged.txt &
SUBP=$!
sleep 1
pub bed1 dreamwatch/bed/bed2/event '{"forged":"by bed1"}'
pub bed2 dreamwatch/bed/bed2/event '{"genuine":"bed2"}'
wait $SUBP
check "ward_broker: a bed writing another bed's topic is dropped by the ACL (bed2 writing its own arrives)" \
    sh -c "grep -q genuine forged.txt && ! grep -q forged.by forged.txt"
sub dreamwatch/bed/bed2/cmd_ack 6 > bedcmd.txt &
SUBP=$!
sleep 1
id=$(newid)
pub bed1 dreamwatch/bed/bed2/cmd "$(cmd_doc $id "$(date +%s.%N)" bed2 marker 0)"
wait $SUBP
check "ward_broker: only operators may write commands (a bed's command never reaches the other bed)" \
    sh -c "! grep -q $id bedcmd.txt"
sub dreamwatch/bed/bed3/cmd_ack 8 3 > acks.txt &
SUBP=$!
sleep 1
id=$(newid); doc=$(cmd_doc $id "$(date +%s.%N)" bed3 marker 0)
pub station dreamwatch/bed/bed3/cmd "$doc"
sleep 0.5
pub station dreamwatch/bed/bed3/cmd "$doc"
sid=$(newid)
pub station dreamwatch/bed/bed3/cmd "$(cmd_doc $sid $(( $(date +%s) - 120 )) bed3 marker 0)"
wait $SUBP
check "ward_broker: an operator's command is carried out and acknowledged" grep -q "\"id\":\"$id\",\"ok\":true" acks.txt
check "ward_broker: the same command replayed is refused (\"replayed\")" \
    grep -q "\"id\":\"$id\",\"ok\":false,\"reason\":\"replayed\"" acks.txt
check "ward_broker: a command two minutes old is refused (\"stale\")" grep -q "\"id\":\"$sid\",\"ok\":false,\"reason\":\"stale\"" acks.txt
emu 11
i=0; while [ ! -L "$TMP/tty11" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
rec 11 --publish "$URL" --bed bed11 --set publish.cafile="$TMP/ca.crt" --set publish.credentials="$TMP/cred-bed11"
chmod 644 cred-bed1
"$DW_BIN" record --serial "$TMP/not-a-tty" --no-record --publish "$URL" --bed bedX --set publish.credentials="$TMP/cred-bed1" \
    > /dev/null 2> mode.err < /dev/null; st=$?
chmod 600 cred-bed1
check "ward_broker: a credentials file others can read is refused before anything starts, exit 2 (a configuration error)" \
    sh -c "[ $st -eq 2 ] && grep -q 'cred-bed1.*0600.*0644' mode.err"
"$DW_BIN" record --serial "$TMP/not-a-tty" --no-record --publish "$URL" --bed e2e --subject e2e > /dev/null 2> subj.err < /dev/null; st=$?
check "ward_broker: a bed id equal to the subject code is refused, exit 2 (a configuration error)" sh -c "[ $st -eq 2 ] && grep -q 'subject code' subj.err"

# ---- a command from the station, acknowledged on screen ----
tm_keys n; sleep 0.5; tm_keys y
check "ward_broker: a command from the ward is confirmed by the bed on screen" wait_for 8 'bed bed[0-9]+: natural acknowledged'

# ---- a critical alert: the bed's board stops sending ----
kill $EMU_10
check "ward_broker: a bed with a critical alert (no samples) goes to the top row" \
    sh -c "end=\$((\$(date +%s) + 20)); while [ \$(date +%s) -le \$end ]; do tmux -S '$TMUX_SOCK' capture-pane -p -t t | sed -n 3p | grep -q '^bed10 .*CRITICAL' && exit 0; sleep 0.5; done; exit 1"
kill -TERM $REC_11 2>/dev/null; wait $REC_11 2>/dev/null; kill $EMU_11
check "ward_broker: a bed whose credentials the broker refuses raises one info alert naming the reason" \
    sh -c "[ \$(cat '$TMP'/rec11/*.session.tsv 2>/dev/null | grep -c 'raised \[info\] broker: .*not authori') -eq 1 ]"

# ---- the broker goes away for 20 s ----
kill -9 $BROKER; wait $BROKER 2>/dev/null; BROKER=; TK=$(date +%s)
check "ward_broker: the ward says the broker is unreachable" wait_for 10 'BROKER UNREACHABLE'
check "ward_broker: beds silent past the stale time are shown stale" wait_for 16 '^bed[0-9]+ +STALE'
while [ $(( $(date +%s) - TK )) -lt 20 ]; do sleep 0.5; done      # 20 s without a broker
start_broker
if wait_online 40 $((N - 1)); then pass "ward_broker: after the broker is back, the ward shows every bed online again"
else
    fail "ward_broker: after the broker is back, the ward shows every bed online again" "screen and broker log below"
    tm_screen | sed 's/^/# /'; tail -20 "$TMP/broker.log" | sed 's/^/# /'
fi
check "ward_broker: ... and no bed is left stale or offline" sh -c "tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -qE '^bed[0-9]+ +online' && ! tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -qE '^bed[0-9]+ +(STALE|OFFLINE)'"
check "ward_broker: every publishing bed is still running" sh -c "for p in $(i=1; while [ $i -lt $N ]; do eval printf "'%s '" "\$REC_$i"; i=$((i + 1)); done); do kill -0 \$p || exit 1; done"

# ---- the nights ----
sleep 6                                  # the link has held for the 5 s that clear the broker alert
elapsed=$(( $(date +%s) - T0 ))
i=1; while [ $i -le $N ]; do eval kill -TERM "\$REC_$i"; i=$((i + 1)); done
kill -TERM $REC_ref
i=1; while [ $i -le $N ]; do eval wait "\$REC_$i"; i=$((i + 1)); done; wait $REC_ref
tm_keys a                                # to a bed that has ended: nobody answers
check "ward_broker: a command no bed answers is reported on screen after 5 s" wait_for 10 'NOT ACKNOWLEDGED after 5 s'
ref=$(ls "$TMP"/recref/*.bdf | head -1)
others=""
i=1; while [ $i -lt $N ]; do others="$others $(ls "$TMP"/rec$i/*.bdf | head -1)"; i=$((i + 1)); done
/usr/bin/python3 "$DW_ROOT/tests/e2e/bdfsamples.py" "$ref" $others > same.txt; st=$?
short=$(awk -v e=$elapsed '$1 == "same" && $3 < e - 8 { print }' same.txt | wc -l)
check "ward_broker: the $((N - 1)) recordings with a board are complete (${elapsed} s) and hold exactly the reference's samples" \
    sh -c "[ $st -eq 0 ] && [ \$(grep -c '^same' same.txt) -eq $((N - 1)) ] && [ $short -eq 0 ]"
[ $st -eq 0 ] || cat same.txt
check "ward_broker: the broker outage is in a bed's session log as one info alert, raised and cleared" \
    sh -c "f=\$(ls '$TMP'/rec1/*.session.tsv); [ \$(grep -c 'raised \[info\] broker:' \$f) -eq 1 ] && grep -q 'cleared \[info\] broker:' \$f"
