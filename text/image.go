package text

import (
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/interest"
)

// DeriveImage returns what follows from a picture's own labels: the brands
// in the words read from it (OCR) and the interests of its objects, words
// and brands, all of origin image. The vision workers call it after
// labelling, so that each origin's labels stay its writer's.
func (a *Analyzer) DeriveImage(found []geopulse.Label) []geopulse.Label {
	var objects, texts []geopulse.Label
	var read []string
	for _, l := range found {
		switch l.Kind {
		case geopulse.LabelObject:
			objects = append(objects, l)
		case geopulse.LabelText:
			texts = append(texts, l)
			read = append(read, l.Name)
		}
	}
	var out []geopulse.Label
	var brands []interest.Brand
	if len(read) > 0 {
		// One line a sentence, so a brand never spans two signs.
		for _, m := range a.brands.Find(strings.Join(read, ". "), "", nil) {
			brands = append(brands, interest.Brand{Name: m.Name, Category: m.Category, Score: m.Score})
			out = append(out, geopulse.Label{Kind: geopulse.LabelBrand, Name: m.Name, Score: m.Score,
				Origin: geopulse.OriginImage, Model: BrandModel, Version: a.brands.Version})
		}
	}
	return append(out, a.interests.Of(interest.Signals{Objects: objects, Texts: texts, Brands: brands, Origin: geopulse.OriginImage})...)
}
