// Package web holds the dashboard's front end, embedded in the binary: the
// HTML templates, the stylesheet and scripts, and the vendored third-party
// libraries (static/vendor, written by scripts/vendor-web.sh, each with its
// licence).
//
// There is no build step: the files here are what the browser gets. The
// package only embeds them; package http serves them.
//
// Invariants:
//   - No script or style is inline: every page works under a
//     Content-Security-Policy of script-src 'self' and style-src 'self'.
//   - Scripts put untrusted text (captions, handles, names, hashtags) into
//     the page with textContent or DOM attributes, never innerHTML, and give
//     Leaflet DOM nodes, never HTML strings.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates static
var files embed.FS

// Templates returns the HTML templates (*.html), parsed by package http
// with html/template.
func Templates() fs.FS {
	sub, err := fs.Sub(files, "templates")
	if err != nil {
		panic(err) // the directory is embedded: a build without it cannot happen
	}
	return sub
}

// Static returns the files served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	return sub
}
