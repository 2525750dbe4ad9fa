package main

import (
	"hash/fnv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
)

// demoPhotoDirs are where Debian's packages keep real sample photos
// (darknet, python3-skimage): with one installed, the demo's live posts
// carry pictures the vision workers can label.
var demoPhotoDirs = []string{"/usr/share/darknet/data", "/usr/lib/python3/dist-packages/skimage/data"}

// demoMedia serves sample photos to the demo's own vision workers. The
// simulated world's media URLs point nowhere (cdn.example); a sample of live
// posts, one a second at most, get a photo of this server instead, so the
// dashboard shows labels without loading the machine with vision work.
type demoMedia struct {
	base  string   // this server, on loopback
	files []string // photo file names in dir
	dir   string
	last  time.Time
}

// newDemoMedia lists the photos of dir ("" or "auto": the first of
// demoPhotoDirs that has some); nil when there are none.
func newDemoMedia(dir string) *demoMedia {
	dirs := demoPhotoDirs
	if dir != "" && dir != "auto" {
		dirs = []string{dir}
	}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		m := &demoMedia{dir: d}
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".jpg", ".jpeg", ".png":
				if e.Type().IsRegular() {
					m.files = append(m.files, e.Name())
				}
			}
		}
		if len(m.files) > 0 {
			return m
		}
	}
	return nil
}

// rewrite points the first picture of at most one post a second at a
// sample photo (chosen by the post's id, so a redelivery is stable).
func (m *demoMedia) rewrite(posts []*geopulse.Post, now time.Time) {
	if m == nil || now.Sub(m.last) < time.Second {
		return
	}
	for _, p := range posts {
		if len(p.MediaURLs) == 0 {
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(p.Source + "/" + p.SourceID))
		p.MediaURLs[0] = m.base + "/demo/media/" + m.files[int(h.Sum32()%uint32(len(m.files)))]
		m.last = now
		return
	}
}

// ServeHTTP serves the listed photos and nothing else.
func (m *demoMedia) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !slices.Contains(m.files, name) {
		http.NotFound(w, r)
		return
	}
	http.ServeFile(w, r, filepath.Join(m.dir, name))
}
