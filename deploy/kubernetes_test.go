package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// object is one manifest, as decoded YAML.
type object map[string]any

// get walks keys (a string for a map, an int for a list) and returns what
// is there, or nil.
func (o object) get(path ...any) any {
	var v any = map[string]any(o)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func (o object) str(path ...any) string { s, _ := o.get(path...).(string); return s }

func (o object) obj(path ...any) object { m, _ := o.get(path...).(map[string]any); return m }

func (o object) list(path ...any) []any { l, _ := o.get(path...).([]any); return l }

// decodeAll reads a stream of YAML documents.
func decodeAll(t *testing.T, r io.Reader) []object {
	t.Helper()
	var out []object
	dec := yaml.NewDecoder(r)
	for {
		// Into any, so that every mapping is a map[string]any.
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
}

// TestKubernetes renders the manifests with kubectl's kustomize (each file
// the kustomization lists must exist and parse), then checks what a
// cluster would only show later: probes on /healthz and /readyz on the
// admin port, a non-root and read-only container, resource limits,
// selectors that match the pods, the ConfigMap and Secret the pods name,
// a stop grace above the gateway's, placeholders in the Secret.
func TestKubernetes(t *testing.T) {
	kubectl := tool(t, "kubectl")
	rendered := run(t, "", []string{"KUBECONFIG=/dev/null"}, kubectl, "kustomize", "kubernetes")
	byKind := map[string]object{}
	for _, o := range decodeAll(t, strings.NewReader(rendered)) {
		kind := o.str("kind")
		if byKind[kind] != nil {
			t.Errorf("two %ss: each kind once", kind)
		}
		if o.str("apiVersion") == "" || o.str("metadata", "name") == "" {
			t.Errorf("a %s without apiVersion or name", kind)
		}
		if kind != "Namespace" && o.str("metadata", "namespace") != "guichet" {
			t.Errorf("%s %s is in namespace %q", kind, o.str("metadata", "name"), o.str("metadata", "namespace"))
		}
		byKind[kind] = o
	}
	for _, kind := range []string{"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} {
		if byKind[kind] == nil {
			t.Fatalf("no %s in the kustomization's output", kind)
		}
	}
	dep, svc, pdb, hpa, cm, secret := byKind["Deployment"], byKind["Service"], byKind["PodDisruptionBudget"], byKind["HorizontalPodAutoscaler"], byKind["ConfigMap"], byKind["Secret"]

	pod := dep.obj("spec", "template")
	labels := pod.obj("metadata", "labels")
	selects := func(what string, sel object) {
		if len(sel) == 0 {
			t.Errorf("%s selects every pod", what)
		}
		for k, v := range sel {
			if labels[k] != v {
				t.Errorf("%s selects %s=%v, the pods have %v", what, k, v, labels[k])
			}
		}
	}
	selects("the Deployment", dep.obj("spec", "selector", "matchLabels"))
	selects("the Service", svc.obj("spec", "selector"))
	selects("the PodDisruptionBudget", pdb.obj("spec", "selector", "matchLabels"))
	if ref := hpa.obj("spec", "scaleTargetRef"); ref.str("kind") != "Deployment" || ref.str("name") != dep.str("metadata", "name") {
		t.Errorf("the HorizontalPodAutoscaler scales %v, not the Deployment", ref)
	}
	minReplicas, _ := hpa.get("spec", "minReplicas").(int)
	minAvailable, _ := pdb.get("spec", "minAvailable").(int)
	if minReplicas <= minAvailable {
		t.Errorf("minReplicas %d, minAvailable %d: a node could never be drained", minReplicas, minAvailable)
	}

	spec := pod.obj("spec")
	containers := spec.list("containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want the gateway", len(containers))
	}
	c := object(containers[0].(map[string]any))
	var args []string
	for _, a := range c.list("args") {
		args = append(args, fmt.Sprint(a))
	}
	if !slices.Equal(args, serveArgs) {
		t.Errorf("args %q, want %q", args, serveArgs)
	}
	ports := map[string]int{}
	for _, p := range c.list("ports") {
		p := object(p.(map[string]any))
		n, _ := p.get("containerPort").(int)
		ports[p.str("name")] = n
	}
	gw := gatewayConfig(t, cm.str("data", "guichet.yaml"))
	for name, addr := range map[string]string{"http": gw.HTTP, "admin": gw.AdminHTTP} {
		if !strings.HasSuffix(addr, fmt.Sprintf(":%d", ports[name])) || !strings.HasPrefix(addr, "0.0.0.0:") {
			t.Errorf("container port %s is %d, the gateway listens on %q (a pod's gateway listens on every address)", name, ports[name], addr)
		}
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		get := c.obj(probe, "httpGet")
		if get.str("path") != path || get.str("port") != "admin" {
			t.Errorf("%s: %v, want GET %s on the admin port", probe, get, path)
		}
	}
	period, _ := c.get("readinessProbe", "periodSeconds").(int)
	failures, _ := c.get("readinessProbe", "failureThreshold").(int)
	if grace := gw.grace(t); time.Duration(period*max(failures, 1))*time.Second > grace {
		t.Errorf("readiness seen failing after %d×%d s, above shutdown_grace %v: a stopping pod would still get requests after its port closed", period, failures, grace)
	}
	if tg, _ := spec.get("terminationGracePeriodSeconds").(int); time.Duration(tg)*time.Second <= gw.grace(t)+drain {
		t.Errorf("terminationGracePeriodSeconds %d: want above shutdown_grace (%v) + the drain (%v)", tg, gw.grace(t), drain)
	}

	if spec.get("securityContext", "runAsNonRoot") != true {
		t.Error("the pod may run as root (securityContext.runAsNonRoot)")
	}
	if uid, _ := spec.get("securityContext", "runAsUser").(int); uid <= 0 {
		t.Errorf("runAsUser %v", spec.get("securityContext", "runAsUser"))
	}
	sc := c.obj("securityContext")
	if sc.get("allowPrivilegeEscalation") != false || sc.get("readOnlyRootFilesystem") != true ||
		!slices.Equal(sc.list("capabilities", "drop"), []any{"ALL"}) {
		t.Errorf("container securityContext %v: want no privilege escalation, a read-only root, every capability dropped", sc)
	}
	for _, kind := range []string{"requests", "limits"} {
		for _, r := range []string{"cpu", "memory"} {
			if c.get("resources", kind, r) == nil {
				t.Errorf("no resources.%s.%s", kind, r)
			}
		}
	}

	// What the pod names exists: the Secret (envFrom), the ConfigMap
	// (mounted where --config reads), a writable /tmp.
	var fromSecret bool
	for _, e := range c.list("envFrom") {
		fromSecret = fromSecret || object(e.(map[string]any)).str("secretRef", "name") == secret.str("metadata", "name")
	}
	if !fromSecret {
		t.Errorf("the container's envFrom does not name the Secret %s", secret.str("metadata", "name"))
	}
	volumes := map[string]object{}
	for _, v := range spec.list("volumes") {
		v := object(v.(map[string]any))
		volumes[v.str("name")] = v
	}
	mounts := map[string]string{}
	for _, m := range c.list("volumeMounts") {
		m := object(m.(map[string]any))
		mounts[m.str("mountPath")] = m.str("name")
		if volumes[m.str("name")] == nil {
			t.Errorf("volume %s is mounted but not declared", m.str("name"))
		}
	}
	if v := volumes[mounts[filepath.Dir(configPath)]]; v.str("configMap", "name") != cm.str("metadata", "name") || cm.str("data", filepath.Base(configPath)) == "" {
		t.Errorf("%s is not the ConfigMap %s's %s", configPath, cm.str("metadata", "name"), filepath.Base(configPath))
	}
	if v := volumes[mounts["/tmp"]]; v.get("emptyDir") == nil {
		t.Error("no emptyDir on /tmp: the root file system is read-only")
	}
	for k, v := range secret.obj("stringData") {
		if !strings.Contains(fmt.Sprint(v), "CHANGE-ME") {
			t.Errorf("the Secret's %s is not a CHANGE-ME placeholder", k)
		}
	}

	// kubectl's types: decoded into Go's Deployment and Service by
	// kubectl set --local (offline), a field kubectl does not know is
	// dropped, and each of ours must come back.
	typed := func(file string, args ...string) {
		t.Helper()
		in := decodeAll(t, mustOpen(t, filepath.Join("kubernetes", file)))[0]
		out := run(t, "", []string{"KUBECONFIG=/dev/null"}, kubectl, append(args, "--local", "-f", filepath.Join("kubernetes", file), "-o", "json")...)
		var back map[string]any
		if err := json.Unmarshal([]byte(out), &back); err != nil {
			t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
		}
		for _, p := range missing(map[string]any(in), back, "") {
			t.Errorf("%s: %s is no field of %s (kubectl dropped it)", file, p, in.str("kind"))
		}
	}
	typed("deployment.yaml", "set", "env", "GUICHET_ROUNDTRIP=1")
	var sel []string
	for k, v := range svc.obj("spec", "selector") {
		sel = append(sel, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(sel)
	typed("service.yaml", "set", "selector", strings.Join(sel, ","))
}

// TestTypedRoundTripCatches proves TestKubernetes's typed check can fail:
// a misspelt field in a container comes back missing.
func TestTypedRoundTripCatches(t *testing.T) {
	kubectl := tool(t, "kubectl")
	b, err := os.ReadFile(filepath.Join("kubernetes", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "readinessProbe:", "readinesProbe:", 1)
	name := filepath.Join(t.TempDir(), "deployment.yaml")
	if err := os.WriteFile(name, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "", []string{"KUBECONFIG=/dev/null"}, kubectl, "set", "env", "X=1", "--local", "-f", name, "-o", "json")
	var back map[string]any
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	in := decodeAll(t, strings.NewReader(bad))[0]
	if got := missing(map[string]any(in), back, ""); !slices.Contains(got, ".spec.template.spec.containers[0].readinesProbe") {
		t.Errorf("the misspelt readinesProbe was not reported: %q", got)
	}
}

// missing lists the paths of in that out lacks (out may have more: the
// defaults kubectl writes).
func missing(in, out any, path string) []string {
	var gone []string
	switch v := in.(type) {
	case map[string]any:
		o, ok := out.(map[string]any)
		if !ok {
			return []string{path}
		}
		for k, x := range v {
			y, ok := o[k]
			if !ok {
				gone = append(gone, path+"."+k)
				continue
			}
			gone = append(gone, missing(x, y, path+"."+k)...)
		}
	case []any:
		o, ok := out.([]any)
		if !ok || len(o) < len(v) {
			return []string{path}
		}
		for i, x := range v {
			gone = append(gone, missing(x, o[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	sort.Strings(gone)
	return gone
}

func mustOpen(t *testing.T, name string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// gateway is what the tests read of a gateway's configuration (the whole
// of it is loaded by serve's loader in cmd/guichet's TestDeployConfigs).
type gateway struct {
	HTTP           string   `yaml:"http"`
	AdminHTTP      string   `yaml:"admin_http"`
	ShutdownGrace  string   `yaml:"shutdown_grace"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	Hotline        struct {
		TrustedProxies []string `yaml:"trusted_proxies"`
	} `yaml:"hotline"`
	SMPP struct {
		Operators []struct {
			Name  string `yaml:"name"`
			Addr  string `yaml:"addr"`
			Binds int    `yaml:"binds"`
		} `yaml:"operators"`
	} `yaml:"smpp"`
}

func gatewayConfig(t *testing.T, text string) gateway {
	t.Helper()
	var g gateway
	if err := yaml.Unmarshal([]byte(text), &g); err != nil {
		t.Fatalf("the gateway's configuration: %v", err)
	}
	return g
}

func (g gateway) grace(t *testing.T) time.Duration {
	if g.ShutdownGrace == "" {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(g.ShutdownGrace)
	if err != nil {
		t.Fatalf("shutdown_grace: %v", err)
	}
	return d
}
