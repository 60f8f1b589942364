package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/guichet/guichet/kanneltest"
)

// subcommands is every subcommand, as a user types it before its flags.
var subcommands = []string{
	"serve", "dial", "smsc", "migrate", "version", "loadgen",
	"config", "config check",
	"apikey", "apikey add", "apikey list", "apikey revoke",
	"users", "users add", "users password",
	"citizen", "citizen export", "citizen erase",
	"menus", "menus check", "menus graph", "menus import-xpdl",
}

var advertised = regexp.MustCompile(`--([a-z][a-z-]*)`)

// --help and -h print a subcommand's own usage on standard output and
// exit 0, and every flag its usage, or guichet's, advertises exists.
func TestSubcommandHelp(t *testing.T) {
	bin := kanneltest.Guichet(t)
	helps := map[string]string{}
	for _, sub := range subcommands {
		for _, help := range []string{"--help", "-h"} {
			t.Run(sub+" "+help, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				cmd := exec.Command(bin, append(strings.Fields(sub), help)...)
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				if errors.As(err, &exit) || err != nil {
					t.Fatalf("guichet %s %s: %v (stderr %q)", sub, help, err, stderr.String())
				}
				out := stdout.String()
				if !strings.HasPrefix(out, "usage: guichet ") || !strings.Contains(out, "guichet "+sub) {
					t.Errorf("guichet %s %s does not name its command:\n%s", sub, help, out)
				}
				if stderr.Len() > 0 {
					t.Errorf("guichet %s %s wrote to stderr: %q", sub, help, stderr.String())
				}
				// What it advertises before its flags' list exists in that list.
				synopsis, defaults, _ := strings.Cut(out, "\nflags:\n")
				for _, m := range advertised.FindAllStringSubmatch(synopsis, -1) {
					if verbOf(synopsis, m[0]) == sub && !strings.Contains(defaults, "  -"+m[1]+" ") && !strings.Contains(defaults, "  -"+m[1]+"\n") {
						t.Errorf("guichet %s advertises --%s, which it does not take:\n%s", sub, m[1], out)
					}
				}
				helps[sub] = defaults
			})
		}
	}

	// guichet's own usage: each line's flags exist in its subcommand.
	for _, line := range strings.Split(usage, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "guichet ") || strings.HasPrefix(line, "guichet —") {
			continue
		}
		sub := ""
		for _, s := range subcommands {
			if strings.HasPrefix(line, "guichet "+s+" ") && len(s) > len(sub) {
				sub = s
			}
		}
		if sub == "" {
			t.Errorf("guichet's usage names no known subcommand: %s", line)
			continue
		}
		for _, m := range advertised.FindAllStringSubmatch(line, -1) {
			if sub == "version" && m[1] == "version" { // guichet --version
				continue
			}
			if d := helps[sub]; !strings.Contains(d, "  -"+m[1]+" ") && !strings.Contains(d, "  -"+m[1]+"\n") {
				t.Errorf("guichet's usage advertises %s --%s, which it does not take", sub, m[1])
			}
		}
	}
}

// verbOf is the subcommand a usage line (of a multi-line usage) holding
// flag is about: "guichet apikey add … --owner" is apikey add's.
func verbOf(synopsis, flag string) string {
	for _, line := range strings.Split(synopsis, "\n") {
		if !strings.Contains(line, flag) {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "usage:"))
		if len(f) < 2 || f[0] != "guichet" {
			continue
		}
		if len(f) > 2 && !strings.HasPrefix(f[2], "-") && !strings.HasPrefix(f[2], "[") && strings.ToLower(f[2]) == f[2] {
			return f[1] + " " + f[2]
		}
		return f[1]
	}
	return ""
}

// A path that does not exist, or is not what it should be, is named in the
// error, for each command that takes one.
func TestWrongPathNamed(t *testing.T) {
	dir := t.TempDir()
	missing, file := dir+"/nowhere", dir+"/file.yaml"
	if err := writeFile(file, "x: 1\n"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		path string
	}{
		{[]string{"serve", "--config", missing + ".yaml"}, missing + ".yaml"},
		{[]string{"serve", "--menus", missing}, missing},
		{[]string{"menus", "check", missing}, missing},
		{[]string{"config", "check", missing + ".yaml"}, missing + ".yaml"},
		{[]string{"menus", "check", file}, file},
		{[]string{"menus", "graph", missing}, missing},
		{[]string{"menus", "import-xpdl", missing + ".xpdl"}, missing + ".xpdl"},
		{[]string{"menus", "import-xpdl", "--menus", missing, "../../menus/xpdl/testdata/fixture-birth-declaration_xpdl2.2.xpdl"}, missing},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("%v: %v, want an error naming %s", tt.args, err, tt.path)
		}
	}
}
