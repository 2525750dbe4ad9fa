// Package vision turns a post's pictures into labels: it fetches media under
// strict limits, decodes it, runs an object detector and OCR on the CPU, and
// hands the labels to the store. It never detects, embeds or matches faces.
//
// Subpackages: onnx (the shared ONNX Runtime), tfjs (the TF.js → ONNX
// converter for the shipped detector), detect (detectors and classifiers with
// their label maps), ocr (PaddleOCR text detection and recognition), fetch
// (media download with SSRF rules).
package vision
