package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

const dialUsage = `usage: guichet dial [--url URL] [--phone N] [--lang fr|en] CODE

A phone in the terminal: dial CODE ('*123#') and walk its menus, one line
typed for each answer, on an in-process gateway or a running one's demo
operator (--url).`

// dial plays a phone in the terminal: it speaks Africa's Talking's dialect to
// a running gateway (--url) or to one built in-process, prints each screen
// and sends each line typed as the next input.
func dial(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("dial", dialUsage, stdout)
	target := fs.String("url", "", "a running gateway's demo `URL` (default: an in-process gateway)")
	phone := fs.String("phone", "+237677000001", "the caller's phone `number`")
	lang := fs.String("lang", "", "the caller's `language`, fr or en, as if chosen on the menu (in-process gateway only; default: the gateway's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%s", dialUsage)
	}
	if *lang != "" && *target != "" {
		return fmt.Errorf("dial --lang works on the in-process gateway: a running one keeps each number's language itself; choose it on its menu")
	}
	code := fs.Arg(0)

	post := func(form url.Values) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *target, strings.NewReader(form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "127.0.0.1:1"
		var resp *http.Response
		if local != nil {
			rec := httptest.NewRecorder()
			local.ServeHTTP(rec, req)
			resp = rec.Result()
		} else if resp, err = http.DefaultClient.Do(req); err != nil {
			return "", fmt.Errorf("reaching the gateway: %w", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return "", fmt.Errorf("reading the gateway's answer: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("the gateway answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		return string(b), nil
	}
	if *target == "" {
		cfg := defaultConfig()
		cfg.Operators = []OperatorConfig{demoOperator}
		g, err := build(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
		if err != nil {
			return err
		}
		defer g.close()
		if *lang != "" {
			if err := g.engine.SetLanguage(ctx, *phone, *lang); err != nil {
				return fmt.Errorf("dial --lang: %w", err)
			}
		}
		local = g.handler
		*target = "http://in-process" + demoOperator.Path
	}

	id := make([]byte, 8)
	rand.Read(id)
	form := url.Values{"sessionId": {"dial-" + hex.EncodeToString(id)}, "phoneNumber": {*phone},
		"networkCode": {"62401"}, "serviceCode": {code}, "text": {""}}
	in := bufio.NewScanner(stdin)
	for {
		body, err := post(form)
		if err != nil {
			return err
		}
		kind, screen, _ := strings.Cut(body, " ")
		fmt.Fprintf(stdout, "┌──────────────────────────\n%s\n└──────────────────────────\n", screen)
		if kind != "CON" {
			return nil
		}
		fmt.Fprint(stdout, "> ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return in.Err()
		}
		input := strings.TrimRight(in.Text(), "\r\n")
		if text := form.Get("text"); text == "" {
			form.Set("text", input)
		} else {
			form.Set("text", text+"*"+input)
		}
	}
}

// local is the in-process gateway dial talks to when no --url is given.
var local http.Handler
