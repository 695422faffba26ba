#!/bin/sh
# wattprof report in a real browser: headless Chromium (Debian's chromium) loads a run's
# and a study's report from a file, at desktop and phone widths, with no console message
# at all (an error, a blocked script or fetch would print one) and a screenshot that is
# not blank (decoded here, pixels counted); and prints it to PDF. Two control pages
# prove the console check can fail: one with a script error, one whose script the
# report's Content-Security-Policy blocks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_fixtures.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    not_ok "chromium is installed (scripts/deps.sh test installs it)"
    finish
    exit 1
fi

# browse FILE PNG WIDTH: a screenshot of FILE; the browser's log goes to PNG.log.
browse() {
    timeout 90 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$TMP/profile" --enable-logging=stderr --v=0 --hide-scrollbars \
        --window-size="$3,2400" --screenshot="$2" "file://$1" >"$2.log" 2>&1
}

# no_console LOG: the page printed nothing on the console.
no_console() {
    if grep -q ':CONSOLE' "$1"; then
        grep ':CONSOLE' "$1"
        return 1
    fi
}

# png_true PNG EXPR: EXPR over `ink` (share of pixels that are not near-white),
# `colours` (distinct colours, 4 bits per channel) and `w`, `h`, from the decoded file.
png_true() {
    "$PYTHON" - "$1" "$2" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, ink, colours, i = bytearray(stride), 0, set(), 0
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 2):  # every other pixel is enough
        r, g, bl = line[x], line[x + 1], line[x + 2]
        if min(r, g, bl) < 235:
            ink += 1
        colours.add((r >> 4, g >> 4, bl >> 4))
    prev = line
ink /= (h * ((w + 1) // 2))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# The control pages: the console check must catch both.
printf '<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head><body><p>x</p><script>undefinedFunction();</script></body></html>' >"$TMP/bad.html"
browse "$TMP/bad.html" "$TMP/bad.png" 1000
check "control: a page with a script error is caught" sh -c "
    grep -q ':CONSOLE.*undefinedFunction is not defined' '$TMP/bad.png.log'"

# A run with windows and a study.
report_run
"$WATTPROF" report "$id" -o "$TMP/run.html"
report_study
"$WATTPROF" report "$sid" -o "$TMP/study.html"

# A copy of the run's report with an inline script: its CSP must block it, loudly.
sed 's|<main>|<main><script>document.title = "ran";</script>|' "$TMP/run.html" >"$TMP/csp.html"
browse "$TMP/csp.html" "$TMP/csp.png" 1000
check "control: the report's CSP blocks an inline script, and that is caught" \
    grep -q ':CONSOLE.*violates the following Content Security Policy' "$TMP/csp.png.log"

for page in run study; do
    browse "$TMP/$page.html" "$TMP/$page.png" 1000
    check "Chromium loads the $page report" test -s "$TMP/$page.png"
    check "with no console message" no_console "$TMP/$page.png.log"
    check "and its screenshot is not blank (ink and colours)" png_true "$TMP/$page.png" \
        "0.02 < ink < 0.9 and len(colours) >= 8 and w == 1000"
    browse "$TMP/$page.html" "$TMP/$page-phone.png" 390
    check "at a phone's width too, silently" no_console "$TMP/$page-phone.png.log"
    check "its phone screenshot is not blank" png_true "$TMP/$page-phone.png" "0.02 < ink < 0.9 and w == 390"
    timeout 90 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$TMP/profile" --no-pdf-header-footer --print-to-pdf="$TMP/$page.pdf" \
        "file://$TMP/$page.html" >/dev/null 2>&1
    check "the $page report prints (PDF with pages)" sh -c "
        head -c 5 '$TMP/$page.pdf' | grep -q '%PDF-' && test \$(grep -ac '/Type */Page\\b' '$TMP/$page.pdf') -ge 1"
done
finish
