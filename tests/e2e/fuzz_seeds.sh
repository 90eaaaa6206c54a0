#!/bin/sh
# libFuzzer's corpus files (named by the SHA-1 of their content: 40 hex digits) never go into git under
# tests/fuzz/seeds: .gitignore ignores such a name in any seeds folder (a hand run that names a seeds
# folder first writes thousands there), and none is tracked (`git add -f` would get past the rule).
. "$(dirname "$0")/lib.sh"
command -v git > /dev/null && git -C "$DW_ROOT" rev-parse --git-dir > /dev/null 2>&1 ||
    { skip fuzz_seeds "not a git checkout"; exit 0; }
hex=$(printf '%s' "$DW_ROOT" | sha1sum | cut -c1-40)
if git -C "$DW_ROOT" check-ignore -q "tests/fuzz/seeds/edf/$hex" &&
   git -C "$DW_ROOT" check-ignore -q "tests/fuzz/seeds/new_target/$hex" &&
   ! git -C "$DW_ROOT" check-ignore -q "tests/fuzz/seeds/edf/stages.edf" &&
   ! git -C "$DW_ROOT" check-ignore -q "tests/fuzz/seeds/edf/${hex}0"; then
    pass "fuzz_seeds_ignored (a 40-hex name under tests/fuzz/seeds is ignored, a hand-made seed is not)"
else
    fail fuzz_seeds_ignored "git check-ignore does not ignore tests/fuzz/seeds/edf/$hex, or ignores a seed"
fi
tracked=$(git -C "$DW_ROOT" ls-files tests/fuzz/seeds | grep -E '/[0-9a-f]{40}$' | head -n 3)
if [ -z "$tracked" ]; then pass "fuzz_seeds_none_tracked"
else fail fuzz_seeds_none_tracked "corpus files tracked: $(echo $tracked)"; fi
