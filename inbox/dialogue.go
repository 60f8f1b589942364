package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sms"
	"github.com/guichet/guichet/ussd"
)

// The SMS dialogue: a citizen who texts MENU (or the catalogue's code,
// *123#, or one of its shortcuts) walks the same menus as on USSD, one
// screen an SMS, each SMS they send back the next input, until an end
// screen or Idle without an input. Inside a dialogue STOP (ARRET), START,
// AIDE (HELP) and MENU keep their meaning: STOP opts out and ends the
// dialogue, START and AIDE are answered as always and leave the dialogue
// where it was, MENU starts it again at the home menu. Every other SMS,
// SUIVI, RDV, FR and EN included, is the input of the screen the citizen
// was sent last (the menus offer tracking and languages themselves).

// Dialogues walks the menus: ussd.Engine, made for SMS dialogues.
type Dialogues interface {
	Step(ctx context.Context, req ussd.Request) (ussd.Reply, error)
}

// DialogueIdle is Idle's default: how long an SMS dialogue waits for the
// next SMS, much longer than a USSD screen's minute.
const DialogueIdle = 10 * time.Minute

// ErrBusy refuses an SMS of a dialogue while the SMS engine is over its
// in-flight limit, for the SMSC to deliver it again.
var ErrBusy = errors.New("inbox: the SMS dialogue's engine is busy: delivered again later")

// KindDialogue is the outbox kind of an SMS dialogue's screens.
const KindDialogue = outbox.KindDialogue

// CachedKeys are the keys under which the shared store holds something of
// phone's SMS dialogue: where it is, and the engine's session of it (what
// an erasure deletes).
func CachedKeys(phone string) []string {
	return []string{talkKey + phone, ussd.SlotKey(dialogueSlot, phone)}
}

// dialogueSlot keeps the engine's sessions of SMS dialogues apart from the
// caller's USSD ones: texting never cuts or resumes a live USSD dialogue.
const dialogueSlot = "sms"

// talk is a number's SMS dialogue, kept in Shared: the engine's session
// id, how many of its SMS were answered (its place in the dialogue), when
// the last one was, and whether it is over (an end screen, STOP). It is
// kept DedupWindow past its idle time, so that the place of an SMS still
// names it after the dialogue: MENU texted again after an end screen is a
// new SMS, not a copy of the one that started it.
type talk struct {
	ID     string `json:"id"`
	N      int    `json:"n"`
	At     int64  `json:"at"` // Unix milliseconds
	Closed bool   `json:"closed,omitempty"`
}

func (d talk) scope() string { return fmt.Sprintf("%s:%d", d.ID, d.N) }

// wins reports whether a keyword keeps its meaning inside a dialogue
// instead of being the next input.
func wins(k sms.Kind) bool { return k == sms.Stop || k == sms.Start || k == sms.Help }

// starts reports whether an SMS starts a dialogue: MENU, or the
// catalogue's code alone or with a shortcut.
func (x *Inbox) starts(cmd sms.Command, text string) bool {
	if x.Dialogues == nil {
		return false
	}
	return cmd.Kind == sms.Menu || x.shortcut(text) != ""
}

// shortcut returns the code texted (*123# or *123*4*10000048#), or "".
func (x *Inbox) shortcut(text string) string {
	t := strings.TrimSpace(text)
	base, ok := strings.CutSuffix(x.Code, "#")
	if !ok || base == "" || strings.ContainsAny(t, " \t\r\n") {
		return ""
	}
	if t == x.Code || strings.HasPrefix(t, base+"*") && strings.HasSuffix(t, "#") {
		return t
	}
	return ""
}

func (x *Inbox) idle() time.Duration {
	if x.Idle > 0 {
		return x.Idle
	}
	return DialogueIdle
}

// dialogue returns the number's last dialogue, if one is kept, and
// whether it is open: not over, and its last SMS within Idle.
func (x *Inbox) dialogue(ctx context.Context, from string) (talk, bool, bool, error) {
	if x.Dialogues == nil {
		return talk{}, false, false, nil
	}
	b, err := x.Shared.Get(ctx, talkKey+from)
	if errors.Is(err, sessions.ErrNotFound) || err == nil && len(b) == 0 {
		return talk{}, false, false, nil
	}
	if err != nil {
		return talk{}, false, false, err
	}
	var d talk
	if err := json.Unmarshal(b, &d); err != nil || d.ID == "" {
		x.Log.Warn("an SMS dialogue unreadable: forgotten", "err", err)
		return talk{}, false, false, nil
	}
	open := !d.Closed && x.now().Sub(time.UnixMilli(d.At)) < x.idle()
	return d, true, open, nil
}

// moved records that the SMS at d's place was answered: the dialogue is
// one place on, and over if closed. A copy answered after the dialogue
// moved on, or an input of a dialogue MENU started again meanwhile (d.N
// is 0 only for a start), leaves the number's dialogue as it is.
func (x *Inbox) moved(ctx context.Context, from string, d talk, closed bool) error {
	_, err := x.Shared.Update(ctx, talkKey+from, x.idle()+DedupWindow, func(old []byte) ([]byte, error) {
		var cur talk
		if json.Unmarshal(old, &cur) == nil && cur.ID != "" {
			if cur.ID == d.ID && cur.N > d.N || cur.ID != d.ID && d.N > 0 {
				return old, nil // one place on already, or started again meanwhile
			}
		}
		return json.Marshal(talk{ID: d.ID, N: d.N + 1, At: x.now().UnixMilli(), Closed: closed})
	})
	return err
}

// start opens a dialogue at the home menu (or where the shortcut texted
// leads) and sends its first screen. Its session id comes from the SMS's
// key, so that the SMSC delivering the MENU again finds the same session.
func (x *Inbox) start(ctx context.Context, op, from, key string, cmd sms.Command, text string) (bool, error) {
	sum := sha256.Sum256([]byte(key))
	d := talk{ID: "sms-" + hex.EncodeToString(sum[:8])}
	code := x.shortcut(text)
	if code == "" {
		code = x.Code
	}
	rep, err := x.Dialogues.Step(ctx, ussd.Request{Kind: ussd.Begin, SessionID: d.ID, Phone: from, ServiceCode: code,
		Operator: op, Dialect: "smpp", Channel: "sms", Slot: dialogueSlot, HopKey: key, Language: cmd.Lang})
	if err != nil {
		return false, err
	}
	return x.reply(ctx, from, key, d, rep)
}

// input is the next input of the number's open dialogue d.
func (x *Inbox) input(ctx context.Context, op, from, key string, d talk, text string) (bool, error) {
	in := strings.ReplaceAll(strings.TrimSpace(text), "\x00", "")
	if len([]rune(in)) > ussd.MaxInput {
		in = string([]rune(in)[:ussd.MaxInput])
	}
	rep, err := x.Dialogues.Step(ctx, ussd.Request{Kind: ussd.Continue, SessionID: d.ID, Phone: from, ServiceCode: x.Code,
		Operator: op, Dialect: "smpp", Channel: "sms", Slot: dialogueSlot, Input: in, HopKey: key})
	if err != nil {
		return false, err
	}
	return x.reply(ctx, from, key, d, rep)
}

// reply sends a screen through the outbox once per SMS key, then moves the
// dialogue one place on (or ends it with an end screen). A failure after
// the screen is queued makes the SMSC deliver the SMS again: its key is
// the same (the dialogue has not moved), so the engine takes it as a
// retry and the screen is not queued twice.
func (x *Inbox) reply(ctx context.Context, from, key string, d talk, rep ussd.Reply) (bool, error) {
	if rep.Busy {
		// Refused, not answered: the SMSC delivers it again later, when
		// the engine has room, and the dialogue stays where it was.
		return false, ErrBusy
	}
	lang := x.Languages.Language(ctx, from)
	if lang == "" {
		lang = "fr"
	}
	ran, err := x.Store.AnswerOnce(ctx, key, func(ctx context.Context, w cases.Replies) error {
		return w.Enqueue(ctx, []outbox.Message{{Phone: from, Lang: lang, Body: rep.Text,
			Kind: KindDialogue, Created: x.now(), Status: outbox.MessagePending}})
	})
	if err != nil {
		return false, err
	}
	return ran, x.moved(ctx, from, d, rep.End)
}
