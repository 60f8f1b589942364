package main

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
)

// A secret is given in one of three ways: inline in the file (credential:),
// by the name of an environment variable that holds it (credential_env:),
// or by a file that holds it (credential_file:, the way of Kubernetes
// Secrets, systemd's LoadCredential and Docker secrets). Fields that hold
// a secret are tagged secret:"true" (or secret:"url" for a URL whose
// password is the secret), so that guichet config check masks them.

// readSecret reads a secret from file: its content less one trailing
// newline. Its errors name key and the file, never the content.
func readSecret(key, file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err) // os errors name the file
	}
	s := strings.TrimSuffix(string(b), "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", fmt.Errorf("%s %s is empty", key, file)
	}
	return s, nil
}

// secretFrom resolves the secret of inline, env (a variable's name) and
// file, at most one of which may be set; what names the key without its
// suffix ("smpp operator mtn: password"). An unset variable leaves the
// secret empty: validate names it.
func secretFrom(what, inline, env, file string, getenv func(string) string) (string, error) {
	n := 0
	for _, s := range []string{inline, env, file} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return "", fmt.Errorf("%s: set one of %s, %s_env and %s_file, not %d", what, lastWord(what), lastWord(what), lastWord(what), n)
	case env != "":
		return getenv(env), nil
	case file != "":
		return readSecret(what+"_file", file)
	}
	return inline, nil
}

// lastWord is what's key: "smpp operator mtn: password" → "password".
func lastWord(what string) string {
	return what[strings.LastIndexAny(what, " .")+1:]
}

// readURLFiles reads redis_url_file and database_url_file, before the
// environment and the flags override them, and answers what is wrong.
func (c *Config) readURLFiles() []string {
	var errs []string
	for _, f := range []struct {
		what  string
		value *string
		file  string
	}{{"redis_url", &c.RedisURL, c.RedisURLFile}, {"database_url", &c.DatabaseURL, c.DatabaseURLFile}} {
		if *f.value != "" && f.file != "" {
			errs = append(errs, fmt.Sprintf("%s: set %s or %s_file, not both", f.what, f.what, f.what))
			continue
		}
		if f.file != "" {
			v, err := readSecret(f.what+"_file", f.file)
			if err != nil {
				errs = append(errs, err.Error())
			}
			*f.value = v
		}
	}
	return errs
}

// resolveSecrets reads the secrets given by variable or by file into the
// fields that hold them, and answers what is wrong.
func (c *Config) resolveSecrets(getenv func(string) string) []string {
	var errs []string
	for i := range c.SMPP.Operators {
		o := &c.SMPP.Operators[i]
		v, err := secretFrom("smpp operator "+o.Name+": password", o.Password, o.PasswordEnv, o.PasswordFile, getenv)
		if err != nil {
			errs = append(errs, err.Error())
		}
		o.Password = v
	}
	for i := range c.Operators {
		op := &c.Operators[i]
		v, err := secretFrom("operator "+op.Name+": credential", op.Credential, op.CredentialEnv, op.CredentialFile, getenv)
		if err != nil {
			errs = append(errs, err.Error())
		}
		op.Credential = v
	}
	return errs
}

// envFiles are the environment variables that may be given as a file
// instead, by NAME_FILE.
var envFiles = []string{"DATABASE_URL", "REDIS_URL"}

// fileEnv is getenv where NAME_FILE, for NAME of envFiles, stands for
// NAME: the file's content, read once now. NAME and NAME_FILE both set
// are refused.
func fileEnv(getenv func(string) string) (func(string) string, error) {
	if getenv == nil {
		return nil, nil
	}
	read := map[string]string{}
	for _, name := range envFiles {
		file := getenv(name + "_FILE")
		if file == "" {
			continue
		}
		if getenv(name) != "" {
			return nil, fmt.Errorf("%s and %s_FILE are both set: one or the other", name, name)
		}
		v, err := readSecret(name+"_FILE", file)
		if err != nil {
			return nil, err
		}
		read[name] = v
	}
	if len(read) == 0 {
		return getenv, nil
	}
	return func(name string) string {
		if v, ok := read[name]; ok {
			return v
		}
		return getenv(name)
	}, nil
}

// mask is the mark that replaces a secret.
const mask = "****"

// masked is a deep copy of v (a Config, or one of its parts) with every
// field tagged secret masked: replaced by mask when set, or, for a URL,
// only its passwords.
func masked[T any](v T) T {
	out := reflect.New(reflect.TypeFor[T]()).Elem()
	maskValue(out, reflect.ValueOf(v), "")
	return out.Interface().(T)
}

func maskValue(dst, src reflect.Value, tag string) {
	switch src.Kind() {
	case reflect.Struct:
		for i := range src.NumField() {
			f := src.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			maskValue(dst.Field(i), src.Field(i), f.Tag.Get("secret"))
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		maskValue(p.Elem(), src.Elem(), tag)
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			maskValue(s.Index(i), src.Index(i), tag)
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			e := reflect.New(src.Type().Elem()).Elem()
			maskValue(e, it.Value(), tag)
			m.SetMapIndex(it.Key(), e)
		}
		dst.Set(m)
	case reflect.String:
		switch s := src.String(); {
		case s == "":
		case tag == "true":
			dst.SetString(mask)
		case tag == "url":
			dst.SetString(maskURL(s))
		default:
			dst.SetString(s)
		}
	default:
		dst.Set(src)
	}
}

var (
	// passwordParam is a password in a URL's query (go-redis's Sentinel
	// URLs carry the master's there) or in a keyword/value connection
	// string (PostgreSQL's host=db password=x).
	passwordParam = regexp.MustCompile(`(?i)((?:^|[?&\s])(?:sentinel_)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s#]*)`)
)

// maskURL is raw, a URL or a keyword/value connection string, with its
// passwords masked: postgres://guichet:****@db/guichet. It works on the
// text, so that a URL that does not parse is masked too.
func maskURL(raw string) string {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		start := i + 3
		// The userinfo ends at the authority's @: the first one after
		// which no more appear before the path, the query or the
		// fragment. A password may hold / ? # unencoded, which would end
		// the authority early, so the last @ is taken when the one found
		// there does not close a user:password.
		end := len(s)
		if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
			end = start + j
		}
		at := strings.LastIndex(s[start:end], "@")
		if last := strings.LastIndex(s[start:], "@"); last >= 0 && (at < 0 || !strings.Contains(s[start:start+at], ":")) {
			if strings.Contains(s[start:start+last], ":") {
				at = last
			}
		}
		if at >= 0 {
			userinfo := s[start : start+at]
			if user, _, ok := strings.Cut(userinfo, ":"); ok {
				s = s[:start] + user + ":" + mask + s[start+at:]
			}
		}
	}
	return passwordParam.ReplaceAllString(s, "${1}"+mask)
}
