#!/bin/sh
# Checks the mlp-train demo workload: the output format, that a short run
# learns, and the exit codes for a missing file and a bad option. TAP output.
# usage: test_mlp_train.sh MLP_TRAIN_BINARY DIGITS_CSV

bin=$1
data=$2
failed=0
n=0

# check STATUS DESCRIPTION: one TAP line, "ok" when STATUS is 0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

echo "1..10"
if [ -z "$bin" ] || [ -z "$data" ]; then
	echo "Bail out! usage: $0 MLP_TRAIN_BINARY DIGITS_CSV"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_mlp_train.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

"$bin" --data "$data" --epochs 2 --hidden 32 --seed 1 >"$tmp/out" 2>"$tmp/err"
check $? "2 epochs with --hidden 32 exit 0"

grep -Eq '^mlp 64-32-10 train [0-9]+ test [0-9]+ batch [0-9]+ lr [0-9.e+-]+ seed 1$' "$tmp/out"
check $? "header line names the network and the split"

epochs=$(grep -Ec '^epoch [12] train loss [0-9]+\.[0-9]{4} test accuracy [01]\.[0-9]{4}$' "$tmp/out")
[ "$epochs" -eq 2 ] && [ "$(wc -l <"$tmp/out")" -eq 4 ]
check $? "one well-formed line per epoch"

final=$(grep -E '^final test accuracy [01]\.[0-9]{4} after 2 epochs, [0-9]+ samples trained$' "$tmp/out")
check $? "final line is well-formed"

acc=$(echo "$final" | awk '{ print $4 }')
echo "$acc" | awk '{ exit !($1 > 0.85) }'
check $? "test accuracy after 2 epochs > 0.85 (got ${acc:-none})"

[ ! -s "$tmp/err" ]
check $? "nothing on stderr for a good run"

missing="$tmp/no-such-file.csv"
"$bin" --data "$missing" --epochs 1 >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ]
check $? "missing data file exits 1"

[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -Fq "mlp_train: cannot open '$missing': " "$tmp/err"
check $? "missing data file gives one error line naming the file"

"$bin" --no-such-option >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ]
check $? "bad option exits 2"

grep -q '^usage: ' "$tmp/err" && [ ! -s "$tmp/out" ]
check $? "bad option prints usage on stderr only"

exit $failed
