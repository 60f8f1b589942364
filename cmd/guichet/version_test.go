package main

import (
	"bytes"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/guichet/guichet/kanneltest"
)

// version and --version answer from a built binary. What they print is
// checked on a build info of our own: this machine's go env sets
// -buildvcs=false, so its binaries carry no commit.
func TestVersion(t *testing.T) {
	bin := kanneltest.Guichet(t)
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("guichet %s: %v\n%s", arg, err, out)
		}
		if !strings.HasPrefix(string(out), "guichet ") || !strings.Contains(string(out), "\ncommit: ") ||
			!strings.Contains(string(out), "go: "+runtime.Version()) {
			t.Errorf("guichet %s:\n%s", arg, out)
		}
	}

	tests := []struct {
		info *debug.BuildInfo
		want string
	}{
		{nil, "guichet (devel)\ncommit: unknown\ngo: " + runtime.Version()},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3-0.20261201153452-9789ae427503+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "9789ae4275035c4230c07cf4707bf9597dffef33"},
				{Key: "vcs.time", Value: "2026-12-01T15:34:52Z"}, {Key: "vcs.modified", Value: "true"}}},
			"guichet v1.2.3-0.20261201153452-9789ae427503+dirty\ncommit: 9789ae4275035c4230c07cf4707bf9597dffef33\n" +
				"modified: true\ncommit time: 2026-12-01T15:34:52Z\ngo: go1.26.8 "},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		printVersion(&out, fromBuildInfo(tt.info))
		if !strings.HasPrefix(out.String(), tt.want) {
			t.Errorf("version printed\n%s\nwant\n%s", out.String(), tt.want)
		}
	}
}

func TestBuildInfoMetric(t *testing.T) {
	base, _ := bootServer(t)
	b := readBuild()
	_, page := get(t, base+"/metrics")
	want := `guichet_build_info{commit="` + b.Commit + `",go_version="` + runtime.Version() + `",version="` + b.Version + `"} 1`
	if !strings.Contains(page, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, grepLines(page, "guichet_build_info"))
	}
}
