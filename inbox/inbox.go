// Package inbox answers the SMS citizens send: keywords in French and
// English to track a case, list their visits, get help, stop or restart
// notifications and choose a language; MENU (or the catalogue's code)
// walks the menus by SMS, one screen an SMS (dialogue.go). Every answer
// goes out through the outbox like any other message.
package inbox

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

// Store is what answering reads and writes in the case store
// (cases.Memory, postgres.Cases).
type Store interface {
	Bookings(ctx context.Context, phone string, from time.Time) ([]cases.Booking, error)
	Office(ctx context.Context, id string) (cases.Office, error)
	// AnswerOnce runs do once per key: what it writes (an opt-out, the
	// reply) commits with the key, so that an SMS the SMSC delivers twice
	// is acted on and answered once.
	AnswerOnce(ctx context.Context, key string, do func(ctx context.Context, w cases.Replies) error) (bool, error)
}

// Cases runs the named operations (cases.Service): cases.track.
type Cases interface {
	Do(ctx context.Context, c menus.Call) (menus.Result, error)
}

// Languages keeps each caller's language, shared with the USSD menus.
type Languages interface {
	Language(ctx context.Context, phone string) string
	SetLanguage(ctx context.Context, phone, lang string) error
}

// Shared is what the inboxes of a fleet share, each under a key with a
// time to live (a sessions.Store: in Redis for a fleet, in memory for one
// gateway): the parts of a long SMS until the last one is in, wherever each
// arrived; each number's SMS of the minute, for the flood limit; and when an
// SMS was first seen, which names it for answering it once; and each
// number's open SMS dialogue.
type Shared interface {
	Get(ctx context.Context, key string) ([]byte, error) // sessions.ErrNotFound when absent
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// ErrNumberBusy refuses an SMS while another of the same number is being
// answered, for the SMSC to deliver it again.
var ErrNumberBusy = errors.New("inbox: another SMS of this number is being answered: delivered again later")

// holdFor bounds how long a number stays held by an SMS being answered,
// should the gateway answering it die.
const holdFor = 30 * time.Second

// hold takes the number for the SMS being answered, or answers
// ErrNumberBusy; release gives it back.
func (x *Inbox) hold(ctx context.Context, from string) (release func(), err error) {
	key := holdKey + from
	_, err = x.Shared.Update(ctx, key, holdFor, func(old []byte) ([]byte, error) {
		if old != nil {
			return nil, ErrNumberBusy
		}
		return []byte{1}, nil
	})
	if err != nil {
		if errors.Is(err, ErrNumberBusy) {
			return nil, err
		}
		return nil, fmt.Errorf("inbox: holding a number's SMS: %w", err)
	}
	return func() {
		if err := x.Shared.Delete(context.WithoutCancel(ctx), key); err != nil {
			x.Log.Warn("releasing a number's SMS", "phone", phone.Mask(from), "err", err)
		}
	}, nil
}

// Inbox answers inbound SMS.
type Inbox struct {
	Store     Store
	Cases     Cases
	Languages Languages
	Shared    Shared           // nil: in this process's memory
	Region    string           // numbers sent without a country code (CM)
	PerMinute int              // SMS a number may send a minute before it is ignored (5)
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger

	// Dialogues walks the menus for an SMS dialogue (a ussd.Engine whose
	// idle timeout is the dialogue's); nil: MENU is not understood.
	Dialogues Dialogues
	// Code is the catalogue's code (*123#): texting it, or one of its
	// shortcuts (*123*4*10000048#), starts a dialogue as MENU does.
	Code string
	// Idle is how long an SMS dialogue waits for the next input before it
	// is over (DialogueIdle).
	Idle time.Duration

	once sync.Once
	c    counters
}

// Counts are what the inbox did with the SMS it was given, since start.
type Counts struct {
	// Keywords counts the SMS answered, by what they asked for
	// (sms.Kind.String(): Track, Bookings, Help, Stop, Start, Language,
	// Unknown).
	Keywords   map[string]uint64
	Duplicates uint64 // sent again by the SMSC within DedupWindow: answered once
	Flooded    uint64 // over PerMinute from one number (or ten times as many parts): not answered
	Unreadable uint64 // from an unusable number, or undecodable: not answered
	Inputs     uint64 // answered as the next input of an SMS dialogue
}

type counters struct {
	keywords                                [sms.Menu + 1]atomic.Uint64
	duplicates, flooded, unreadable, inputs atomic.Uint64
}

// Counts reports what the inbox did, for /metrics.
func (x *Inbox) Counts() Counts {
	c := Counts{Keywords: map[string]uint64{}, Duplicates: x.c.duplicates.Load(), Flooded: x.c.flooded.Load(),
		Unreadable: x.c.unreadable.Load(), Inputs: x.c.inputs.Load()}
	for k := range x.c.keywords {
		c.Keywords[sms.Kind(k).String()] = x.c.keywords[k].Load()
	}
	return c
}

// DedupWindow is how long an SMS that the SMSC sends twice (our ack was
// lost) is recognised as the same one.
const DedupWindow = 10 * time.Minute

// PartsTimeout is how long the parts of a long SMS wait for the rest.
const PartsTimeout = 10 * time.Minute

// partsPerMessage is how many parts a number may send a minute for each
// message PerMinute allows it: parts are held until the rest comes, so a
// sender of parts that never complete is bounded too.
const partsPerMessage = 10

// Keys of what the inboxes share.
const (
	partsKey = "sms:parts:"    // + number:ref:total
	floodKey = "sms:flood:"    // + number:minute
	seenKey  = "sms:seen:"     // + number:hash of the text
	talkKey  = "sms:dialogue:" // + number: its last SMS dialogue
	holdKey  = "sms:held:"     // + number: an SMS of it is being answered
)

func (x *Inbox) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

func (x *Inbox) init() {
	x.once.Do(func() {
		if x.Shared == nil {
			x.Shared = sessions.NewMemory(x.Now)
		}
		if x.Log == nil {
			x.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// Handle is the smpp.Handler of inbound SMS (receipts go elsewhere). It
// returns an error only when the SMS could not be kept or answered (the
// shared store or the case store failed), so that the SMSC sends it again.
func (x *Inbox) Handle(ctx context.Context, in smpp.Inbound) error { return x.handle(ctx, "", in) }

// From is Handle for the SMS that come from the SMSC of operator op: an
// SMS dialogue's sessions name it.
func (x *Inbox) From(op string) smpp.Handler {
	return func(ctx context.Context, in smpp.Inbound) error { return x.handle(ctx, op, in) }
}

func (x *Inbox) handle(ctx context.Context, op string, in smpp.Inbound) error {
	x.init()
	from, err := phone.Normalize(in.SourceAddr, x.Region)
	if err != nil {
		x.Log.Info("inbound SMS from an unusable number ignored", "phone", phone.Mask(in.SourceAddr), "err", err)
		x.c.unreadable.Add(1)
		return nil
	}
	udh, body, err := sms.SplitUDH(in.ESMClass, in.ShortMessage)
	if err != nil {
		x.Log.Info("unreadable inbound SMS ignored", "phone", phone.Mask(from), "err", err)
		x.c.unreadable.Add(1)
		return nil
	}
	var text, parts string
	if udh == nil || udh.Total == 1 {
		text, err = sms.DecodeBody(in.DataCoding, body)
		if err != nil {
			x.Log.Info("unreadable inbound SMS ignored", "phone", phone.Mask(from), "err", err)
			x.c.unreadable.Add(1)
			return nil
		}
	} else {
		if ok, err := x.allow(ctx, from, 0, 1); err != nil || !ok {
			return x.flooded(from, err)
		}
		parts = fmt.Sprintf("%s%s:%d:%d", partsKey, from, udh.Ref, udh.Total)
		var complete bool
		if text, complete, err = x.part(ctx, parts, *udh, in.DataCoding, body); err != nil {
			return fmt.Errorf("inbox: keeping a part of an SMS: %w", err)
		}
		if !complete {
			return nil // a part: the whole comes with the last one, here or at another gateway
		}
	}
	// An open dialogue takes the SMS as its next input, but for the
	// keywords that win inside it (dialogue.go); its place in the
	// dialogue tells the same text sent again later ("1" on the next
	// screen) from a copy the SMSC delivers again.
	cmd := sms.ParseKeyword(text)
	// One SMS of a number at a time, across the fleet: two handled at once
	// would both read the dialogue at the same place. The one that finds
	// the number busy is refused, and the SMSC delivers it again.
	if x.Dialogues != nil {
		release, err := x.hold(ctx, from)
		if err != nil {
			return err
		}
		defer release()
	}
	d, known, talking, err := x.dialogue(ctx, from)
	if err != nil {
		return fmt.Errorf("inbox: reading an SMS dialogue: %w", err)
	}
	scope, starts := "", x.starts(cmd, text)
	if known {
		scope = d.scope()
	}
	key, fresh, err := x.seen(ctx, from, scope, text)
	if err != nil {
		return fmt.Errorf("inbox: recognising an SMS sent twice: %w", err)
	}
	// A new SMS counts against its number's limit; one the SMSC sends
	// again (an answer that could not be stored) does not, so that it is
	// not dropped as a flood when it finally can be. STOP is never
	// dropped: a citizen who floods, or walks a dialogue fast, can still
	// stop (its answer once, as every SMS).
	if fresh && cmd.Kind != sms.Stop {
		if ok, err := x.allow(ctx, from, 1, 0); err != nil || !ok {
			return x.flooded(from, err)
		}
	}
	var ran bool
	switch {
	case starts:
		ran, err = x.start(ctx, op, from, key, cmd, text)
	case talking && !wins(cmd.Kind):
		ran, err = x.input(ctx, op, from, key, d, text)
	default:
		ran, err = x.Store.AnswerOnce(ctx, key, func(ctx context.Context, w cases.Replies) error {
			reply, kind := x.answer(ctx, w, from, cmd)
			return w.Enqueue(ctx, []outbox.Message{{Phone: from, Lang: reply.lang, Body: reply.text,
				Kind: kind, Created: x.now(), Status: outbox.MessagePending}})
		})
		if err == nil && talking && cmd.Kind == sms.Stop {
			err = x.moved(ctx, from, d, true) // STOP ends the dialogue too
		}
	}
	if err != nil {
		return fmt.Errorf("inbox: answering an SMS: %w", err)
	}
	if parts != "" {
		// Answered: its parts are not needed any more (a part sent again
		// after this starts a set that never completes and expires).
		if err := x.Shared.Delete(ctx, parts); err != nil {
			x.Log.Warn("forgetting the parts of an answered SMS", "phone", phone.Mask(from), "err", err)
		}
	}
	switch {
	case !ran:
		x.c.duplicates.Add(1)
	case starts:
		x.c.keywords[sms.Menu].Add(1)
	case talking && !wins(cmd.Kind):
		x.c.inputs.Add(1)
	case int(cmd.Kind) < len(x.c.keywords):
		x.c.keywords[cmd.Kind].Add(1)
	}
	return nil
}

// part adds one part to those of its message in the shared store and
// returns the message's text once every part is in. The parts stay until
// the message is answered, so that a crash before the answer commits finds
// them again when the SMSC sends the last part again. A complete set that
// does not decode is dropped (unreadable: ignored, err nil).
func (x *Inbox) part(ctx context.Context, key string, c sms.Concat, coding byte, body []byte) (string, bool, error) {
	var p sms.Parts
	_, err := x.Shared.Update(ctx, key, PartsTimeout, func(old []byte) ([]byte, error) {
		if err := p.UnmarshalBinary(old); err != nil {
			x.Log.Warn("stored parts of an SMS unreadable: starting again", "err", err)
			p = sms.Parts{}
		}
		p.Add(c, coding, body)
		return p.MarshalBinary()
	})
	if err != nil || !p.Complete() {
		return "", false, err
	}
	text, err := p.Text()
	if err != nil {
		x.Log.Info("unreadable inbound SMS ignored", "err", err)
		x.c.unreadable.Add(1)
		return "", false, x.Shared.Delete(ctx, key)
	}
	return text, true, nil
}

// allow counts messages and parts against the number's limits of the
// current minute, across the fleet: PerMinute messages, ten times as many
// parts.
func (x *Inbox) allow(ctx context.Context, from string, messages, parts int) (bool, error) {
	per := x.PerMinute
	if per <= 0 {
		per = 5
	}
	now := x.now()
	var n [2]int
	key := fmt.Sprintf("%s%s:%d", floodKey, from, now.Unix()/60)
	_, err := x.Shared.Update(ctx, key, 2*time.Minute, func(old []byte) ([]byte, error) {
		n = [2]int{}
		fmt.Sscanf(string(old), "%d %d", &n[0], &n[1]) // nothing yet: 0 0
		n[0], n[1] = n[0]+messages, n[1]+parts
		return fmt.Appendf(nil, "%d %d", n[0], n[1]), nil
	})
	if err != nil {
		return false, fmt.Errorf("inbox: counting a number's SMS: %w", err)
	}
	return n[0] <= per && n[1] <= partsPerMessage*per, nil
}

// flooded ignores an SMS over its number's limit, or returns the error
// that kept it from being counted.
func (x *Inbox) flooded(from string, err error) error {
	if err != nil {
		return err
	}
	x.Log.Warn("inbound SMS flood: ignored", "phone", phone.Mask(from))
	x.c.flooded.Add(1)
	return nil
}

// seen returns the key an SMS is answered once under: its number, its
// text's hash and when the fleet first saw that text from that number
// within DedupWindow, so that a copy the SMSC sends again, to any gateway,
// has the same key, and the same text sent again later is a new SMS; and
// whether this is its first sighting. Within an SMS dialogue the text is
// hashed with scope, its place in the dialogue: the same text on the
// next screen is a new SMS.
func (x *Inbox) seen(ctx context.Context, from, scope, text string) (string, bool, error) {
	data := text
	if scope != "" {
		data = scope + "\n" + text
	}
	sum := sha256.Sum256([]byte(data))
	hash := hex.EncodeToString(sum[:8])
	now := x.now()
	first, fresh := now, true
	_, err := x.Shared.Update(ctx, seenKey+from+":"+hash, DedupWindow, func(old []byte) ([]byte, error) {
		first, fresh = now, true
		if t, err := time.Parse(time.RFC3339Nano, string(old)); err == nil && now.Sub(t) < DedupWindow {
			first, fresh = t, false
		}
		return []byte(first.Format(time.RFC3339Nano)), nil
	})
	if err != nil {
		return "", false, err
	}
	return fmt.Sprintf("%s|%s|%d", from, hash, first.UnixNano()), fresh, nil
}

type reply struct{ text, lang string }

// answer carries out a command and says what to answer, in which language.
func (x *Inbox) answer(ctx context.Context, w cases.Replies, from string, cmd sms.Command) (reply, string) {
	lang := cmd.Lang
	if lang == "" {
		lang = x.Languages.Language(ctx, from)
	}
	if lang == "" {
		lang = "fr"
	}
	say := func(fr, en string, args ...any) reply {
		if lang == "en" {
			return reply{fmt.Sprintf(en, args...), lang}
		}
		return reply{fmt.Sprintf(fr, args...), lang}
	}
	switch cmd.Kind {
	case sms.Track:
		if cmd.Arg == "" {
			return say("Envoyez SUIVI suivi du numero du dossier, ex: SUIVI 20000011.", "Send TRACK and the case number, e.g. TRACK 20000011."), cases.KindMoved
		}
		res, err := x.Cases.Do(ctx, menus.Call{Op: "cases.track", Phone: from, Lang: lang, Channel: "sms", Args: map[string]string{"ref": cmd.Arg}})
		switch guichet.ErrorCode(err) {
		case "":
			v := res.Vars
			return say("Dossier %s (%s): %s depuis le %s.", "Case %s (%s): %s since %s.", v["ref"], v["service"], v["status"], v["updated"]), cases.KindMoved
		case guichet.EINVALID:
			return say("Numero %s mal saisi: verifiez-le sur votre SMS.", "Number %s is mistyped: check it in your SMS.", cmd.Arg), cases.KindMoved
		case guichet.ENOTFOUND:
			return say("Aucun dossier %s.", "No case %s.", cmd.Arg), cases.KindMoved
		default:
			x.Log.Warn("tracking a case by SMS", "phone", phone.Mask(from), "err", err)
			return say("Service momentanement indisponible. Reessayez plus tard.", "Service unavailable. Please try again later."), cases.KindMoved
		}
	case sms.Bookings:
		bs, err := x.Store.Bookings(ctx, from, x.now())
		if err != nil {
			x.Log.Warn("listing bookings by SMS", "phone", phone.Mask(from), "err", err)
			return say("Service momentanement indisponible. Reessayez plus tard.", "Service unavailable. Please try again later."), cases.KindBooked
		}
		if len(bs) == 0 {
			return say("Aucun rendez-vous a venir. Composez *123# pour en prendre un.", "No visit booked. Dial *123# to book one."), cases.KindBooked
		}
		var lines []string
		for _, b := range bs {
			office := b.Office
			if o, err := x.Store.Office(ctx, b.Office); err == nil {
				office = o.Name
			}
			when := b.Start.In(cases.Cameroon)
			if lang == "en" {
				lines = append(lines, fmt.Sprintf("%s: %s, %s", b.Ref, when.Format("02/01 15:04"), office))
			} else {
				lines = append(lines, fmt.Sprintf("%s: %s, %s", b.Ref, when.Format("02/01 15h04"), office))
			}
		}
		return say("Vos RDV: %s", "Your visits: %s", strings.Join(lines, "; ")), cases.KindBooked
	case sms.Stop:
		if err := w.SetOptOut(ctx, from, true); err != nil {
			return say("Service momentanement indisponible. Reessayez plus tard.", "Service unavailable. Please try again later."), outbox.KindOptOut
		}
		return say("Vous ne recevrez plus de SMS de Guichet. Envoyez START pour reprendre.", "You will get no more SMS from Guichet. Send START to resume."), outbox.KindOptOut
	case sms.Start:
		if err := w.SetOptOut(ctx, from, false); err != nil {
			return say("Service momentanement indisponible. Reessayez plus tard.", "Service unavailable. Please try again later."), outbox.KindOptOut
		}
		return say("Les SMS de Guichet reprennent. Envoyez STOP pour les arreter.", "Guichet SMS resume. Send STOP to end them."), outbox.KindOptOut
	case sms.Language:
		if err := x.Languages.SetLanguage(ctx, from, cmd.Arg); err != nil {
			x.Log.Warn("setting a language by SMS", "phone", phone.Mask(from), "err", err)
		}
		lang = cmd.Arg
		return say("Langue: francais. Send EN for English.", "Language: English. Envoyez FR pour le francais."), cases.KindMoved
	case sms.Help:
		return x.help(lang, ""), cases.KindMoved
	}
	prefix := map[string]string{"fr": "Message non compris. ", "en": "Message not understood. "}[lang]
	return x.help(lang, prefix), cases.KindMoved
}

func (x *Inbox) help(lang, prefix string) reply {
	dial := map[string]string{"fr": "Menus: *123#.", "en": "Menus: *123#."}
	if x.Dialogues != nil {
		code := cmp.Or(x.Code, "*123#")
		dial = map[string]string{"fr": "MENU ou " + code + ": les menus.", "en": "MENU or " + code + ": the menus."}
	}
	if lang == "en" {
		return reply{prefix + "TRACK <number>: a case. BOOKINGS: your visits. STOP: no more SMS. FR: francais. " + dial["en"] + " Free help: 1510.", lang}
	}
	return reply{prefix + "SUIVI <numero>: un dossier. RDV: vos rendez-vous. STOP: plus de SMS. EN: English. " + dial["fr"] + " Aide gratuite: 1510.", lang}
}
