package api

// buildKitRoutes registers BuildKit's /grpc and /session endpoints.
func (s *Server) buildKitRoutes() {}
