package adapters_test

import (
	"context"
	"testing"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/menus"
)

type named string

func (n named) Do(context.Context, menus.Call) (menus.Result, error) {
	return menus.Result{Vars: map[string]string{"by": string(n)}}, nil
}

func TestRouter(t *testing.T) {
	r := adapters.Router{Native: named("native"), Services: map[string]adapters.Doer{"courrier": named("soap")}}
	for svc, want := range map[string]string{"courrier": "soap", "track": "native", "": "native"} {
		res, err := r.Do(context.Background(), menus.Call{Op: "cases.track", Service: svc})
		if err != nil || res.Vars["by"] != want {
			t.Errorf("service %q went to %q, want %q", svc, res.Vars["by"], want)
		}
	}
}
