package ussd

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/sms"
)

// turn is one hop's work on a session.
type turn struct {
	e   *Engine
	ctx context.Context // the step's budget, for adapter calls
	req Request
	s   *session
	now time.Time
	fx  *effects

	final  string // a gateway text key that ends the session (too_many, failed)
	result string // its outcome
}

// maxMoves bounds the nodes one hop may pass through (actions chain).
const maxMoves = 32

func (t *turn) service() *menus.Service { return t.e.cat.Services[t.s.Svc] }

func (t *turn) node() *menus.Node {
	if svc := t.service(); svc != nil {
		return svc.Nodes[t.s.Node]
	}
	return nil
}

func (t *turn) screens() menus.Screens {
	lang := t.s.Lang
	if lang == "" {
		lang = menus.Languages[0]
	}
	if svc := t.service(); svc != nil {
		lang = svc.Speaks(lang) // the whole screen in the service's language, footer included
	}
	return menus.Screens{Cat: t.e.cat, Lang: lang, Limit: t.limit(), Channel: t.channel()}
}

// input applies the caller's input to the session.
func (t *turn) input(in string) {
	s := t.s
	s.Bad = false
	switch s.Mode {
	case modeLang:
		switch in {
		case "1", "2":
			s.Lang = menus.Languages[0] // "1": the first language, "2" the second
			if in == "2" {
				s.Lang = menus.Languages[1]
			}
			t.fx.lang = s.Lang
			t.home()
			q := s.Queue
			s.Queue = nil
			t.shortcut(q)
		default:
			t.bad(3)
		}
		return
	case modeResume:
		switch in {
		case "1":
			s.Mode = ""
			t.enter(s.Node, false)
		case "2", menus.KeyBack, menus.KeyHome:
			t.home()
		default:
			t.bad(3)
		}
		return
	}
	switch {
	case in == menus.KeyHome:
		t.home()
		return
	case in == menus.KeyBack:
		t.back()
		return
	case s.Mode == modeSlow:
		if in == "1" {
			s.Mode = ""
			t.enter(s.Node, false)
		} else {
			t.bad(3)
		}
		return
	case s.Svc == "":
		t.homeInput(in)
		return
	}
	n := t.node()
	if n == nil { // the catalogue changed under a live session
		t.home()
		return
	}
	if in == menus.KeyMore && t.s.Page+1 < len(t.pages()) {
		t.s.Page++
		return
	}
	switch n.Kind {
	case menus.KindMenu:
		if i, ok := choice(in, len(n.Options)); ok {
			t.enter(n.Options[i].Next, true)
			return
		}
	case menus.KindChoose:
		if i, ok := choice(in, len(s.Opts)); ok {
			s.Vars[n.Choose.Save] = s.Opts[i].Label
			s.Vars[n.Choose.Save+"_id"] = s.Opts[i].ID
			t.enter(n.Next, true)
			return
		}
	case menus.KindConfirm:
		switch in {
		case "1":
			t.enter(n.Yes, true)
			return
		case "2":
			if n.No == "" {
				t.back()
			} else {
				t.enter(n.No, true)
			}
			return
		}
	case menus.KindInput:
		if typ, ok := menus.InputTypes[n.Input.Type]; ok {
			if v, ok := typ.Check(n.Input, in, t.now); ok {
				s.Vars[n.Input.Save] = v
				t.enter(n.Next, true)
				return
			}
		}
		retries := n.Input.Retries
		if retries == 0 {
			retries = 3
		}
		t.bad(retries)
		return
	}
	t.bad(3)
}

func choice(in string, n int) (int, bool) {
	i, err := strconv.Atoi(in)
	if err != nil || i < 1 || i > n || in[0] == '0' {
		return 0, false
	}
	return i - 1, true
}

// bad refuses an input: the screen again with a warning, until retries run
// out.
func (t *turn) bad(retries int) {
	t.s.Tries++
	t.s.Bad = true
	if t.s.Tries > retries {
		t.end("too_many", Abandoned)
	}
}

func (t *turn) end(text, result string) {
	t.final, t.result = text, result
}

func (t *turn) home() {
	s := t.s
	s.Svc, s.Node, s.Mode, s.Page, s.Tries = "", "", "", 0, 0
	s.Stack, s.Opts, s.ActKey = nil, nil, ""
	s.Vars = map[string]string{}
}

// WebLimit is the size of a screen of the web page, in characters: light
// enough for 2G, and for any screen the menus hold.
const WebLimit = 1000

// limit is the size of a screen where the caller is.
func (t *turn) limit() int {
	switch t.channel() {
	case "sms":
		return menus.SMSLimit
	case "web":
		return WebLimit
	}
	return t.e.limit(t.req.Operator)
}

// channel is where the caller is: the request's, USSD unless said.
func (t *turn) channel() string {
	if t.req.Channel == "" {
		return "ussd"
	}
	return t.req.Channel
}

func (t *turn) homeInput(in string) {
	if in == menus.KeyMore && t.s.Page+1 < len(t.pages()) {
		t.s.Page++
		return
	}
	order := t.e.cat.Offered(t.channel())
	i, ok := choice(in, len(order)+1)
	switch {
	case !ok:
		t.bad(3)
	case i == len(order): // the language
		if t.s.Lang == menus.Languages[0] {
			t.s.Lang = menus.Languages[1]
		} else {
			t.s.Lang = menus.Languages[0]
		}
		t.fx.lang = t.s.Lang
		t.s.Page = 0
	default:
		t.enterService(order[i], "")
	}
}

// shortcut plays the inputs dialled with the code: the first through the
// catalogue's shortcuts (or the home menu), the rest as inputs.
func (t *turn) shortcut(extras []string) {
	if len(extras) == 0 {
		return
	}
	if t.s.Mode == modeLang {
		t.s.Queue = extras
		return
	}
	if dest, ok := t.e.cat.Shortcuts[extras[0]]; ok {
		svc, node, _ := strings.Cut(dest, "/")
		if s := t.e.cat.Services[svc]; s != nil && !s.Offers(t.channel()) {
			t.bad(3) // not offered here: as a shortcut that does not exist
			return
		}
		t.enterService(svc, node)
	} else {
		t.input(extras[0])
	}
	for _, in := range extras[1:] {
		if t.final != "" || t.s.Bad || t.s.End {
			return
		}
		t.input(in)
	}
}

func (t *turn) enterService(id, node string) {
	svc := t.e.cat.Services[id]
	if svc == nil {
		t.bad(3)
		return
	}
	t.s.Stack = append(t.s.Stack, t.s.Svc+"/"+t.s.Node)
	t.s.Svc = id
	t.fx.started = append(t.fx.started, id)
	if node == "" {
		node = svc.Start
	}
	t.enter(node, false)
}

func (t *turn) back() {
	s := t.s
	if len(s.Stack) == 0 {
		t.home()
		return
	}
	top := s.Stack[len(s.Stack)-1]
	s.Stack = s.Stack[:len(s.Stack)-1]
	svc, node, _ := strings.Cut(top, "/")
	if svc == "" {
		t.home()
		return
	}
	s.Svc = svc
	t.enter(node, false)
}

// enter moves to target, running actions and fetching lists on the way,
// and stops at the first node with a screen. push keeps the screen being
// left for "back".
func (t *turn) enter(target string, push bool) {
	s := t.s
	for moves := 0; moves < maxMoves; moves++ {
		switch {
		case target == menus.TargetHome:
			t.home()
			return
		case strings.HasPrefix(target, "@"):
			if push {
				s.Stack = append(s.Stack, s.Svc+"/"+s.Node)
			}
			t.enterService(target[1:], "")
			return
		}
		n := t.service().Nodes[target]
		if n == nil {
			t.e.log.Error("menu leads nowhere", "service", s.Svc, "node", target)
			t.end("error", Errored)
			return
		}
		if push && s.Node != "" {
			s.Stack = append(s.Stack, s.Svc+"/"+s.Node)
		}
		push = false
		if s.Node != target {
			s.ActKey = ""
		}
		s.Node, s.Page, s.Tries, s.Mode, s.Opts = target, 0, 0, "", nil
		switch n.Kind {
		case menus.KindAction:
			if s.ActKey == "" {
				s.ActKey = t.req.Phone + ":" + s.ID + ":" + strconv.Itoa(s.Hops) + ":" + target
			}
			res, err := t.call(n.Action, n.Args, s.ActKey)
			if err != nil {
				t.failed(n, err)
				return
			}
			for k, v := range res.Vars {
				s.Vars[n.Save+k] = v
			}
			s.ActKey = ""
			target = n.Next
		case menus.KindChoose:
			res, err := t.call(n.Choose.From, n.Choose.Args, "")
			if err != nil {
				t.failed(n, err)
				return
			}
			if len(res.Options) == 0 {
				t.failed(n, guichet.Errorf("empty", "nothing to choose from"))
				return
			}
			s.Opts = res.Options
			return
		default:
			return
		}
	}
	t.e.log.Error("menu loops through actions", "service", s.Svc, "node", target)
	t.end("error", Errored)
}

func (t *turn) call(op string, args map[string]string, key string) (menus.Result, error) {
	filled := make(map[string]string, len(args))
	for k, v := range args {
		filled[k] = menus.Fill(v, t.s.Vars)
	}
	return t.e.backend.Do(t.ctx, menus.Call{Op: op, Service: t.s.Svc, Phone: t.req.Phone, Lang: t.s.Lang,
		Channel: cmp.Or(t.req.Channel, "ussd"), Who: t.req.Agent, Args: filled, Key: key})
}

// failed handles an adapter's error at node n: a slow or absent backend
// gets a polite "try again" that keeps the caller's place; an error the
// service maps goes to its node; anything else ends politely.
func (t *turn) failed(n *menus.Node, err error) {
	code := guichet.ErrorCode(err)
	switch {
	case code == guichet.EUNAVAILABLE || errors.Is(err, context.DeadlineExceeded) || t.ctx.Err() != nil:
		t.e.log.Warn("backend slow or unavailable", "service", t.s.Svc, "node", n.Name, "err", err)
		t.s.Mode = modeSlow
	case n.Fail[code] != "":
		t.enter(n.Fail[code], false)
	case code == guichet.ELIMITED:
		t.e.log.Warn("a number over its hourly limit", "service", t.s.Svc, "node", n.Name, "phone", phone.Mask(t.req.Phone))
		t.end("limited", Completed)
	case code == "empty":
		t.end("empty", Completed)
	default:
		t.e.log.Warn("backend refused", "service", t.s.Svc, "node", n.Name, "code", code,
			"phone", phone.Mask(t.req.Phone), "err", err)
		t.end("failed", Errored)
	}
}

func (t *turn) labels() []string {
	ls := make([]string, len(t.s.Opts))
	for i, o := range t.s.Opts {
		ls[i] = o.Label
	}
	return ls
}

// pages renders the current screen node or home menu.
func (t *turn) pages() []menus.Page {
	sc := t.screens()
	if t.s.Svc == "" {
		return sc.Home()
	}
	prefix := ""
	n := t.node()
	if n == nil {
		return sc.Home()
	}
	if t.s.Bad {
		prefix = sc.Cat.Texts["invalid"].Get(sc.Lang) + " "
		if n.Input != nil && n.Input.Error != nil {
			prefix = n.Input.Error.Get(sc.Lang) + " "
		}
	}
	return sc.Node(n, t.s.Vars, t.labels(), prefix)
}

// render returns the screen for the session's state.
func (t *turn) render() (string, bool) {
	sc := t.screens()
	text := func(k string) string { return sc.Cat.Texts[k].Get(sc.Lang) }
	if t.final != "" {
		return text(t.final), true
	}
	switch t.s.Mode {
	case modeLang:
		return text("choose_language"), false
	case modeResume:
		return sc.Resume(), false
	case modeSlow:
		return text("slow") + "\n" + sc.Nav(), false
	}
	ps := t.pages()
	page := min(t.s.Page, len(ps)-1)
	out := ps[page].Text
	if t.s.Svc == "" && t.s.Bad {
		if warned := text("invalid") + " " + out; menus.Fits(warned, sc.Limit) {
			out = warned
		}
	}
	n := t.node()
	return out, n != nil && n.Kind == menus.KindEnd
}

// finish stamps the hop on the session and returns its screen.
func (t *turn) finish() (*session, Reply, error) {
	s := t.s
	s.Hops++
	s.LastAt = t.now.UnixMilli()
	text, end := t.render()
	// The catalogue is GSM-7 (the validator sees to it); what callers and
	// backends put in variables may not be.
	text = sms.ToGSM7(text)
	s.Screen, s.End = text, end
	if end && s.Outcome == "" {
		result := t.result
		if result == "" {
			result = Completed
		}
		s.Outcome = result
		t.fx.ended = append(t.fx.ended, t.e.outcome(t.req, s, t.now, result))
	}
	return s, Reply{Text: text, End: end}, nil
}
