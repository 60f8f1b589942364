package backend

import (
	"context"

	"github.com/guichet/guichet/adapters"
)

// Doer runs named operations: the native adapter, or a connector.
type Doer interface {
	Do(ctx context.Context, c adapters.Call) (adapters.Result, error)
}

// Router sends each call to the backend of the calling service: its
// ministry's own system when its file names one, the native store otherwise.
type Router struct {
	Native   Doer
	Services map[string]Doer // service id → its connector
}

// Do routes c by c.Service.
func (r Router) Do(ctx context.Context, c adapters.Call) (adapters.Result, error) {
	if d, ok := r.Services[c.Service]; ok {
		return d.Do(ctx, c)
	}
	return r.Native.Do(ctx, c)
}
