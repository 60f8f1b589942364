package main

import (
	"bytes"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

const (
	configUsage = "usage: guichet config check FILE\n" +
		"(guichet config check --help for what it does)"
	configCheckUsage = `usage: guichet config check FILE

Read FILE as guichet serve --config FILE does (the file, then the
environment: REDIS_URL, DATABASE_URL or their _FILE forms, each
credential_env and password_env, each *_file), validate it as serve does,
and print the configuration in effect as YAML, every secret masked
(passwords, credentials, the password of a URL). Exits 0 when valid,
else 1 with what is wrong. Nothing is dialled: Redis, PostgreSQL and the
SMSCs are not reached. docs/CONFIG.md lists every key.`
)

func configCmd(args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp(args, configUsage, stdout)
	}
	if args[0] != "check" {
		return fmt.Errorf("unknown config command %q (check)\n%s", args[0], configUsage)
	}
	fs := newFlags("config check", configCheckUsage, stdout)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%s", configCheckUsage)
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	cfg, err := parseConfig([]string{"--config", fs.Arg(0)}, getenv, io.Discard)
	if err != nil {
		return err
	}
	out, err := effectiveYAML(cfg)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// effectiveYAML is cfg as YAML, its secrets masked: what config check
// prints.
func effectiveYAML(cfg Config) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(masked(cfg)); err != nil {
		return nil, fmt.Errorf("printing the configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("printing the configuration: %w", err)
	}
	return b.Bytes(), nil
}
