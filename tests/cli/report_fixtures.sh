# Stored runs and studies for the report tests (sourced after lib.sh).

# report_run: a stored run of $TMP/work.sh (two windows, train and eval, and 100 units)
# with hostile labels and a hostile argument; $TMP/run.json holds it, $id is its id.
report_run() {
    cat >"$TMP/work.sh" <<SH
#!/bin/sh
"$WATTPROF" control begin w1 train
"$TOOLS_DIR/burn" 300 "$TMP/b1"
"$WATTPROF" control end w1
"$WATTPROF" control begin w2 eval
sleep 0.3
"$WATTPROF" control end w2
"$WATTPROF" control run-units 100 samples
SH
    chmod +x "$TMP/work.sh"
    "$WATTPROF" run -q -i 20 --label 'note=<script>alert(1)</script>' --label 'q=a & "b"' \
        --json "$TMP/run.json" -- "$TMP/work.sh" '<b>arg</b>' >/dev/null 2>&1
    id=$(json_get "$TMP/run.json" 'd["id"]')
}

# report_study: a stored study of 4 variants x 2 runs with a quality metric from the
# output (two meet the bar) and a price; $TMP/study.json holds it, $sid is its id.
report_study() {
    cat >"$TMP/study.yaml" <<EOT
name: report-test
command: "echo accuracy 0.{q}; sleep 0.0{s}"
shell: true
matrix: { q: [96, 90], s: [2, 5] }
baseline: { q: 96, s: 5 }
repetitions: { min: 2, max: 2 }
warmup: 0
cooldown_s: 0
quality: { metric: accuracy, at_least: 0.95, regex: 'accuracy ([0-9.]+)' }
EOT
    WATTPROF_PRICE=0.30EUR "$WATTPROF" bench -q "$TMP/study.yaml" --json "$TMP/study.json" \
        >"$TMP/study.txt" 2>&1
    sid=$(sed -n 's/^study \([0-9a-f]*\) stored$/\1/p' "$TMP/study.txt")
}
