package phone

import (
	"regexp"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// validity is libphonenumber's IsValidNumber for the numbers of one
// country calling code that belongs to one region only, its patterns
// compiled once: the library builds each pattern's anchored string again
// and looks it up under a lock at every call, and matches each twice,
// 3.6 µs a fresh number against 0.75 here (BenchmarkNormalizeFresh): the
// largest part of the API's work on a list of fresh numbers.
// TestValidityAsLibphonenumber holds it to the library's answers.
type validity struct {
	general desc
	types   []desc // premium rate to voicemail, in the library's order
	fixed   desc
	mobile  desc
	same    bool // the region's mobile and fixed-line patterns are one
}

// desc is one of a region's number descriptions: the lengths it allows
// (none listed: any) and its pattern, anchored.
type desc struct {
	lengths []int32
	re      *regexp.Regexp
}

func newDesc(d *phonenumbers.PhoneNumberDesc) desc {
	return desc{lengths: d.GetPossibleLength(), re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
}

func (d desc) match(national string) bool {
	if len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(national))) {
		return false
	}
	return d.re.MatchString(national)
}

// valid says whether national (its significant number, no leading 0) is
// a valid number of the region: the library's number type is not
// unknown. Only whether one of the types matches counts, not which, so
// the commonest are tried first: mobile (unless its pattern is the fixed
// line's), fixed line, then the rest.
func (v *validity) valid(national string) bool {
	if !v.general.match(national) {
		return false
	}
	if !v.same && v.mobile.match(national) || v.fixed.match(national) {
		return true
	}
	for _, d := range v.types {
		if d.match(national) {
			return true
		}
	}
	return false
}

var validities sync.Map // country calling code → *validity, or nil where the library decides

// validityFor returns the validity of cc's numbers, nil if cc is shared
// by several regions (+1, +7, +44…: the library picks the region by the
// number), is not a region's (+800, +882…) or the metadata has no region
// for it.
func validityFor(cc int) *validity {
	if v, ok := validities.Load(cc); ok {
		return v.(*validity)
	}
	var v *validity
	if regions := phonenumbers.GetRegionCodesForCountryCode(cc); len(regions) == 1 && regions[0] != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		v = build(regions[0])
	}
	validities.Store(cc, v)
	return v
}

func build(region string) *validity {
	all, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil
	}
	for _, m := range all.GetMetadata() {
		if m.GetId() != region {
			continue
		}
		v := &validity{general: newDesc(m.GetGeneralDesc()), fixed: newDesc(m.GetFixedLine()), mobile: newDesc(m.GetMobile()),
			same: m.GetSameMobileAndFixedLinePattern()}
		for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
			m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
			v.types = append(v.types, newDesc(d))
		}
		return v
	}
	return nil
}
