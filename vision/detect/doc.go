// Package detect runs object detectors and image classifiers on the CPU and
// turns their raw outputs into named objects with scores.
//
// The shipped model is NanoDet (COCO-80 classes; converted from TF.js by
// vision/tfjs at `make ml-assets`). Any other ONNX model can be configured
// instead: a NanoDet-style detector trained on other classes, or a
// classifier with one output of class scores, each with its label map.
//
// It labels things, never people's identities: a "person" box is an object
// class like any other, and no face is ever detected, cropped or embedded.
package detect
