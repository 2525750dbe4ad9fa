// Package onnx owns the process's one ONNX Runtime environment and the
// sessions made from it. Every model in geopulse runs through it, so the
// library is loaded once, threads are set in one place and an inference panic
// in native code surfaces as an error, never as a crashed worker.
package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryFile is where `make ml-assets` puts the runtime, under AssetsDir.
const LibraryFile = "lib/libonnxruntime.so.1"

// AssetsDir is $GEOPULSE_ML_ASSETS, else the ml-assets folder of the
// current directory or of the nearest parent that has one (so package tests,
// which run in their own folder, find the repository's).
func AssetsDir() string {
	if d := os.Getenv("GEOPULSE_ML_ASSETS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return "ml-assets"
	}
	for {
		cand := filepath.Join(dir, "ml-assets")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "ml-assets"
		}
		dir = parent
	}
}

// LibraryPath is $GEOPULSE_ONNXRUNTIME, else LibraryFile under AssetsDir.
func LibraryPath() string { return LibraryIn(AssetsDir()) }

// LibraryIn is $GEOPULSE_ONNXRUNTIME, else LibraryFile under the assets
// folder dir.
func LibraryIn(dir string) string {
	if p := os.Getenv("GEOPULSE_ONNXRUNTIME"); p != "" {
		return p
	}
	return filepath.Join(dir, LibraryFile)
}

// ErrNoRuntime means the shared library is not where LibraryPath says.
var ErrNoRuntime = errors.New("onnx runtime library not found (run `make ml-assets`)")

var (
	initOnce sync.Once
	initErr  error
)

// Init loads the runtime library (LibraryPath) once per process.
func Init() error { return InitLibrary(LibraryPath()) }

// InitLibrary loads the runtime library at lib once per process: the first
// call decides, later ones (and Init) return its result.
func InitLibrary(lib string) error {
	initOnce.Do(func() {
		if _, err := os.Stat(lib); err != nil {
			initErr = fmt.Errorf("%w: %s", ErrNoRuntime, lib)
			return
		}
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			initErr = fmt.Errorf("onnx runtime %s: %w", lib, err)
		}
	})
	return initErr
}

// Options tune a session. Zero values: one intra-op thread and one inter-op
// thread, since vision workers run several sessions side by side and more
// threads per session only contend for the same cores.
type Options struct {
	IntraOpThreads int
	InterOpThreads int
}

// Session is one loaded model. Run is safe for concurrent use (ONNX Runtime
// allows concurrent runs of one session); create sessions once and reuse them.
type Session struct {
	s       *ort.DynamicAdvancedSession
	Inputs  []ort.InputOutputInfo
	Outputs []ort.InputOutputInfo
	Path    string
}

// Open loads the model at path. Input and output names default to the
// model's own, in order.
func Open(path string, opts Options) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", path, err)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(max(opts.IntraOpThreads, 1)); err != nil {
		return nil, err
	}
	if err := so.SetInterOpNumThreads(max(opts.InterOpThreads, 1)); err != nil {
		return nil, err
	}
	names := func(infos []ort.InputOutputInfo) []string {
		n := make([]string, len(infos))
		for i, in := range infos {
			n[i] = in.Name
		}
		return n
	}
	s, err := ort.NewDynamicAdvancedSession(path, names(ins), names(outs), so)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return &Session{s: s, Inputs: ins, Outputs: outs, Path: path}, nil
}

// Run runs the model on float32 inputs (one per model input, each with its
// shape) and returns every output as a float32 tensor the caller must
// Destroy. A panic inside the runtime becomes an error.
func (s *Session) Run(inputs ...*ort.Tensor[float32]) (outs []*ort.Tensor[float32], err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("inference panicked in %s: %v", filepath.Base(s.Path), r)
		}
	}()
	in := make([]ort.Value, len(inputs))
	for i, t := range inputs {
		in[i] = t
	}
	out := make([]ort.Value, len(s.Outputs))
	if err := s.s.Run(in, out); err != nil {
		return nil, fmt.Errorf("run %s: %w", filepath.Base(s.Path), err)
	}
	outs = make([]*ort.Tensor[float32], len(out))
	for i, v := range out {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			for _, o := range out {
				if o != nil {
					o.Destroy()
				}
			}
			return nil, fmt.Errorf("run %s: output %d is %T, want float32 tensor", filepath.Base(s.Path), i, v)
		}
		outs[i] = t
	}
	return outs, nil
}

// Close frees the session.
func (s *Session) Close() error { return s.s.Destroy() }

// Tensor wraps data (not copied) as a float32 tensor of the given shape.
func Tensor(data []float32, shape ...int64) (*ort.Tensor[float32], error) {
	return ort.NewTensor(ort.NewShape(shape...), data)
}
