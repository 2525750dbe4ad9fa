package text_test

import (
	"testing"
)

func TestDetectLanguage(t *testing.T) {
	l := analyzer(t).Languages()
	tests := []struct{ in, want string }{
		{"The weather is lovely today and we are going to the beach", "en"},
		{"¿Dónde está la mejor paella de la ciudad?", "es"},
		{"C'est la plus belle ville du monde", "fr"},
		{"Ich habe heute keine Zeit für das Fitnessstudio", "de"},
		{"Questa è la pizzeria più famosa della zona", "it"},
		{"Eu adoro passar o fim de semana na praia", "pt"},
		{"Ik ben vandaag met de fiets naar het werk gegaan", "nl"},
		{"Сегодня отличная погода для прогулки", "ru"},
		{"今日は友達と渋谷で買い物しました", "ja"},
		{"서울에서 제일 맛있는 커피", "ko"},
		{"我们今天去了长城", "zh"},
		{"Καλημέρα από την Αθήνα", "el"},
		{"too short", ""},
		{"#sunset #beach #love", ""},
		{"", ""},
		{"Starbucks", ""},
	}
	for _, tt := range tests {
		if got := l.Detect(tt.in); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// floorLanguage sits a little under the measured accuracy (docs/TEXT.md).
const floorLanguage = 0.93

func TestLanguageAccuracy(t *testing.T) {
	l := analyzer(t).Languages()
	rows := readTSV(t, "testdata/language_labelled.tsv", false)
	right := 0
	for _, r := range rows {
		if got := l.Detect(r[1]); got == r[0] {
			right++
		} else {
			t.Logf("Detect(%q) = %q, labelled %q", r[1], got, r[0])
		}
	}
	acc := float64(right) / float64(len(rows))
	t.Logf("language: accuracy %.3f (%d/%d)", acc, right, len(rows))
	if acc < floorLanguage {
		t.Errorf("language accuracy %.3f below floor %.2f", acc, floorLanguage)
	}
}
