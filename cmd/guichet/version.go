package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildInfo is what the Go toolchain recorded in the binary: the module's
// version (from the VCS tag or a pseudo-version, "+dirty" when the tree
// had changes; "(devel)" under go test or go run), the commit, whether the
// tree was modified, and the commit's time. Go records no build time.
type buildInfo struct {
	Version, Commit, CommitTime, GoVersion string
	Modified                               bool
}

func readBuild() buildInfo {
	info, _ := debug.ReadBuildInfo()
	return fromBuildInfo(info)
}

func fromBuildInfo(info *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: "(devel)", Commit: "unknown", GoVersion: runtime.Version()}
	if info == nil {
		return b
	}
	if info.Main.Version != "" {
		b.Version = info.Main.Version
	}
	if info.GoVersion != "" {
		b.GoVersion = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// versionCmd prints the build, one "key: value" a line.
func versionCmd(args []string, stdout io.Writer) error {
	fs := newFlags("version", "usage: guichet version | guichet --version\n\nPrint the module version, commit and Go version this binary was built from.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("usage: guichet version")
	}
	printVersion(stdout, readBuild())
	return nil
}

func printVersion(stdout io.Writer, b buildInfo) {
	fmt.Fprintf(stdout, "guichet %s\ncommit: %s\n", b.Version, b.Commit)
	if b.Commit != "unknown" {
		fmt.Fprintf(stdout, "modified: %t\n", b.Modified)
	}
	if b.CommitTime != "" {
		fmt.Fprintf(stdout, "commit time: %s\n", b.CommitTime)
	}
	fmt.Fprintf(stdout, "go: %s %s/%s\n", b.GoVersion, runtime.GOOS, runtime.GOARCH)
}
