package text_test

import (
	"testing"

	"github.com/geopulse/geopulse"
)

func TestDeriveImage(t *testing.T) {
	a := analyzer(t)
	got := a.DeriveImage([]geopulse.Label{
		{Kind: geopulse.LabelObject, Name: "dog", Score: 0.8, Origin: geopulse.OriginImage},
		{Kind: geopulse.LabelText, Name: "starbucks coffee", Score: 0.9, Origin: geopulse.OriginImage},
	})
	has := map[string]bool{}
	for _, l := range got {
		if l.Origin != geopulse.OriginImage {
			t.Errorf("%+v: not of origin image", l)
		}
		has[string(l.Kind)+":"+l.Name] = true
	}
	for _, want := range []string{"interest:pets", "brand:starbucks", "interest:coffee"} {
		if !has[want] {
			t.Errorf("no %s in %+v", want, got)
		}
	}
	if got := a.DeriveImage([]geopulse.Label{{Kind: geopulse.LabelObject, Name: "parking meter", Score: 0.5}}); len(got) != 0 {
		t.Errorf("a parking meter implies %+v; want nothing", got)
	}
}
