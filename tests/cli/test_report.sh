#!/bin/sh
# wattprof report: the HTML page of a stored run (power chart with one series per
# channel, windows shaded, hostile names escaped) and of a stored study (bars with CIs,
# the scatter with its Pareto front, the table of runs), the Markdown summaries, and bad
# input: unknown ids, a run without samples, unwritable outputs, wrong options.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report_fixtures.sh"

# svg_true FILE EXPR: EXPR over `svgs`, the report's <svg> elements parsed as XML (each
# chart must be well-formed on its own), and `html`, the page's text.
svg_true() {
    "$PYTHON" - "$1" "$2" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
html = open(sys.argv[1], encoding="utf-8").read()
NS = "{http://www.w3.org/2000/svg}"
svgs = [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, re.S)]
def cls(svg, c):
    return [e for e in svg.iter() if c in (e.get("class") or "").split()]
sys.exit(0 if eval("(" + sys.argv[2].strip() + ")") else 1)
PY
}

# 1. A run with two windows, hostile labels and a hostile argument.
report_run
nch=$(json_get "$TMP/run.json" 'len(d["channels"])')
check "a stored run gets an HTML report" "$WATTPROF" report "$id" -o "$TMP/run.html"
check "the page is one self-contained document" sh -c "
    head -c 15 '$TMP/run.html' | grep -q '<!DOCTYPE html>' && tail -c 8 '$TMP/run.html' | grep -q '</html>' &&
    ! grep -Eiq '(src|href)=\"?(https?:|//)' '$TMP/run.html' && ! grep -qi '<script' '$TMP/run.html'"
check "no script can run: a Content-Security-Policy forbids it" \
    grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$TMP/run.html"
check "the hostile label appears as text" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/run.html"
check "quotes and ampersands are escaped" grep -q 'q=a &amp; &quot;b&quot;' "$TMP/run.html"
check "the command's hostile argument is escaped" grep -q '&lt;b&gt;arg&lt;/b&gt;' "$TMP/run.html"
nser=$(json_get "$TMP/run.json" 'len(d["channels"]) + (1 if sum(c["included_in_total"] for c in d["channels"]) > 1 else 0)')
check "the power chart has one series per channel ($nch) and the total's" svg_true "$TMP/run.html" \
    "len(cls(svgs[0], 'series')) == $nser and 'machine total (sum of the channels in it)' in html"
check "the two windows are shaded in the power chart" svg_true "$TMP/run.html" \
    "len(cls(svgs[0], 'span')) == 2"
check "estimated channels are dashed and said so in the legend" svg_true "$TMP/run.html" \
    "all(s.get('stroke-dasharray') for s in cls(svgs[0], 'series')) and '(estimated)' in html"
check "the breakdown has the run and its two windows" svg_true "$TMP/run.html" \
    "len(svgs) == 2 and 'whole run' in ET.tostring(svgs[1], encoding='unicode')"
check "the accounting block names its sources" sh -c "grep -q 'grid carbon intensity' '$TMP/run.html' && grep -q 'world-average-default' '$TMP/run.html'"
check "the energy is labelled as an estimate" grep -q 'These energies are ESTIMATES' "$TMP/run.html"
check "an id prefix works, stdout by default" sh -c "'$WATTPROF' report $(echo "$id" | cut -c1-6) | grep -q '</html>'"
"$WATTPROF" report "$id" --format md >"$TMP/run.md"
check "the run's Markdown summary" sh -c "grep -q '^# Run $id' '$TMP/run.md' && grep -q '| energy per sample |' '$TMP/run.md' && grep -q 'estimated' '$TMP/run.md'"
check "its command and labels are escaped for Markdown" sh -c "grep -q '&lt;b&gt;arg&lt;/b&gt;' '$TMP/run.md' && grep -q 'note=&lt;script&gt;' '$TMP/run.md'"

# 2. A run that stored no samples (killed before its first flush): said, no empty chart.
"$WATTPROF" run -q -- sh -c "echo \$\$ >'$TMP/sleep.pid'; exec sleep 30" >/dev/null 2>&1 &
pid=$!
sleep 1
kill -KILL $pid
wait $pid 2>/dev/null
kill "$(cat "$TMP/sleep.pid")" 2>/dev/null
inc=$("$WATTPROF" list -n 1 | awk 'NR == 2 {print $1}')
check "a run without samples gets a report" "$WATTPROF" report "$inc" -o "$TMP/inc.html"
check "which says there are no samples instead of an empty chart" sh -c "
    grep -q 'No power samples were stored for this run: wattprof stopped' '$TMP/inc.html' &&
    grep -q 'Incomplete run' '$TMP/inc.html' && test \$(grep -c '<svg' '$TMP/inc.html') -eq 0"

# 3. A study with a quality metric: bars with CIs, the scatter, the decision summary.
report_study
check "the study was stored" test -n "$sid"
check "a stored study gets an HTML report" "$WATTPROF" report "$sid" -o "$TMP/study.html"
check "bars for energy, time, CO2e per unit and the quality, and the scatter" svg_true "$TMP/study.html" \
    "len(svgs) == 5 and all(len(cls(s, 'bar')) == 4 for s in svgs[:4])"
check "every bar has its 95 % CI" svg_true "$TMP/study.html" \
    "all(len(cls(s, 'errbar')) == 4 for s in svgs[:3])"
check "the scatter marks the study's Pareto front, the others hollow" svg_true "$TMP/study.html" "
    len(cls(svgs[4], 'front-pt')) == $(json_get "$TMP/study.json" 'len(d["pareto"])') and
    len(cls(svgs[4], 'pt')) == 4"
check "the table lists every run" sh -c "test \$(grep -c '<tr class=\"run\">' '$TMP/study.html') -eq 8"
"$WATTPROF" report "$sid" --format md --tasks-per-year 1000000 --investment 100 >"$TMP/study.md"
check "the decision summary has the candidates and the recommendation" sh -c "
    test \$(grep -c '^| q=' '$TMP/study.md') -eq 4 && grep -q '^\*\*Recommended: ' '$TMP/study.md' &&
    grep -q 'EUR |' '$TMP/study.md'"
check "with tasks per year: yearly figures and the payback" sh -c "
    grep -q '^## Per year, at 1000000 tasks' '$TMP/study.md' && grep -q '^Payback of the investment (100 EUR)' '$TMP/study.md'"

# 4. Bad input.
"$WATTPROF" report ffffffff -o "$TMP/none.html" 2>"$TMP/err"
check "an unknown id fails with status 1" test $? -eq 1
check "and says it is neither a run nor a study" grep -q "no run or study 'ffffffff'" "$TMP/err"
check "and writes nothing" test ! -e "$TMP/none.html"
"$WATTPROF" report "$id" -o "$TMP/missing-dir/r.html" 2>"$TMP/err"
check "an unwritable output fails with status 1" test $? -eq 1
check "and names the path" grep -q "cannot write '$TMP/missing-dir/r.html'" "$TMP/err"
"$WATTPROF" report "$id" -o "$TMP" 2>"$TMP/err"
check "a directory as output is refused" grep -q "Is a directory" "$TMP/err"
check "no temporary file is left behind" sh -c "! ls -a '$TMP' | grep -q wattprof-out"
"$WATTPROF" report "$id" --format pdf 2>"$TMP/err"
check "an unknown format is a usage error (2)" test $? -eq 2
"$WATTPROF" report "$sid" --investment 10 --format md 2>"$TMP/err"
check "--investment without --tasks-per-year is a usage error" sh -c "test $? -eq 2 && grep -q 'need --tasks-per-year' '$TMP/err'"
"$WATTPROF" report "$sid" --tasks-per-year 10 2>"$TMP/err"
check "--tasks-per-year belongs to --format md" sh -c "test $? -eq 2 && grep -q 'go with --format md' '$TMP/err'"
"$WATTPROF" report "$sid" --format md --tasks-per-year -5 2>"$TMP/err"
check "a negative number of tasks is refused" test $? -eq 2
# A prefix that names a run and a study: asked for more (a study row made beside the run).
pre=$(echo "$id" | cut -c1-7)
"$PYTHON" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
other = "0" if sys.argv[2][7] != "0" else "1"
db.execute("INSERT INTO studies(id, name, started_at_unix_ms, json) VALUES(?, ?, 0, ?)",
           (sys.argv[2][:7] + other, "twin", "{\"schema\": \"wattprof.study/1\", \"variants\": []}"))
db.commit()' "$WATTPROF_DB" "$id"
"$WATTPROF" report "$pre" -o "$TMP/twin.html" 2>"$TMP/err"
check "a prefix matching a run and a study fails and asks for more" sh -c "
    test $? -eq 1 && grep -q \"'$pre' matches a run and a study: give more of the id\" '$TMP/err'"
check "the full id still finds the run" "$WATTPROF" report "$id" -o "$TMP/twin.html"
"$WATTPROF" report 2>"$TMP/err"
check "a missing id is a usage error" sh -c "test $? -eq 2 && grep -q 'missing run or study id' '$TMP/err'"
finish
