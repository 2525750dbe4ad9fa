// Command tfjs2onnx converts a TensorFlow.js graph model (model.json with its
// weight files beside it) to an ONNX model, so the detector shipped in TF.js
// format runs on ONNX Runtime. scripts/ml-assets.sh runs it at asset time.
//
// Usage:
//
//	tfjs2onnx -o out.onnx model.json
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/geopulse/geopulse/vision/tfjs"
)

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfjs2onnx:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("tfjs2onnx", flag.ContinueOnError)
	out := fs.String("o", "", "write the ONNX model to `file` (required)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tfjs2onnx -o out.onnx model.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want -o out.onnx and one model.json, got %d arguments", fs.NArg())
	}
	model, err := tfjs.ConvertFile(fs.Arg(0))
	if err != nil {
		return err
	}
	// Write beside the target and rename, so an interrupted run never leaves
	// a truncated model that a later run would take as up to date.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".tfjs2onnx-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(model); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	return nil
}
