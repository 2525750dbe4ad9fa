package city

import (
	"strings"
	"testing"
)

// FuzzRead: any input either fails to load or gives a geocoder that finds
// every place it indexed at that place's own coordinates.
func FuzzRead(f *testing.F) {
	f.Add(`[{"name":"Vila","lat":"42.53176","lng":"1.56654","country":"AD","admin1":"03","admin2":""}]`)
	f.Add(`[{"name":"A","lat":-90,"lng":180},{"name":"B","lat":"90","lng":"-180"},{"name":"C","lat":"x","lng":"0"}]`)
	f.Add(`[]`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, data string) {
		g, err := read(strings.NewReader(data))
		if err != nil {
			return
		}
		for _, c := range g.cities {
			got, ok := g.Nearest(c.Lat, c.Lon)
			if !ok || got.Lat != c.Lat || got.Lon != c.Lon {
				t.Fatalf("Nearest at %+v = %+v, %v", c, got, ok)
			}
		}
	})
}
