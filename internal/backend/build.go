package backend

import (
	"time"

	"github.com/moby/moby/api/types/registry"
)

// BuildOptions are the query parameters of the classic POST /build
// (docker's names in the comments), read by the API edge and run by the
// embedded BuildKit.
type BuildOptions struct {
	Tags        []string           // t
	Dockerfile  string             // dockerfile: the path in the context, "Dockerfile" when empty
	BuildArgs   map[string]*string // buildargs (JSON)
	Labels      map[string]string  // labels (JSON)
	Target      string             // target
	NoCache     bool               // nocache
	Pull        bool               // pull
	Remove      bool               // rm (default true)
	ForceRemove bool               // forcerm
	NetworkMode string             // networkmode
	ExtraHosts  []string           // extrahosts
	Quiet       bool               // q
	CacheFrom   []string           // cachefrom (JSON)
	Platform    string             // platform
	ShmSize     int64              // shmsize, bytes (0: the default)
	// Ulimits are the ulimits (JSON) as "name=soft:hard".
	Ulimits []string
	// Version is "1" (classic, the context tar in the body) or "2"
	// (BuildKit through a client session: SessionID, and the context
	// from RemoteContext or the session).
	Version       string
	SessionID     string // session
	RemoteContext string // remote
	BuildID       string // buildid, for POST /build/cancel
	// Outputs are the exporters of a version 2 build (outputs, JSON).
	Outputs []BuildOutput
	// AuthConfigs are the registry credentials of X-Registry-Config, by
	// registry host, for pulling FROM images in a version 1 build.
	AuthConfigs map[string]registry.AuthConfig
}

// BuildOutput is one exporter of a build and its attributes.
type BuildOutput struct {
	Type  string
	Attrs map[string]string
}

// BuildCachePruneOptions are POST /build/prune's parameters.
type BuildCachePruneOptions struct {
	All bool
	// KeepStorage, ReservedSpace, MaxUsedSpace and MinFreeSpace are bytes
	// (0: unset).
	KeepStorage, ReservedSpace, MaxUsedSpace, MinFreeSpace int64
	// Until and the other filters (id, parent, type, description, inuse,
	// shared, private) as sent.
	Until   time.Duration
	Filters Filters
}
