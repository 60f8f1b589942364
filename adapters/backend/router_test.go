package backend_test

import (
	"context"
	"testing"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/adapters/backend"
)

type named string

func (n named) Do(context.Context, adapters.Call) (adapters.Result, error) {
	return adapters.Result{Vars: map[string]string{"by": string(n)}}, nil
}

func TestRouter(t *testing.T) {
	r := backend.Router{Native: named("native"), Services: map[string]backend.Doer{"courrier": named("soap")}}
	for svc, want := range map[string]string{"courrier": "soap", "track": "native", "": "native"} {
		res, err := r.Do(context.Background(), adapters.Call{Op: "cases.track", Service: svc})
		if err != nil || res.Vars["by"] != want {
			t.Errorf("service %q went to %q, want %q", svc, res.Vars["by"], want)
		}
	}
}
