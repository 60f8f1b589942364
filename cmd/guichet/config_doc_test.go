package main

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// configKey is one key of the configuration file, as a dotted path
// (smpp.operators[].password_env), with its Go type and its secret tag.
type configKey struct {
	path   string
	typ    reflect.Type
	secret string
}

// configKeys walks t's yaml tags, into structs, pointers to them and
// slices of them: every key a configuration file may set.
func configKeys(t reflect.Type, prefix string) []configKey {
	var out []configKey
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml's default
		}
		path := prefix + name
		if strings.Contains(opts, "inline") {
			path = strings.TrimSuffix(prefix, ".")
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]():
			out = append(out, configKeys(ft, dotted(path))...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, configKeys(ft.Elem(), path+"[].")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			out = append(out, configKeys(ft.Elem(), path+".*.")...)
		default:
			out = append(out, configKey{path: path, typ: f.Type, secret: f.Tag.Get("secret")})
		}
	}
	return out
}

func dotted(path string) string {
	if path == "" {
		return ""
	}
	return path + "."
}

// documentedKey is a row of docs/CONFIG.md's tables: | `key` | …
var documentedKey = regexp.MustCompile("(?m)^\\| `([a-z0-9_.\\[\\]*]+)` \\|")

// docs/CONFIG.md documents every key of the configuration, and no key
// that is not one.
func TestConfigDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range documentedKey.FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = true
	}
	known := map[string]bool{}
	for _, k := range configKeys(reflect.TypeFor[Config](), "") {
		known[k.path] = true
		if !documented[k.path] {
			t.Errorf("docs/CONFIG.md has no row | `%s` | (a %s)", k.path, k.typ)
		}
	}
	var stale []string
	for k := range documented {
		if !known[k] {
			stale = append(stale, k)
		}
	}
	slices.Sort(stale)
	for _, k := range stale {
		t.Errorf("docs/CONFIG.md documents %s, which the configuration does not have", k)
	}
	// The environment the configuration reads is documented too.
	for _, v := range append([]string{"REDIS_URL", "DATABASE_URL"}, envFilesNames()...) {
		if !strings.Contains(string(b), "`"+v+"`") {
			t.Errorf("docs/CONFIG.md does not name the variable %s", v)
		}
	}
}

func envFilesNames() []string {
	var out []string
	for _, n := range envFiles {
		out = append(out, n+"_FILE")
	}
	return out
}
