package onnx_test

import (
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
)

// The OCR detector is the smallest shipped model with a dynamic input: it
// proves the library loads, a session runs and outputs come back shaped.
func TestRunOCRDetector(t *testing.T) {
	onnxtest.Require(t)
	s, err := onnx.Open(filepath.Join(onnx.AssetsDir(), "ocr/ch_PP-OCRv4_det_infer.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in, err := onnx.Tensor(make([]float32, 3*64*64), 1, 3, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	outs, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	defer outs[0].Destroy()
	if got := outs[0].GetShape(); len(got) != 4 || got[2] != 64 || got[3] != 64 {
		t.Fatalf("output shape %v, want [1 1 64 64]", got)
	}
}

func TestRunRejectsWrongInput(t *testing.T) {
	onnxtest.Require(t)
	s, err := onnx.Open(filepath.Join(onnx.AssetsDir(), "ocr/ch_PP-OCRv4_det_infer.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in, err := onnx.Tensor(make([]float32, 5), 5)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	if _, err := s.Run(in); err == nil {
		t.Fatal("a rank-1 input to a rank-4 model ran without error")
	}
}
