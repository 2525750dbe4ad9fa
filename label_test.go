package geopulse

import "testing"

func TestNormalizeLabels(t *testing.T) {
	got, err := NormalizeLabels([]Label{
		{Kind: LabelObject, Name: " Dog ", Score: 0.5},
		{Kind: LabelObject, Name: "dog", Score: 0.9},
		{Kind: LabelBrand, Name: "Starbucks", Score: 0.7},
	}, OriginImage)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "starbucks" || got[1].Name != "dog" || got[1].Score != 0.9 || got[1].Origin != OriginImage {
		t.Errorf("normalised %+v; want starbucks then dog (0.9), of origin image", got)
	}
	for name, ls := range map[string][]Label{
		"unknown kind":  {{Kind: "face", Name: "x"}},
		"empty name":    {{Kind: LabelObject, Name: " "}},
		"control chars": {{Kind: LabelText, Name: "a\x00b"}},
		"invalid UTF-8": {{Kind: LabelText, Name: "\xff"}},
	} {
		if _, err := NormalizeLabels(ls, OriginText); ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if _, err := NormalizeLabels(nil, "ocr"); ErrorCode(err) != EINVALID {
		t.Errorf("unknown origin: %v, want EINVALID", err)
	}
}

func TestMergeLabels(t *testing.T) {
	got := MergeLabels([]Label{{Kind: LabelObject, Name: "dog", Score: 0.4}},
		[]Label{{Kind: LabelObject, Name: "dog", Score: 0.9}, {Kind: LabelBrand, Name: "dog", Score: 0.2}, {Kind: LabelObject, Name: "dog", Score: 0.5}})
	if len(got) != 2 || got[0].Score != 0.9 || got[1].Kind != LabelBrand {
		t.Errorf("merged %+v; want dog object 0.9 and dog brand", got)
	}
}
