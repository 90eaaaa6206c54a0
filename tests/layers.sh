#!/bin/sh
# The layer rule: a file under src/LAYER/ includes headers of its own folder and of lower layers only, and no
# two files include each other. Order, lowest first (the data's path through the program):
#   base < dsp < edf < sources < record < staging < session < monitor < net < screen < app
# Prints PASS/FAIL lines (run by `make check`; `make layers` alone). Exit 0 when clean.
cd "$(dirname "$0")/.." || exit 2
order="base dsp edf sources record staging session monitor net screen app"
rank() { i=0; for l in $order; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
up=0; report=$(mktemp)
for f in src/*/*.c src/*/*.h; do
    [ -f "$f" ] || continue
    layer=$(echo "$f" | cut -d/ -f2); r=$(rank "$layer")
    grep -n '^#include "' "$f" | while IFS= read -r line; do
        inc=$(echo "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
        case "$inc" in */*) ;; *) echo "$f:${line%%:*}: #include \"$inc\" has no folder (write \"LAYER/$inc\")"; continue ;; esac
        il=${inc%%/*}; ir=$(rank "$il")
        [ "$ir" -gt "$r" ] && echo "$f:${line%%:*}: $layer includes $inc (layer $il is above $layer)"
    done
done > "$report"
up=$(wc -l < "$report")
if [ "$up" -eq 0 ]; then echo "PASS layers: no include runs up the layers ($order)"
else echo "FAIL layers: $up include(s) run up the layers:"; sed 's/^/  /' "$report"; fi
# Mutual includes: A includes B's header and B includes A's (headers beside their .c, same name).
: > "$report"
for f in src/*/*.h; do
    a=${f#src/}
    for inc in $(grep -h '^#include "' "$f" | sed 's/.*#include "\([^"]*\)".*/\1/'); do
        [ -f "src/$inc" ] && grep -q "^#include \"$a\"" "src/$inc" && echo "$a <-> $inc"
    done
done | sort -u > "$report"
n=$(wc -l < "$report")
if [ "$n" -eq 0 ]; then echo "PASS layers: no two headers include each other"
else echo "FAIL layers: $n pair(s) of headers include each other:"; sed 's/^/  /' "$report"; fi
# Headers live beside their .c: nothing outside src/ but tests' own helpers.
[ ! -d include ] && echo "PASS layers: headers beside their .c (no include/ folder)" || echo "FAIL layers: include/ still exists"
rm -f "$report"
