package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestKubectlApply runs `kubectl apply --dry-run=client` on the manifests.
// No cluster answers here, and kubectl asks one which resource each kind
// is and whether the object exists: a fake API server on 127.0.0.1 says
// which resources exist (those of a Kubernetes 1.32, with their real API
// groups and versions, so a kind at a removed version such as
// policy/v1beta1 or autoscaling/v2beta2 fails) and that no object does.
// It serves no OpenAPI schema, hence --validate=false: the fields are
// checked by TestKubernetes (kubectl's own types for the Deployment and
// the Service, and what matters of each).
func TestKubectlApply(t *testing.T) {
	kubectl := tool(t, "kubectl")
	api := newFakeAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: fake, user: {token: not-a-secret}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: guichet}}]
current-context: fake
`, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(t, "", []string{"KUBECONFIG=" + kubeconfig}, kubectl,
		"apply", "--dry-run=client", "--validate=false", "--cache-dir", filepath.Join(dir, "cache"), "-k", "kubernetes", "-o", "name")
	got := strings.Fields(out)
	slices.Sort(got)
	want := []string{"configmap/guichet-config", "deployment.apps/guichet", "horizontalpodautoscaler.autoscaling/guichet",
		"namespace/guichet", "poddisruptionbudget.policy/guichet", "secret/guichet-secrets", "service/guichet"}
	if !slices.Equal(got, want) {
		t.Errorf("kubectl apply --dry-run=client -k kubernetes:\n%s\nwant %q", out, want)
	}
	if w := api.writes(); len(w) > 0 {
		t.Errorf("a dry run wrote to the API server: %q", w)
	}
}

// fakeAPI answers discovery for the kinds the manifests use and any
// other that a cluster serves at that version, 404 for every object, and
// records any request that would change something.
type fakeAPI struct {
	mu      sync.Mutex
	changes []string
	groups  map[string][]resource // "v1", "apps/v1"…
}

type resource struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Namespaced bool     `json:"namespaced"`
	Verbs      []string `json:"verbs"`
}

func newFakeAPI() *fakeAPI {
	verbs := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	r := func(name, kind string, namespaced bool) resource { return resource{name, kind, namespaced, verbs} }
	return &fakeAPI{groups: map[string][]resource{
		"v1": {r("namespaces", "Namespace", false), r("configmaps", "ConfigMap", true), r("secrets", "Secret", true),
			r("services", "Service", true), r("pods", "Pod", true), r("serviceaccounts", "ServiceAccount", true)},
		"apps/v1":        {r("deployments", "Deployment", true), r("statefulsets", "StatefulSet", true)},
		"policy/v1":      {r("poddisruptionbudgets", "PodDisruptionBudget", true)},
		"autoscaling/v2": {r("horizontalpodautoscalers", "HorizontalPodAutoscaler", true)},
		"autoscaling/v1": {r("horizontalpodautoscalers", "HorizontalPodAutoscaler", true)},
		"batch/v1":       {r("jobs", "Job", true), r("cronjobs", "CronJob", true)},
	}}
}

func (f *fakeAPI) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.changes)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		f.mu.Lock()
		f.changes = append(f.changes, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	reply := func(v any) { json.NewEncoder(w).Encode(v) }
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/api":
		reply(map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]string{"clientCIDR": "0.0.0.0/0", "serverAddress": r.Host}}})
		return
	case path == "/apis":
		byGroup := map[string][]string{}
		for gv := range f.groups {
			if g, v, ok := strings.Cut(gv, "/"); ok {
				byGroup[g] = append(byGroup[g], v)
			}
		}
		var groups []any
		for g, vs := range byGroup {
			slices.Sort(vs)
			slices.Reverse(vs) // the preferred, newest first: v2 before v1
			var versions []any
			for _, v := range vs {
				versions = append(versions, map[string]string{"groupVersion": g + "/" + v, "version": v})
			}
			groups = append(groups, map[string]any{"name": g, "versions": versions, "preferredVersion": versions[0]})
		}
		reply(map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
		return
	}
	gv := strings.TrimPrefix(strings.TrimPrefix(path, "/apis/"), "/api/")
	if res, ok := f.groups[gv]; ok {
		reply(map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res})
		return
	}
	w.WriteHeader(http.StatusNotFound)
	reply(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
		"message": "the fake API server holds no object"})
}
