package wire

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Stage is where the functions run: the template's Stage parameter, as STAGE. Only StageLocal
// (the local cloud: make run and the tests) lets a function start with the local stand-ins'
// settings; with StageProd, and when STAGE is unset, every function refuses to start on a
// missing or local setting (Load and Env.Require), naming it.
type Stage string

const (
	StageProd  Stage = "prod"
	StageLocal Stage = "local"
)

// stageFromEnv reads STAGE; unset is production.
func stageFromEnv(getenv Getenv) (Stage, error) {
	switch s := Stage(getenv("STAGE")); s {
	case "", StageProd:
		return StageProd, nil
	case StageLocal:
		return StageLocal, nil
	default:
		return "", fmt.Errorf("STAGE is %q: it must be prod or local (the template's Stage parameter)", string(s))
	}
}

// Needs lists, for each function of template.yaml, the settings it cannot start without in
// production; its builder checks them first (Env.Require), before any network call. A test
// checks that the template gives each function every variable listed here.
var Needs = map[string][]string{
	"OrdersFunction":           {"TABLE_NAME"},
	"MembersFunction":          {"TABLE_NAME"},
	"MailboxesFunction":        {"TABLE_NAME"},
	"BatchesFunction":          {"TABLE_NAME", "BATCH_STATE_MACHINE_ARN"},
	"MailboxActionsFunction":   {"TABLE_NAME", "SECRETS_ARN", "PUBLIC_URL", "PROVIDER_URL", "SES_FROM", "PEC_FROM", "SMTP_ADDR", "SMTP_TLS", "PROVIDER_KIND"},
	"ProviderCallbackFunction": {"TABLE_NAME", "SECRETS_ARN", "PUBLIC_URL", "PROVIDER_URL", "SES_FROM", "PROVIDER_KIND"},
	"ActivationFunction":       {"TABLE_NAME", "SECRETS_ARN", "PUBLIC_URL", "PROVIDER_URL", "SES_FROM", "PEC_FROM", "SMTP_ADDR", "SMTP_TLS", "PROVIDER_KIND"},
	"BatchTaskFunction":        {"TABLE_NAME", "SECRETS_ARN", "MAILBOX_STATE_MACHINE_ARN", "PROVIDER_URL", "PEC_FROM", "SMTP_ADDR", "SMTP_TLS", "PROVIDER_KIND"},
	"MailboxTaskFunction":      {"TABLE_NAME", "SECRETS_ARN", "PUBLIC_URL", "PROVIDER_URL", "SES_FROM", "PEC_FROM", "SMTP_ADDR", "SMTP_TLS", "PROVIDER_KIND"},
	"BatchScheduleFunction":    {"TABLE_NAME", "BATCH_STATE_MACHINE_ARN", "MAILBOX_STATE_MACHINE_ARN"},
	"INIPECSyncFunction":       {"TABLE_NAME", "SECRETS_ARN", "FILES_BUCKET", "INIPEC_URL", "PEC_FROM", "SMTP_ADDR", "SMTP_TLS"},
	"INIPECFunction":           {"TABLE_NAME", "SECRETS_ARN", "FILES_BUCKET", "INIPEC_URL", "INIPEC_SYNC_FUNCTION"},
	"ImportsFunction":          {"TABLE_NAME", "FILES_BUCKET"},
	"ImportJobFunction":        {"TABLE_NAME", "FILES_BUCKET"},
	"RequestsFunction":         {"TABLE_NAME", "SECRETS_ARN", "DOCUMENTS_BUCKET", "MAILBOX_STATE_MACHINE_ARN", "PAYMENT_SERVICE_URL", "PUBLIC_URL", "SES_FROM"},
	"DocumentUploadsFunction":  {"TABLE_NAME", "DOCUMENTS_BUCKET", "MAILBOX_STATE_MACHINE_ARN"},
	"RegindeFunction":          {"TABLE_NAME", "PUBLIC_URL", "SES_FROM"},
	"RegindePageFunction":      {"TABLE_NAME", "PUBLIC_URL"},
	"QuotaWatchFunction":       {"TABLE_NAME", "SECRETS_ARN", "PROVIDER_URL", "PROVIDER_KIND", "SES_FROM", "PEC_FROM", "SMTP_ADDR", "SMTP_TLS"},
	"ProviderPollFunction":     {"TABLE_NAME", "SECRETS_ARN", "PUBLIC_URL", "PROVIDER_URL", "SES_FROM", "PROVIDER_KIND"},
	"ExpiryFunction":           {"TABLE_NAME", "SECRETS_ARN", "PROVIDER_URL", "SES_FROM", "PROVIDER_KIND"},
	"EmailEventsFunction":      {"TABLE_NAME", "SECRETS_ARN", "PROVIDER_URL", "PROVIDER_KIND", "PEC_FROM", "SMTP_ADDR", "SMTP_TLS"},
}

// setting is what production needs of one variable: where it comes from in the template, and
// a check that says what is wrong with a value ("" when nothing).
type setting struct {
	from  string
	check func(string) string
}

var settings = map[string]setting{
	"TABLE_NAME":                {"the Table resource", present},
	"SECRETS_ARN":               {"the PlatformSecrets resource", arn},
	"PUBLIC_URL":                {"parameter PublicUrl", httpsURL},
	"PROVIDER_URL":              {"parameter ProviderUrl", httpsURL},
	"PROVIDER_KIND":             {"parameter ProviderKind", choice("webhook", "aruba", "legalmail")},
	"INIPEC_URL":                {"parameter InipecUrl", httpsURL},
	"PAYMENT_SERVICE_URL":       {"parameter PaymentServiceUrl; without it every payment would be accepted unverified", httpsURL},
	"SES_FROM":                  {"parameter SesFrom", address},
	"PEC_FROM":                  {"parameter PecFrom", address},
	"SMTP_ADDR":                 {"parameter SmtpAddr", hostPort},
	"SMTP_TLS":                  {"parameter SmtpTls", oneOf("starttls", "tls")},
	"FILES_BUCKET":              {"the FilesBucket resource", present},
	"DOCUMENTS_BUCKET":          {"the DocumentsBucket resource", present},
	"BATCH_STATE_MACHINE_ARN":   {"the BatchStateMachine resource", arn},
	"MAILBOX_STATE_MACHINE_ARN": {"the MailboxStateMachine resource", arn},
	"INIPEC_SYNC_FUNCTION":      {"the INIPECSyncFunction resource", present},
}

// localOnly are the local cloud's and its tests' switches: set, no function starts in
// production, whatever it is.
var localOnly = []struct{ name, why string }{
	{"AWS_ENDPOINT_URL", "it sends every AWS call to the local cloud"},
	{"FAULT_PANIC_AT", "it makes functions crash on purpose (tests)"},
	{"IMPORT_FAULT_PANIC_AFTER_ROWS", "it makes import jobs crash on purpose (tests)"},
	{"EXPIRY_AS_OF_ALLOWED", "it lets an invocation revoke mailboxes before they expire (parameter ExpiryAsOfAllowed)"},
}

// ConfigError is a function's refusal to start in production. Each problem names the variable
// and where in the template it comes from.
type ConfigError struct {
	Function string // the logical ID, or "" for what every function refuses (Load)
	Problems []Problem
}

// Problem is one unfit setting: its variable, where it comes from in the template, and why.
type Problem struct{ Setting, From, Why string }

func (p Problem) String() string {
	if p.From == "" {
		return p.Setting + ": " + p.Why
	}
	return p.Setting + " (" + p.From + "): " + p.Why
}

func (e *ConfigError) Error() string {
	who := "the function"
	if e.Function != "" {
		who = e.Function
	}
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("%s refuses to start with Stage prod: %s", who, strings.Join(parts, "; "))
}

// Settings are the names of the unfit settings.
func (e *ConfigError) Settings() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Setting
	}
	return out
}

// checkLocalOnly is Load's part: the switches no production function may have.
func checkLocalOnly(getenv Getenv) error {
	var problems []Problem
	for _, s := range localOnly {
		v := getenv(s.name)
		if v == "" || s.name == "EXPIRY_AS_OF_ALLOWED" && v == "false" {
			continue
		}
		problems = append(problems, Problem{Setting: s.name, Why: "set, but " + s.why + "; only Stage local allows it"})
	}
	if problems != nil {
		return &ConfigError{Problems: problems}
	}
	return nil
}

// Require checks, in production, every setting Needs lists for the function, and reports all
// that are missing or local at once. With Stage local it checks nothing: the local cloud's
// stand-ins are local by design.
func (e *Env) Require(function string) error {
	names, ok := Needs[function]
	if !ok {
		return fmt.Errorf("wire.Needs has no entry for %s", function)
	}
	if e.Stage == StageLocal {
		return nil
	}
	var problems []Problem
	for _, name := range names {
		s := settings[name]
		if why := s.check(e.Getenv(name)); why != "" {
			problems = append(problems, Problem{Setting: name, From: s.from, Why: why})
		}
	}
	if problems != nil {
		return &ConfigError{Function: function, Problems: problems}
	}
	return nil
}

func present(v string) string {
	if v == "" {
		return "missing"
	}
	return ""
}

func arn(v string) string {
	if v == "" {
		return "missing"
	}
	if !strings.HasPrefix(v, "arn:") {
		return "not an ARN"
	}
	return ""
}

// httpsURL: an https:// URL of a host that is not this machine.
func httpsURL(v string) string {
	if v == "" {
		return "missing"
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "":
		return "not a URL"
	case u.Scheme != "https":
		return "not https:// (" + u.Scheme + "://)"
	case loopback(u.Hostname()):
		return "a local address (" + u.Hostname() + ")"
	}
	return ""
}

// hostPort: host:port of a host that is not this machine.
func hostPort(v string) string {
	if v == "" {
		return "missing"
	}
	host, port, err := net.SplitHostPort(v)
	switch {
	case err != nil || host == "" || port == "":
		return "not host:port"
	case loopback(host):
		return "a local address (" + host + ")"
	}
	return ""
}

func address(v string) string {
	if v == "" {
		return "missing"
	}
	if at := strings.LastIndex(v, "@"); at <= 0 || at == len(v)-1 {
		return "not an e-mail address"
	}
	return ""
}

// choice accepts one of the values allowed.
func choice(allowed ...string) func(string) string {
	return func(v string) string {
		if v == "" {
			return "missing"
		}
		if !slices.Contains(allowed, v) {
			return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return ""
	}
}

func oneOf(allowed ...string) func(string) string {
	return func(v string) string {
		if v == "" {
			return "missing"
		}
		if !slices.Contains(allowed, v) {
			return fmt.Sprintf("%q, which is for the local cloud only (want %s)", v, strings.Join(allowed, " or "))
		}
		return ""
	}
}

// loopback reports whether host is this machine: localhost, a loopback or unspecified address.
func loopback(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// errorSettings returns the settings a start-up error names, if it is a ConfigError.
func errorSettings(err error) []string {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Settings()
	}
	return nil
}
