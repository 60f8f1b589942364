package main

import (
	"net/http/httptest"
	"os"
)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func writeFile(name, data string) error { return os.WriteFile(name, []byte(data), 0o644) }

// forceDemo keeps the demo's operator (and simulator) on a test database,
// as demo_force does.
func forceDemo(c *Config) {
	on := true
	c.Demo, c.DemoForce = &on, true
}

// Tests stop their gateways at once unless they set shutdown_grace: the
// default's 5 s would be spent on every serve a test stops.
func init() { defaultShutdownGrace = 0 }
