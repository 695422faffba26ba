#!/bin/sh
# Static checks as TAP: formatting (clang-format), cppcheck, and the shared library's
# exported symbols (only wattprof_*). A check whose tool is missing is skipped.
# usage: check_lint.sh SOURCE_ROOT LIBWATTPROF_SO
root=$1
lib=$2
n=0
failed=0
result() {
    n=$((n + 1))
    if [ "$1" = ok ]; then
        echo "ok $n - $2"
    elif [ "$1" = skip ]; then
        echo "ok $n - $2 # SKIP $3"
    else
        failed=1
        echo "not ok $n - $2"
        printf '%s\n' "$3" | sed 's/^/# /'
    fi
}
cd "$root" || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests bench examples -name '*.[ch]')

if command -v clang-format >/dev/null; then
    out=$(clang-format --dry-run -Werror $files 2>&1)
    [ -z "$out" ] && result ok "clang-format: every file is formatted" ||
        result fail "clang-format: every file is formatted" "$(printf '%s' "$out" | head -20)"
else
    result skip "clang-format" "clang-format not installed"
fi

if command -v cppcheck >/dev/null; then
    out=$(cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
        --std=c11 -D_GNU_SOURCE -DWATTPROF_VERSION='"x"' -DWATTPROF_DATADIR='"x"' -DWATTPROF_SOURCE_DATADIR='"x"' \
        -I include -I src/lib -I src/lib/sensors src 2>&1)
    [ $? -eq 0 ] && result ok "cppcheck finds nothing in src/" ||
        result fail "cppcheck finds nothing in src/" "$out"
else
    result skip "cppcheck" "cppcheck not installed"
fi

other=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^wattprof_')
count=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^wattprof_')
if [ -z "$other" ] && [ "$count" -gt 10 ]; then
    result ok "libwattprof.so exports only wattprof_* ($count symbols)"
else
    result fail "libwattprof.so exports only wattprof_*" "other: $other; wattprof_*: $count"
fi
echo "1..$n"
exit $failed
