// Package adapters holds the ports through which menus reach a backend:
// Router sends each call either to the native case service (package
// cases) or to the ministry's own system that the service file names
// (adapters/rest, adapters/soap, on the shared runner of adapters/backend).
package adapters

import (
	"context"

	"github.com/guichet/guichet/menus"
)

// Doer runs named operations: the native case service, or a connector.
type Doer interface {
	Do(ctx context.Context, c menus.Call) (menus.Result, error)
}

// Router sends each call to the backend of the calling service: its
// ministry's own system when its file names one, the native store otherwise.
type Router struct {
	Native   Doer
	Services map[string]Doer // service id → its connector
}

// Do routes c by c.Service.
func (r Router) Do(ctx context.Context, c menus.Call) (menus.Result, error) {
	if d, ok := r.Services[c.Service]; ok {
		return d.Do(ctx, c)
	}
	return r.Native.Do(ctx, c)
}
