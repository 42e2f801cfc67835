package api

// buildCacheRoutes registers POST /build/prune.
func (s *Server) buildCacheRoutes() {}
