package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// explanation is the answer of GET /parley/v1/admin/explain.
type explanation struct {
	Allowed bool `json:"allowed"`
	Checks  []struct {
		Rule    string `json:"rule"`
		Passed  bool   `json:"passed"`
		Setting *bool  `json:"setting"`
		Source  string `json:"source"`
	} `json:"checks"`
}

// ruleText says what each rule asks, in the words of the admin center's
// explain page (web/src/admin/Admin.tsx), so both read alike.
var ruleText = map[string]string{
	"sameTenant":                         "Both are in your organisation",
	"guest.hostOnly":                     "Guests chat only inside their host organisation",
	"anonymous.meetingOnly":              "Anonymous participants chat only in their meeting",
	"account.kind":                       "The account type allows chats outside the organisation",
	"account.missing":                    "The account exists",
	"tenant.allowTeamsConsumer":          "Your organisation allows chats with personal accounts",
	"tenant.allowTeamsConsumerInbound":   "Your organisation lets personal accounts start chats",
	"tenant.allowFederatedUsers":         "Your organisation allows chats with other organisations",
	"tenant.blockedDomains":              "The address's domain is not blocked",
	"tenant.allowedDomains":              "The address's domain is allowed",
	"policy.enableFederationAccess":      "Their policy allows chats with other organisations",
	"policy.enableTeamsConsumerAccess":   "Their policy allows chats with personal accounts",
	"policy.enableTeamsConsumerInbound":  "Their policy lets personal accounts start chats",
	"target.allowChatsFromOrganizations": "The person accepts chats from organisations",
	"block":                              "Nobody has blocked the other",
	"request.declined":                   "No recent declined request",
	"otherOrganization":                  "The other side's organisation accepts this",
}

// print writes the verdict, then one line per rule in the order they were
// checked: pass or FAIL, what the rule asks, and the rule's name with the
// setting's value and where it came from.
func (ex *explanation) print(w io.Writer, who, address string) error {
	if ex.Allowed {
		fmt.Fprintf(w, "Allowed: %s can start a chat with %s.\n", who, address)
	} else {
		fmt.Fprintf(w, "Not allowed: %s cannot start a chat with %s.\n", who, address)
	}
	fmt.Fprintf(w, "Rules on your side, in the order checked (the first that fails decides):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range ex.Checks {
		mark := "pass"
		if !c.Passed {
			mark = "FAIL"
		}
		text, ok := ruleText[c.Rule]
		if !ok {
			text = c.Rule
		}
		detail := c.Rule
		if c.Setting != nil {
			detail = fmt.Sprintf("%s = %t", c.Rule, *c.Setting)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s, %s\n", mark, text, detail, c.Source)
	}
	return tw.Flush()
}
