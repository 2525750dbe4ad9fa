package http

// Route is a route of the table, for the OpenAPI tests of package http_test.
type Route struct {
	Method, Pattern string
	Public          bool
	Scope           string // what a workspace key needs
}

// Routes returns s's route table.
func Routes(s *Server) []Route {
	var out []Route
	for _, rt := range s.routes() {
		out = append(out, Route{Method: rt.method, Pattern: rt.pattern, Public: rt.public, Scope: string(rt.scope)})
	}
	return out
}
