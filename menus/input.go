package menus

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/reference"
)

// InputType validates one kind of free input.
type InputType struct {
	// Check returns the value to save for a valid input s.
	Check func(in *Input, s string, now time.Time) (string, bool)
	// MaxLen is the longest value Check can save, for sizing screens.
	MaxLen func(in *Input) int
	// Verify reports what is wrong with the node's settings, if anything.
	Verify func(in *Input) string
}

// InputTypes registers the kinds of free input by name; tests require a
// fixture for each.
// MaxInput is the longest input a caller can send in one hop.
const MaxInput = 182

var InputTypes = map[string]InputType{
	"digits": {
		Check: func(in *Input, s string, _ time.Time) (string, bool) {
			return s, allDigits(s) && lenWithin(s, in.Min, in.Max)
		},
		MaxLen: func(in *Input) int { return in.Max },
		Verify: needMax,
	},
	"text": {
		Check: func(in *Input, s string, _ time.Time) (string, bool) {
			s = strings.TrimSpace(s)
			return s, s != "" && lenWithin(s, in.Min, in.Max)
		},
		MaxLen: func(in *Input) int { return in.Max },
		Verify: needMax,
	},
	"date": {
		Check:  checkDate,
		MaxLen: func(*Input) int { return len("02/01/2006") },
		Verify: func(in *Input) string {
			if in.Format != "" && in.Format != "DDMMYYYY" {
				return fmt.Sprintf("date format %q is not supported (DDMMYYYY is)", in.Format)
			}
			if in.When != "" && in.When != "past" && in.When != "future" {
				return fmt.Sprintf("date when %q: expected past or future", in.When)
			}
			return ""
		},
	},
	"phone": {
		Check: func(_ *Input, s string, _ time.Time) (string, bool) {
			n, err := phone.Normalize(s, phone.DefaultRegion)
			return n, err == nil
		},
		MaxLen: func(*Input) int { return 16 },
	},
	"pattern": {
		Check: func(in *Input, s string, _ time.Time) (string, bool) {
			s = strings.ToUpper(strings.TrimSpace(s))
			re, err := compiled(in.Pattern)
			return s, err == nil && re.MatchString(s) && lenWithin(s, 0, in.Max)
		},
		MaxLen: func(in *Input) int { return in.Max },
		Verify: func(in *Input) string {
			if _, err := compiled(in.Pattern); err != nil || in.Pattern == "" {
				return fmt.Sprintf("pattern %q is not a regular expression", in.Pattern)
			}
			return needMax(in)
		},
	},
	"reference": {
		Check: func(_ *Input, s string, _ time.Time) (string, bool) {
			s = strings.TrimSpace(s)
			return s, reference.Valid(s)
		},
		MaxLen: func(*Input) int { return reference.MaxLen },
	},
}

func needMax(in *Input) string {
	if in.Max <= 0 {
		return "needs max (the longest input accepted)"
	}
	if in.Max > MaxInput {
		return fmt.Sprintf("max %d is over %d, the longest input a phone can send", in.Max, MaxInput)
	}
	if in.Min > in.Max {
		return "min is over max"
	}
	return ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lenWithin(s string, lo, hi int) bool {
	n := utf8.RuneCountInString(s)
	return n >= lo && (hi == 0 || n <= hi)
}

func checkDate(in *Input, s string, now time.Time) (string, bool) {
	s = strings.NewReplacer("/", "", ".", "", "-", "", " ", "").Replace(s)
	if len(s) != 8 || !allDigits(s) {
		return "", false
	}
	t, err := time.Parse("02012006", s)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		return "", false
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch in.When {
	case "past":
		if t.After(today) {
			return "", false
		}
	case "future":
		if t.Before(today) {
			return "", false
		}
	}
	return t.Format("02/01/2006"), true
}

var patterns sync.Map // string → *regexp.Regexp or error

func compiled(p string) (*regexp.Regexp, error) {
	if v, ok := patterns.Load(p); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	re, err := regexp.Compile("^(?:" + p + ")$")
	if err != nil {
		patterns.Store(p, err)
		return nil, err
	}
	patterns.Store(p, re)
	return re, nil
}
