package main

import (
	"sort"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/africastalking"
	"github.com/guichet/guichet/ussd/arkesel"
	"github.com/guichet/guichet/ussd/generic"
	"github.com/guichet/guichet/ussd/hubtel"
	"github.com/guichet/guichet/ussd/madapi"
	"github.com/guichet/guichet/ussd/nalo"
)

// dialects are the operator dialects configuration can name, each made
// from its operator's settings.
var dialects = map[string]func(op OperatorConfig) ussd.Dialect{
	"africastalking": func(OperatorConfig) ussd.Dialect { return africastalking.Dialect{} },
	"madapi":         func(OperatorConfig) ussd.Dialect { return madapi.Dialect{} },
	"hubtel":         func(OperatorConfig) ussd.Dialect { return hubtel.Dialect{} },
	"generic":        func(OperatorConfig) ussd.Dialect { return generic.Dialect{} },
	"nalo":           func(op OperatorConfig) ussd.Dialect { return nalo.Dialect{UserID: op.Account} },
	"arkesel":        func(op OperatorConfig) ussd.Dialect { return arkesel.Dialect{UserID: op.Account} },
}

func dialectNames() []string {
	names := make([]string, 0, len(dialects))
	for n := range dialects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
