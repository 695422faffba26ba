# wattprof: the two commands a user needs (README.md).
#   make        build build/wattprof
#   make test   every test, in a normal build and an ASan+UBSan build
#   make demo   build, then measure the bundled workload (a small network in C)
# Each target installs the Debian packages it needs when run as root, and otherwise
# prints the one apt-get line to run.

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
DEMO_EPOCHS ?= 700
# data/digits: 1797 images, 80 % (1437) in the training split
DEMO_TRAIN  = 1437

SANITIZE = -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all

.PHONY: all test demo install clean deps-build deps-test

all: deps-build $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps-build:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

$(BUILD)/build.ninja:
	meson setup $(BUILD) --werror --buildtype=debugoptimized --prefix=$(PREFIX)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --werror --buildtype=debug $(SANITIZE)

test: deps-test $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(ASAN_BUILD)
	@status=0; \
	meson test -C $(BUILD) --print-errorlogs --num-processes 2 || status=1; \
	ASAN_OPTIONS=detect_leaks=1 meson test -C $(ASAN_BUILD) --print-errorlogs --no-suite lint \
		--num-processes 2 --timeout-multiplier 3 || status=1; \
	scripts/test-summary.py $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json; \
	exit $$status

demo: all
	@mkdir -p $(BUILD)/demo
	WATTPROF_DB=$(BUILD)/demo/runs.db \
	$(BUILD)/wattprof run --units $$(( $(DEMO_EPOCHS) * $(DEMO_TRAIN) )) --unit-name samples \
		--json $(BUILD)/demo/run.json -- \
		$(BUILD)/examples/mlp/mlp-train --epochs $(DEMO_EPOCHS) > $(BUILD)/demo/train.log
	@echo "the workload said: $$(tail -n 1 $(BUILD)/demo/train.log) (log: $(BUILD)/demo/train.log)"
	@echo "the run as JSON: $(BUILD)/demo/run.json"
	@id=$$(sed -n 's/^  "id": "\([0-9a-f]*\)",$$/\1/p' $(BUILD)/demo/run.json) && \
	WATTPROF_DB=$(BUILD)/demo/runs.db $(BUILD)/wattprof report $$id -o $(BUILD)/demo/report.html && \
	echo "the report (open it in a browser): $(BUILD)/demo/report.html"

install: all
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
