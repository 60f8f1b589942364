// Package browsertest finds the headless Chromium the browser tests drive
// and the options they start it with: on this machine's closed network,
// talking to 127.0.0.1 only. It is for tests.
package browsertest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Path finds Chromium: $CHROMIUM, /usr/bin/chromium, or chromium in PATH.
func Path() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if full, err := exec.LookPath(p); err == nil {
			return full, nil
		}
		return "", fmt.Errorf("CHROMIUM=%s is not an executable", p)
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium", nil
	}
	if full, err := exec.LookPath("chromium"); err == nil {
		return full, nil
	}
	return "", fmt.Errorf("no /usr/bin/chromium and no chromium in PATH")
}

// Options start Chromium at exe, headless, with a window of width×height
// and a profile of the test's own. Chromium calls home in the background
// (updates, sync, field trials); a closed network refuses it and the test
// waits: a test talks to 127.0.0.1 only, no proxy, no other name resolves.
func Options(tb testing.TB, exe string, width, height int) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(width, height),
	)
}
