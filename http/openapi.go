package http

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of every route. It is written by
// hand, next to the code; tests keep it and the route table in step.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	w.Write(openAPI)
}
