package deploy

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The paths every deployment agrees on.
const (
	binary     = "/usr/local/bin/guichet"
	configPath = "/etc/guichet/guichet.yaml"
	envPath    = "/etc/guichet/guichet.env"
	// drain is how long serve waits for in-flight requests after the
	// grace (cmd/guichet/serve.go): a stop timeout must exceed both.
	drain = 10 * time.Second
)

var serveArgs = []string{"serve", "--config", configPath}

// tool finds a command the tests run. A missing one fails the test, in CI
// and out of it: scripts/test-services.sh (make test) installs them all.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run scripts/test-services.sh as root (it installs podman, kubectl, systemd-analyze)", name)
	}
	return p
}

// run runs a command and returns its standard output; it fails the test
// with both outputs when the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.Stdin = dir, &stdout, &stderr, nil
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, tail(stdout.String()), tail(stderr.String()))
	}
	return stdout.String()
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// TestImage builds the image with `make image` into a podman store of its
// own (nothing is pulled: FROM scratch) and checks what can be checked
// without running a container, which crun cannot start in this sandbox:
// the binary is static, the image's user is not root, its entrypoint is
// the binary, its labels carry the version, and its files are there.
func TestImage(t *testing.T) {
	tool(t, "podman")
	tmp, err := os.MkdirTemp("", "guichet-image-")
	if err != nil {
		t.Fatal(err)
	}
	// The store's layers may keep modes t.TempDir's cleanup cannot undo.
	t.Cleanup(func() { os.RemoveAll(tmp) })
	store := fmt.Sprintf("--root %s/storage --runroot %s/run --storage-driver vfs", tmp, tmp)
	const image, version = "localhost/guichet-test", "test-1"
	run(t, "..", nil, "make", "--no-print-directory", "image", "BIN="+tmp+"/bin", "IMAGE="+image, "VERSION="+version, "PODMAN_FLAGS="+store)

	bin := filepath.Join(tmp, "bin", "image", "rootfs", strings.TrimPrefix(binary, "/"))
	checkStatic(t, bin)

	podman := func(args ...string) string {
		return run(t, "", nil, "podman", append(strings.Fields(store), args...)...)
	}
	var inspect []struct {
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			Labels       map[string]string
			ExposedPorts map[string]any
		}
	}
	if err := json.Unmarshal([]byte(podman("image", "inspect", image+":"+version)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v (%d images)", err, len(inspect))
	}
	c := inspect[0].Config
	checkUser(t, "the image", c.User)
	if !slices.Equal(c.Entrypoint, []string{binary}) {
		t.Errorf("entrypoint %q, want [%s]", c.Entrypoint, binary)
	}
	if !slices.Equal(c.Cmd, serveArgs) {
		t.Errorf("cmd %q, want %q", c.Cmd, serveArgs)
	}
	if got := c.Labels["org.opencontainers.image.version"]; got != version {
		t.Errorf("label org.opencontainers.image.version %q, want %q", got, version)
	}
	for _, p := range []string{"8080/tcp", "9090/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("port %s not exposed (%v)", p, c.ExposedPorts)
		}
	}
	if len(podman("image", "inspect", "--format", "{{.Id}}", image+":latest")) == 0 {
		t.Errorf("%s:latest not tagged", image)
	}

	archive := filepath.Join(tmp, "image.tar")
	podman("save", "--quiet", "--format", "docker-archive", "-o", archive, image+":"+version)
	rootfs := filepath.Join(tmp, "rootfs")
	files := imageFiles(t, archive, rootfs)
	want, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	for name, check := range map[string]func(h *tar.Header) string{
		strings.TrimPrefix(binary, "/"): func(h *tar.Header) string {
			if h.Mode&0o111 == 0 || h.Size != want.Size() {
				return fmt.Sprintf("mode %o, %d bytes; want executable, %d bytes", h.Mode, h.Size, want.Size())
			}
			return ""
		},
		"etc/ssl/certs/ca-certificates.crt": func(h *tar.Header) string {
			if h.Size < 1000 {
				return fmt.Sprintf("%d bytes", h.Size)
			}
			return ""
		},
		"tmp/": func(h *tar.Header) string {
			if h.Typeflag != tar.TypeDir || h.Mode&0o1777 != 0o1777 {
				return fmt.Sprintf("type %c mode %o; want a directory 1777", h.Typeflag, h.Mode)
			}
			return ""
		},
	} {
		h, ok := files[name]
		if !ok {
			t.Errorf("the image has no %s", name)
			continue
		}
		if msg := check(h); msg != "" {
			t.Errorf("the image's %s: %s", name, msg)
		}
	}
	for _, name := range []string{"bin/sh", "etc/passwd"} {
		if _, ok := files[name]; ok {
			t.Errorf("the image has %s: it should hold the binary and its certificates only", name)
		}
	}
	runRootfs(t, rootfs, c.User)
}

// checkStatic fails unless the ELF file asks for no loader and no shared
// library: what runs FROM scratch.
func checkStatic(t *testing.T, name string) {
	t.Helper()
	f, err := elf.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for a loader (PT_INTERP): not static, it cannot run FROM scratch (CGO_ENABLED=0?)", name)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s needs shared libraries %q (%v)", name, libs, err)
	}
}

// checkUser fails on a user that is root or unnamed: "", "0", "root",
// "0:0"; the image has no /etc/passwd, so the user must be a number.
func checkUser(t *testing.T, what, user string) {
	t.Helper()
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	if err != nil || n <= 0 {
		t.Errorf("%s runs as user %q: want a numeric user that is not root (65532:65532)", what, user)
	}
}

// imageFiles reads a docker-archive's layers: each file's last header. It
// writes their directories and regular files under dir, with their modes.
func imageFiles(t *testing.T, archive, dir string) map[string]*tar.Header {
	t.Helper()
	outer := readTar(t, archive)
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(outer["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("%s: manifest.json: %v", archive, err)
	}
	files := map[string]*tar.Header{}
	for _, layer := range manifest[0].Layers {
		tr := tar.NewReader(bytes.NewReader(outer[layer]))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", layer, err)
			}
			name := strings.TrimPrefix(h.Name, "./")
			files[name] = h
			if !filepath.IsLocal(name) {
				t.Fatalf("layer %s: %q is outside the image", layer, h.Name)
			}
			path := filepath.Join(dir, name)
			switch h.Typeflag {
			case tar.TypeDir:
				err = os.MkdirAll(path, 0o755)
			case tar.TypeReg:
				var b []byte
				if b, err = io.ReadAll(tr); err == nil {
					err = os.WriteFile(path, b, 0o600)
				}
			default:
				continue
			}
			if err == nil {
				err = os.Chmod(path, h.FileInfo().Mode())
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return files
}

// TestImage's last part: the image's files, as a container would have
// them, run the gateway as the image's user (chroot, since no container
// starts here): it answers /healthz and /readyz, and stops on SIGTERM.
func runRootfs(t *testing.T, rootfs, user string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("running the image's files needs root (chroot), as the project's machines and CI are")
	}
	chroot := tool(t, "chroot")
	out := run(t, "", nil, chroot, "--userspec="+user, rootfs, binary, "version")
	if !strings.HasPrefix(out, "guichet ") {
		t.Errorf("guichet version in the image: %q", out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// The embedded default (a demo in memory), on that port, with no grace.
	config := "/tmp/guichet.yaml"
	if err := os.WriteFile(filepath.Join(rootfs, config), []byte("http: "+addr+"\nshutdown_grace: 0s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(chroot, "--userspec="+user, rootfs, binary, "serve", "--config", config)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	for _, path := range []string{"/healthz", "/readyz"} {
		var status int
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + path); err == nil {
				status = resp.StatusCode
				resp.Body.Close()
				break
			}
		}
		if status != http.StatusOK {
			t.Fatalf("GET %s from the gateway in the image's files: %d\n%s", path, status, tail(log.String()))
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-done:
		t.Logf("the gateway in the image's files answered /healthz and /readyz, and stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Errorf("the gateway stopped on SIGTERM with %v\n%s", err, tail(log.String()))
		}
	case <-time.After(20 * time.Second):
		t.Errorf("the gateway did not stop within 20 s of SIGTERM\n%s", tail(log.String()))
	}
}

func readTar(t *testing.T, name string) map[string][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

// TestDockerfile keeps the Dockerfile (built from source, elsewhere) and
// the Containerfile (make image) in step: what the image runs, as whom,
// and on which ports; and the builder's binary static.
func TestDockerfile(t *testing.T) {
	docker, scratch := instructions(t, filepath.Join("..", "Dockerfile")), instructions(t, "Containerfile")
	if from := scratch["FROM"]; !slices.Equal(from, []string{"scratch"}) {
		t.Errorf("Containerfile: FROM %q, want scratch only (nothing to pull)", from)
	}
	from := docker["FROM"]
	if len(from) != 2 || !strings.HasSuffix(from[0], " AS build") || !strings.Contains(from[1], "static") {
		t.Errorf("Dockerfile: FROM %q, want a builder stage then a static base", from)
	}
	if !slices.ContainsFunc(docker["RUN"], func(s string) bool { return strings.Contains(s, "CGO_ENABLED=0 go build") }) {
		t.Error("Dockerfile: the binary is not built with CGO_ENABLED=0 (static)")
	}
	for _, key := range []string{"USER", "ENTRYPOINT", "CMD", "EXPOSE"} {
		if !slices.Equal(docker[key], scratch[key]) || len(scratch[key]) != 1 {
			t.Errorf("%s: Dockerfile %q, Containerfile %q: want one, the same", key, docker[key], scratch[key])
		}
	}
	checkUser(t, "the Containerfile", strings.Join(scratch["USER"], ""))
	entry := fmt.Sprintf("[%q]", binary)
	if e := scratch["ENTRYPOINT"]; len(e) != 1 || e[0] != entry {
		t.Errorf("ENTRYPOINT %q, want %s", e, entry)
	}
}

// instructions reads a Containerfile's instructions, continuation lines
// joined: each keyword's arguments in order.
func instructions(t *testing.T, name string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		line += strings.TrimSpace(l)
		if strings.HasSuffix(line, "\\") {
			line = strings.TrimSuffix(line, "\\") + " "
			continue
		}
		if key, args, ok := strings.Cut(line, " "); ok {
			out[strings.ToUpper(key)] = append(out[strings.ToUpper(key)], strings.TrimSpace(args))
		}
		line = ""
	}
	return out
}

// TestSystemdUnit checks the unit's hardening and timeouts, then has
// systemd-analyze verify it (any warning fails) and rate its exposure
// offline. verify needs ExecStart's binary to exist: it reads a copy of
// the unit whose ExecStart is an executable of this machine (this test's
// own), since systemd is not PID 1 here and nothing is installed.
func TestSystemdUnit(t *testing.T) {
	tool(t, "systemd-analyze")
	unit := readUnit(t, filepath.Join("systemd", "guichet.service"))
	for key, want := range map[string]string{
		"ExecStart":               binary + " " + strings.Join(serveArgs, " "),
		"EnvironmentFile":         envPath,
		"Restart":                 "on-failure",
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"CapabilityBoundingSet":   "",
		"MemoryDenyWriteExecute":  "yes",
		"LockPersonality":         "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"SystemCallArchitectures": "native",
	} {
		if got, ok := unit[key]; !ok || !slices.Contains(got, want) {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	if !slices.Contains(unit["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter=%q, want @system-service", unit["SystemCallFilter"])
	}
	if u := unit["User"]; len(u) > 0 && (u[0] == "root" || u[0] == "0") {
		t.Errorf("User=%s", u[0])
	}
	stop, err := time.ParseDuration(strings.Join(unit["TimeoutStopSec"], ""))
	grace := shutdownGrace(t, filepath.Join("systemd", "guichet.yaml"))
	if err != nil || stop <= grace+drain {
		t.Errorf("TimeoutStopSec=%q (%v): want above shutdown_grace (%v) + the drain (%v)", unit["TimeoutStopSec"], err, grace, drain)
	}
	if env := filepath.Join("systemd", "guichet.env"); !fileExists(env) {
		t.Errorf("%s, the example of %s, is missing", env, envPath)
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("systemd", "guichet.service"))
	if err != nil {
		t.Fatal(err)
	}
	unitCopy := strings.Replace(string(b), "ExecStart="+binary+" ", "ExecStart="+self+" ", 1)
	if unitCopy == string(b) {
		t.Fatal("no ExecStart to point at an executable")
	}
	name := filepath.Join(dir, "guichet.service")
	if err := os.WriteFile(name, []byte(unitCopy), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(name string) string {
		out, err := exec.Command("systemd-analyze", "verify", "--man=no", name).CombinedOutput()
		if err != nil && len(out) == 0 {
			out = []byte(err.Error())
		}
		return strings.TrimSpace(string(out))
	}
	if out := verify(name); out != "" {
		t.Errorf("systemd-analyze verify:\n%s", out)
	}
	// The same check on a typo must speak, or the one above proves nothing.
	bad := filepath.Join(dir, "bad.service")
	if err := os.WriteFile(bad, []byte(strings.Replace(unitCopy, "NoNewPrivileges=yes", "NoNewPrivilege=yes", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := verify(bad); !strings.Contains(out, "NoNewPrivilege") {
		t.Errorf("systemd-analyze verify says nothing of an unknown key: %q", out)
	}

	// Exposure 0 (locked down) … 10 (unsafe): 2 at most.
	out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "--threshold=20", name).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for guichet\.service: ([0-9.]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, tail(string(out)))
	}
	t.Logf("systemd-analyze security: exposure %s", m[1])
}

// readUnit reads a unit file's directives, each with its values in order.
func readUnit(t *testing.T, name string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// shutdownGrace reads a gateway configuration's shutdown_grace (5 s when
// absent, serve's default).
func shutdownGrace(t *testing.T, name string) time.Duration {
	t.Helper()
	var cfg struct {
		ShutdownGrace string `yaml:"shutdown_grace"`
	}
	readYAML(t, name, &cfg)
	if cfg.ShutdownGrace == "" {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(cfg.ShutdownGrace)
	if err != nil {
		t.Fatalf("%s: shutdown_grace: %v", name, err)
	}
	return d
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
