// Package ocr reads text in pictures with the PaddleOCR PP-OCRv4 models: a DB
// text detector finds where text is and a CTC recogniser reads each region.
// Text in a photo (a shop sign, a menu, a banner) names places and brands
// that captions often leave out.
//
// Most photos hold no text, so the detector runs first at a small size and
// recognition runs only on regions that pass area and confidence thresholds:
// a photo without text costs one small detector pass and nothing else.
//
// Each text region is a rotated rectangle, straightened before it is read,
// so tilted signs read as well as level ones; a Line reports the region's
// axis-aligned bounds in the caller's image coordinates. Words the detector
// splits are joined back into lines. Vertical (top-to-bottom) text is not
// supported: a region is always read along its more horizontal side.
package ocr
