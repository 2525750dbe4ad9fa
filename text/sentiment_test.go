package text_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// neutralBand: scores within ±neutralBand read as neutral (VADER's
// convention for its compound score).
const neutralBand = 0.05

func TestSentiment(t *testing.T) {
	lx := analyzer(t).Lexicon()
	tests := []struct {
		name     string
		in       string
		min, max float32
	}{
		{"positive word", "good coffee", 0.3, 0.8},
		{"negated", "the coffee was not good", -0.6, -0.05},
		{"negation two words back", "not a good day", -0.6, -0.05},
		{"negation stops at clause", "not bad, good coffee", 0.1, 1},
		{"booster raises", "very good coffee", 0.62, 0.9},
		{"damper lowers", "slightly good coffee", 0.3, 0.6},
		{"phrase beats words", "I can't stand this place", -1, -0.4},
		{"but weighs the second clause", "the food was great but the service was awful", -1, -0.05},
		{"emoji only", "😍😍", 0.7, 1},
		{"negative emoji", "monday 😡", -1, -0.4},
		{"emoticon", "see you soon :)", 0.3, 0.8},
		{"no opinion", "train to Manchester at 6", 0, 0},
		{"saturates below one", "amazing awesome fantastic wonderful brilliant superb", 0.9, 1},
		{"hashtag counts", "#love this", 0.5, 0.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lx.Score(tt.in)
			if got < tt.min || got > tt.max {
				t.Errorf("Score(%q) = %.3f, want in [%.2f, %.2f]", tt.in, got, tt.min, tt.max)
			}
		})
	}
	// Negation must flip the sign of the bare word.
	if g, n := lx.Score("good"), lx.Score("not good"); !(g > 0 && n < 0) {
		t.Errorf("good = %.2f, not good = %.2f: negation not applied", g, n)
	}
}

// Accuracy floors sit a little under the measured figures (docs/TEXT.md),
// so a regression fails while the noise of a lexicon tweak does not.
const (
	floor3Class      = 0.82 // hand-labelled captions, pos/neg/neutral
	floorCaptionsBin = 0.76 // hand-labelled captions, pos vs neg
	floorAmazonBin   = 0.64 // UCI Amazon reviews, pos vs neg
)

func TestSentimentAccuracy(t *testing.T) {
	lx := analyzer(t).Lexicon()
	class := func(s float32) string {
		switch {
		case s > neutralBand:
			return "pos"
		case s < -neutralBand:
			return "neg"
		}
		return "neut"
	}

	rows := readTSV(t, "testdata/sentiment_labelled.tsv", false)
	var right, binRight, binTotal int
	confusion := map[string]map[string]int{}
	for _, r := range rows {
		got := class(lx.Score(r[1]))
		if confusion[r[0]] == nil {
			confusion[r[0]] = map[string]int{}
		}
		confusion[r[0]][got]++
		if got == r[0] {
			right++
		}
		if r[0] != "neut" {
			binTotal++
			// Pos/neg accuracy: a neutral call counts as wrong.
			if got == r[0] {
				binRight++
			}
		}
	}
	acc3 := float64(right) / float64(len(rows))
	accBin := float64(binRight) / float64(binTotal)
	t.Logf("captions: 3-class accuracy %.3f (%d/%d), pos/neg %.3f (%d/%d); confusion (want→got) %v",
		acc3, right, len(rows), accBin, binRight, binTotal, confusion)
	if len(rows) != 300 {
		t.Errorf("labelled captions: %d rows, want 300", len(rows))
	}
	if acc3 < floor3Class {
		t.Errorf("3-class accuracy %.3f below floor %.2f", acc3, floor3Class)
	}
	if accBin < floorCaptionsBin {
		t.Errorf("caption pos/neg accuracy %.3f below floor %.2f", accBin, floorCaptionsBin)
	}

	// UCI Sentiment Labelled Sentences (Amazon), 1 positive / 0 negative.
	// Binary: the sign decides and a zero counts as wrong. wink-sentiment
	// reports 77% on this file counting zero as positive; both are logged.
	rows = readTSV(t, "testdata/amazon_cells_labelled.txt", true)
	right, winkRight := 0, 0
	for _, r := range rows {
		s := lx.Score(r[0])
		if (r[1] == "1" && s > 0) || (r[1] == "0" && s < 0) {
			right++
		}
		if (r[1] == "1") == (s >= 0) {
			winkRight++
		}
	}
	acc := float64(right) / float64(len(rows))
	t.Logf("amazon: pos/neg accuracy %.3f (%d/%d) with zero as wrong; %.3f with zero as positive (wink-sentiment's convention)",
		acc, right, len(rows), float64(winkRight)/float64(len(rows)))
	if acc < floorAmazonBin {
		t.Errorf("amazon accuracy %.3f below floor %.2f", acc, floorAmazonBin)
	}
}

// readTSV reads tab-separated rows, skipping '#' comment lines (unless raw).
func readTSV(t *testing.T, path string, raw bool) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || !raw && strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 2 {
			t.Fatalf("%s: bad row %q", path, line)
		}
		rows = append(rows, cols)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
