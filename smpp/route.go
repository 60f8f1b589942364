package smpp

import (
	"fmt"
	"sort"
	"strings"
)

// Route sends the numbers that start with one of its prefixes to an
// operator's binds.
type Route struct {
	Operator string   `yaml:"operator"`
	Prefixes []string `yaml:"prefixes"` // E.164 without the +: "23765", "237680"
}

// Routes picks the operator of a destination number: the longest matching
// prefix wins, then the default route. Prefixes live in configuration, not in
// code: numbering plans move (Camtel's mobile range is not public).
type Routes struct {
	byPrefix map[string]string
	lengths  []int // the prefix lengths in use, longest first
	fallback string
}

// NewRoutes checks and indexes routes; fallback ("" for none) takes what no
// prefix does.
func NewRoutes(routes []Route, fallback string) (*Routes, error) {
	r := &Routes{byPrefix: map[string]string{}, fallback: fallback}
	seen := map[int]bool{}
	for _, rt := range routes {
		if rt.Operator == "" {
			return nil, fmt.Errorf("a route has no operator")
		}
		for _, p := range rt.Prefixes {
			p = strings.TrimPrefix(strings.TrimSpace(p), "+")
			if p == "" || strings.Trim(p, "0123456789") != "" {
				return nil, fmt.Errorf("route %s: prefix %q is not digits", rt.Operator, p)
			}
			if prev, dup := r.byPrefix[p]; dup && prev != rt.Operator {
				return nil, fmt.Errorf("prefix %s goes to both %s and %s", p, prev, rt.Operator)
			}
			r.byPrefix[p] = rt.Operator
			if !seen[len(p)] {
				seen[len(p)] = true
				r.lengths = append(r.lengths, len(p))
			}
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(r.lengths)))
	return r, nil
}

// Operator returns the operator for an E.164 number, and false when no route
// takes it.
func (r *Routes) Operator(e164 string) (string, bool) {
	n := strings.TrimPrefix(e164, "+")
	for _, l := range r.lengths {
		if l <= len(n) {
			if op, ok := r.byPrefix[n[:l]]; ok {
				return op, true
			}
		}
	}
	return r.fallback, r.fallback != ""
}

// Longest is the longest prefix's length: a number's first Longest
// digits route it as the whole number does.
func (r *Routes) Longest() int {
	if len(r.lengths) == 0 {
		return 0
	}
	return r.lengths[0]
}

// Cameroon is the shipped example: the operators' mobile prefixes as
// libphonenumber's carrier data gives them. Camtel's mobile range is not in
// public data: add it in configuration.
var Cameroon = []Route{
	{Operator: "mtn", Prefixes: []string{"237650", "237651", "237652", "237653", "237654", "23767", "237680", "237681", "237682", "237683"}},
	{Operator: "orange", Prefixes: []string{"237655", "237656", "237657", "237658", "237659", "23769"}},
	{Operator: "nexttel", Prefixes: []string{"23766", "237684", "237685", "237686", "237687", "237688", "237689"}},
}
