// Package e2e holds the browser end-to-end tests of the dashboard: run.mjs
// drives headless Chromium (Debian's chromium, through the npm package
// playwright-core) against the real geopulse binary in demo mode.
//
// The Go test here is the hook that `make test` and CI run: it builds the
// binary and runs `node run.mjs`, and is skipped unless GEOPULSE_E2E=1,
// because it needs Chromium and `npm ci` in this directory. Screenshots of
// every main page are kept in e2e/artifacts/.
package e2e
