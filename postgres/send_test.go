package postgres_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

func texts() map[string]string { return map[string]string{"fr": "Bonjour", "en": "Hello"} }

// Sends that come at once share transactions, and a key stays a key: ten
// requests with one key at the same moment write once and all answer as
// the first; ten with keys of their own and ten without write each.
func TestSendOnceAtOnce(t *testing.T) {
	ctx := t.Context()
	s := newStore(t).Outbox()
	var wg sync.WaitGroup
	answers := make([]string, 30)
	for i := range 30 {
		wg.Go(func() {
			key := "same"
			switch {
			case i >= 20:
				key = ""
			case i >= 10:
				key = fmt.Sprint("own-", i)
			}
			snd := outbox.Send{To: []string{fmt.Sprintf("+2376779%05d", i)}, Body: texts(), Default: "fr", Owner: "health"}
			body, err := s.SendOnce(ctx, "health", key, snd, func(placed []outbox.Placed) ([]byte, error) {
				return fmt.Appendf(nil, `{"request": %d, "ids": %d}`, i, placed[0].ID), nil
			})
			if err != nil {
				t.Error(err)
				return
			}
			answers[i] = string(body)
		})
	}
	wg.Wait()
	// The same answer, as JSON: a replay reads it back from jsonb, which
	// orders an object's keys its own way.
	var first any
	if err := json.Unmarshal([]byte(answers[0]), &first); err != nil {
		t.Fatalf("the first answer %q: %v", answers[0], err)
	}
	for i := 1; i < 10; i++ {
		var got any
		if err := json.Unmarshal([]byte(answers[i]), &got); err != nil || !reflect.DeepEqual(got, first) {
			t.Errorf("request %d with the shared key answered %s, the first %s", i, answers[i], answers[0])
		}
	}
	msgs, err := s.OwnMessages(ctx, "health", nil, 0, 100)
	if err != nil || len(msgs) != 21 {
		t.Errorf("%d messages, %v; want 21 (one for the shared key, ten own keys, ten without)", len(msgs), err)
	}
}

// The one statement of a batch looks each number up as it writes: a
// number that sent STOP gets nothing, the others their language (chosen
// on the phone, else their latest case's, else the request's), the text
// in it, and an id in the order of the numbers, send by send.
func TestSendOnceCitizens(t *testing.T) {
	ctx := t.Context()
	db := newStore(t)
	cs, out := db.Cases(), db.Outbox()
	all, err := cs.Cases(ctx, cases.CaseFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var withCase string // a phone whose latest case is in English
	latest := map[string]cases.Case{}
	for _, c := range all {
		if l, ok := latest[c.Phone]; !ok || c.Opened.After(l.Opened) {
			latest[c.Phone] = c
		}
	}
	for p, c := range latest {
		if c.Lang == "en" {
			withCase = p
			break
		}
	}
	if withCase == "" {
		t.Fatal("no seeded case in English")
	}
	const stop, nobody, chose, onPhone = "+237699000101", "+237699000102", "+237699000103", "+237699000104"
	if err := cs.SetOptOut(ctx, stop, true); err != nil {
		t.Fatal(err)
	}
	// onPhone chose French on the phone and opened a case in English: the
	// choice wins, read by the statement itself (no Known).
	if _, err := cs.OpenCase(ctx, cases.Case{Service: "birth-certificate", Status: "received", Phone: onPhone, Lang: "en", Channel: "ussd",
		Opened: time.Now(), Updated: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetLanguage(ctx, onPhone, "fr"); err != nil {
		t.Fatal(err)
	}
	sends := []outbox.Send{
		{To: []string{nobody, stop, withCase, chose}, Known: []string{"", "en", "", "en"}, Default: "fr", Body: texts(), Owner: "health", Kind: "api", Bulk: true},
		{To: []string{withCase}, Default: "fr", Body: map[string]string{"fr": "Salut", "en": "Hi"}, Owner: "health", Kind: "api"},
		{To: []string{nobody, onPhone}, Default: "en", Body: texts(), Owner: "health", Kind: "api"},
	}
	placed := make([][]outbox.Placed, len(sends))
	var wg sync.WaitGroup
	for i, snd := range sends { // at once: one batch, most likely
		wg.Go(func() {
			if _, err := out.SendOnce(ctx, "health", "", snd, func(p []outbox.Placed) ([]byte, error) {
				placed[i] = p
				return []byte(`{}`), nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want := [][]string{{"fr", "", "en", "en"}, {"en"}, {"en", "fr"}}
	bodies := map[int64]string{}
	msgs, err := out.OwnMessages(ctx, "health", nil, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		bodies[m.ID] = m.Lang + ":" + m.Body + ":" + m.Phone
	}
	if len(msgs) != 6 {
		t.Errorf("%d messages written, want 6", len(msgs))
	}
	for i, ps := range placed {
		for j, p := range ps {
			switch {
			case p.Lang != want[i][j]:
				t.Errorf("send %d, number %d: language %q, want %q", i, j, p.Lang, want[i][j])
			case p.OptedOut != (want[i][j] == ""):
				t.Errorf("send %d, number %d: opted out %v", i, j, p.OptedOut)
			case p.OptedOut && p.ID != 0:
				t.Errorf("send %d, number %d: opted out with an id", i, j)
			case !p.OptedOut && bodies[p.ID] != p.Lang+":"+sends[i].Body[p.Lang]+":"+sends[i].To[j]:
				t.Errorf("send %d, number %d: message %d is %q", i, j, p.ID, bodies[p.ID])
			}
		}
	}
}

// A send whose API key was revoked or has expired writes nothing and is
// refused, its idempotency key given back; a key in force sends.
func TestSendOnceKeyInForce(t *testing.T) {
	ctx := t.Context()
	db := newStore(t)
	keys, out := db.Keys(), db.Outbox()
	now := time.Now()
	ids := map[string]string{}
	for _, name := range []string{"good", "revoked", "expired", "later"} {
		k := apikey.Key{Owner: "health", Created: now.Add(-time.Hour)}
		if name == "expired" {
			k.Expires = now.Add(-time.Minute)
		}
		hash := apikey.Hash(apikey.New())
		if err := keys.AddAPIKey(ctx, k, hash); err != nil {
			t.Fatal(err)
		}
		ids[name] = apikey.ID(hash)
	}
	if err := keys.RevokeAPIKey(ctx, ids["revoked"], now); err != nil {
		t.Fatal(err)
	}
	answer := func([]outbox.Placed) ([]byte, error) { return []byte(`{}`), nil }
	for _, name := range []string{"revoked", "expired", "good"} {
		snd := outbox.Send{To: []string{"+237699000201"}, Default: "fr", Body: texts(), Owner: "health", KeyID: ids[name], Created: now}
		_, err := out.SendOnce(ctx, "health", "idem-"+name, snd, answer)
		if name == "good" {
			if err != nil {
				t.Errorf("key in force: %v", err)
			}
			continue
		}
		if guichet.ErrorCode(err) != guichet.EUNAUTHORIZED {
			t.Errorf("%s key: %v, want EUNAUTHORIZED", name, err)
		}
		// Its idempotency key was given back: once the key works, the
		// same request sends.
		snd.KeyID = ids["good"]
		if _, err := out.SendOnce(ctx, "health", "idem-"+name, snd, answer); err != nil {
			t.Errorf("%s key's request again with a good key: %v", name, err)
		}
	}
	// A request sent before, its key revoked since: its retry is refused,
	// not answered again.
	snd := outbox.Send{To: []string{"+237699000202"}, Default: "fr", Body: texts(), Owner: "health", KeyID: ids["later"], Created: now}
	if _, err := out.SendOnce(ctx, "health", "idem-later", snd, answer); err != nil {
		t.Fatal(err)
	}
	if err := keys.RevokeAPIKey(ctx, ids["later"], now); err != nil {
		t.Fatal(err)
	}
	if _, err := out.SendOnce(ctx, "health", "idem-later", snd, answer); guichet.ErrorCode(err) != guichet.EUNAUTHORIZED {
		t.Errorf("a revoked key's retry: %v, want EUNAUTHORIZED", err)
	}
	msgs, err := out.OwnMessages(ctx, "health", nil, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var by []string
	for _, m := range msgs {
		by = append(by, m.KeyID)
	}
	if want := []string{ids["good"], ids["good"], ids["good"], ids["later"]}; !slices.Equal(by, want) {
		t.Errorf("messages of keys %v, want %v", by, want)
	}
}
