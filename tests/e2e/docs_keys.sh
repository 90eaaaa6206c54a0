#!/bin/sh
# Help and docs that match the program: every key the screen handles is in the README's key tables, the
# man page's KEYS section and the screen's own help box (read from the real binary in tmux).
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip docs_keys "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null || [ ! -x /usr/bin/python3 ]; then skip docs_keys "no tmux or python3"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
# the keys of src/screen (global_key, dialogs, and each pane's key function)
KEYS='? w n Q q a m r space + - Left Right Tab Shift-Tab e S t v Ctrl-L Ctrl-C s [ ] 0 Up Down Enter PgUp PgDn Home End z Z d f E k'
tm_start 100 40 env TERM=$TERMV "$DW_BIN" --paused --no-record "$SAMPLE"
wait_for 10 PAUSED && tm_keys '?'
wait_for 5 'Help: keys' || { fail docs_keys "? shows no help"; exit 0; }
tm_screen > "$TMP/help.txt"
/usr/bin/python3 - "$DW_ROOT/README.md" "$DW_ROOT/man/dreamwatch.1" "$TMP/help.txt" $KEYS <<'EOF'
import re, sys
readme, man, help_, keys = open(sys.argv[1]).read(), open(sys.argv[2]).read(), open(sys.argv[3]).read(), sys.argv[4:]
readme = readme[readme.index("## Keys"):readme.index("The mouse is never needed")]
man = man[man.index(".SH KEYS"):man.index(".SH CONFIGURATION")]
man = re.sub(r"\\f[BIRP]", " ", man).replace("\\-", "-").replace('"', " ")
tokens = lambda text: {t.strip(",;:()") for t in text.split()} | set(text.split())
places = {"README": {t.strip("`") for t in re.findall(r"`[^`]+`", readme)},
          "man page": tokens(man), "help box": tokens(help_.replace("\u2502", " "))}
bad = ["%s not in the %s" % (k, p) for k in keys for p, toks in places.items() if k not in toks]
for b in bad: print("FAIL docs_keys: " + b)
if not bad: print("PASS docs_keys (%d keys in the README, the man page and the help box)" % len(keys))
EOF
