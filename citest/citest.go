// Package citest tells a test that lacks a service or a tool what to do:
// skip on a developer's machine, fail under CI (CI=true), where a test
// that skipped would let a run pass that tested nothing. It is for tests.
package citest

import (
	"os"
	"strconv"
	"testing"
)

// On reports whether the tests run under CI: CI set to true (or 1, or any
// other spelling strconv.ParseBool takes for true).
func On() bool {
	on, _ := strconv.ParseBool(os.Getenv("CI"))
	return on
}

// Missing fails tb under CI, and skips it elsewhere, saying msg: what is
// missing and how to get it.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if On() {
		tb.Fatal(msg + " (CI=true: a test that needs it fails instead of skipping)")
	} else {
		tb.Skip(msg)
	}
}
