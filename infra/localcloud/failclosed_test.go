package localcloud_test

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/wire"
)

// A production function's environment with every setting fit for production, as the template
// gives it in AWS (no network call is made to build a function: the secrets are read at the
// first call that needs them).
var prodSettings = map[string]string{
	"STAGE": "prod", "AWS_REGION": "eu-south-1", "AWS_LAMBDA_FUNCTION_NAME": "pec-prod-fn",
	"TABLE_NAME":                "pec-prod-Table-1XYZ",
	"SECRETS_ARN":               "arn:aws:secretsmanager:eu-south-1:123456789012:secret:PlatformSecrets-AbCdEf",
	"PUBLIC_URL":                "https://pec.federazione.example.it",
	"PROVIDER_URL":              "https://api.provider.example.it/v1",
	"PROVIDER_KIND":             "webhook",
	"INIPEC_URL":                "https://inipec.example.it/api",
	"PAYMENT_SERVICE_URL":       "https://pagamenti.example.it",
	"SES_FROM":                  "noreply@federazione.example.it",
	"PEC_FROM":                  "piattaforma@pec.federazione.example.it",
	"SMTP_ADDR":                 "smtps.pec.example.it:465",
	"SMTP_TLS":                  "tls",
	"FILES_BUCKET":              "pec-files-123456789012-0a1b2c3d",
	"DOCUMENTS_BUCKET":          "pec-prod-documentsbucket-1xyz",
	"BATCH_STATE_MACHINE_ARN":   "arn:aws:states:eu-south-1:123456789012:stateMachine:BatchStateMachine-1XYZ",
	"MAILBOX_STATE_MACHINE_ARN": "arn:aws:states:eu-south-1:123456789012:stateMachine:MailboxStateMachine-1XYZ",
	"INIPEC_SYNC_FUNCTION":      "pec-prod-INIPECSyncFunction-1XYZ",
	"EXPIRY_AS_OF_ALLOWED":      "false",
}

// localValues are the local cloud's values of the settings that have a local form.
var localValues = map[string]string{
	"PUBLIC_URL":          "http://127.0.0.1:3000",
	"PROVIDER_URL":        "http://127.0.0.1:8010",
	"INIPEC_URL":          "http://127.0.0.1:3000/_local/inipec",
	"PAYMENT_SERVICE_URL": "https://localhost:3000/_local",
	"SMTP_ADDR":           "127.0.0.1:1025",
	"SMTP_TLS":            "none",
	"SECRETS_ARN":         "PlatformSecrets",
}

// localSwitches are the local cloud's and its tests' switches.
var localSwitches = map[string]string{
	"AWS_ENDPOINT_URL":              "http://127.0.0.1:3000",
	"FAULT_PANIC_AT":                "enrol=^crashenrol\\.",
	"IMPORT_FAULT_PANIC_AFTER_ROWS": "150",
	"EXPIRY_AS_OF_ALLOWED":          "true",
}

// build runs the function's builder as its main does (wire.Load, then the builder).
func build(t *testing.T, codeURI string, env map[string]string) (any, error) {
	t.Helper()
	c := localcloud.Functions[codeURI]
	if c == nil {
		t.Fatalf("no constructor for %s", codeURI)
	}
	return c(context.Background(), func(k string) string { return env[k] })
}

// refusedFor checks that err is a refusal naming exactly the setting.
func refusedFor(t *testing.T, id, setting string, err error) {
	t.Helper()
	var ce *wire.ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("%s without a fit %s: got %v, want it to refuse to start", id, setting, err)
		return
	}
	if got := ce.Settings(); !slices.Equal(got, []string{setting}) || !strings.Contains(err.Error(), setting) {
		t.Errorf("%s: refused for %v (%v), want %s", id, got, err, setting)
	}
}

// TestFailClosed_EveryFunctionRefusesToStartInProductionWithoutItsSettings: each function of
// the template, built as its main builds it with Stage prod, starts with production settings;
// with any one of its settings missing or local, or with a local switch set, it refuses to
// start and the error names that setting.
func TestFailClosed_EveryFunctionRefusesToStartInProductionWithoutItsSettings(t *testing.T) {
	fns := readTemplate(t).resources("AWS::Serverless::Function")
	for id, fn := range fns {
		codeURI := value(fn, "Properties", "CodeUri")
		t.Run(id, func(t *testing.T) {
			h, err := build(t, codeURI, prodSettings)
			if err != nil || h == nil {
				t.Fatalf("with production settings: %v", err)
			}
			for _, name := range wire.Needs[id] {
				env := maps.Clone(prodSettings)
				delete(env, name)
				_, err := build(t, codeURI, env)
				refusedFor(t, id, name, err)
				if local, ok := localValues[name]; ok {
					env[name] = local
					_, err := build(t, codeURI, env)
					refusedFor(t, id, name, err)
				}
			}
			for name, v := range localSwitches {
				env := maps.Clone(prodSettings)
				env[name] = v
				_, err := build(t, codeURI, env)
				refusedFor(t, id, name, err)
			}
		})
	}
}

// The same functions start with Stage local and the local values: only Stage unlocks them.
func TestFailClosed_StageLocalStartsWithTheLocalValues(t *testing.T) {
	env := maps.Clone(prodSettings)
	maps.Copy(env, localValues)
	maps.Copy(env, localSwitches)
	env["STAGE"], env["SECRETS_ARN"] = "local", ""
	for id, fn := range readTemplate(t).resources("AWS::Serverless::Function") {
		if _, err := build(t, value(fn, "Properties", "CodeUri"), env); err != nil {
			t.Errorf("%s with Stage local: %v", id, err)
		}
	}
}

// TestFailClosed_TheTemplateGivesEachFunctionWhatItNeeds: wire.Needs lists every function of the
// template, and each setting it lists is in that function's environment (Globals or its own).
func TestFailClosed_TheTemplateGivesEachFunctionWhatItNeeds(t *testing.T) {
	doc := readTemplate(t)
	global := keys(at(doc.root, "Globals", "Function", "Environment", "Variables"))
	fns := doc.resources("AWS::Serverless::Function")
	for id, fn := range fns {
		needs, ok := wire.Needs[id]
		if !ok {
			t.Errorf("%s: not in wire.Needs", id)
			continue
		}
		env := append(keys(at(fn, "Properties", "Environment", "Variables")), global...)
		for _, n := range needs {
			if !slices.Contains(env, n) {
				t.Errorf("%s needs %s, which the template does not give it", id, n)
			}
		}
	}
	for id := range wire.Needs {
		if fns[id] == nil {
			t.Errorf("wire.Needs lists %s, which is not a function of the template", id)
		}
	}
}

func keys(m *yaml.Node) []string {
	var out []string
	if m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i < len(m.Content); i += 2 {
			out = append(out, m.Content[i].Value)
		}
	}
	return out
}

// The production parameters: no default anywhere is a local address or plain http://; the
// services' URLs and the SMTP server have no default and a pattern that only a real host passes.
func TestTemplate_ProductionParametersHaveNoLocalDefaultAndOnlyAcceptRealHosts(t *testing.T) {
	params := at(readTemplate(t).root, "Parameters")
	var urls []string
	for _, name := range keys(params) {
		p := at(params, name)
		if d := at(p, "Default"); d != nil {
			for _, local := range []string{"127.0.0.1", "localhost", "[::1]", "0.0.0.0", "http://"} {
				if strings.Contains(d.Value, local) {
					t.Errorf("%s defaults to %q, a local value", name, d.Value)
				}
			}
		}
		if strings.HasSuffix(name, "Url") || strings.HasSuffix(name, "Issuer") {
			urls = append(urls, name)
		}
	}
	for _, want := range []string{"JwtIssuer", "PublicUrl", "ProviderUrl", "InipecUrl", "PaymentServiceUrl"} {
		if !slices.Contains(urls, want) {
			t.Errorf("no URL parameter %s", want)
		}
	}
	check := func(name string, accept, reject []string) {
		p := at(params, name)
		if at(p, "Default") != nil {
			t.Errorf("%s has a default: a stack must not be created without the real value", name)
		}
		re, err := regexp.Compile(value(p, "AllowedPattern"))
		if err != nil || value(p, "AllowedPattern") == "" {
			t.Errorf("%s: AllowedPattern %q: %v", name, value(p, "AllowedPattern"), err)
			return
		}
		for _, v := range accept {
			if !re.MatchString(v) {
				t.Errorf("%s: %q is refused", name, v)
			}
		}
		for _, v := range reject {
			if re.MatchString(v) {
				t.Errorf("%s: %q is accepted", name, v)
			}
		}
	}
	for _, name := range urls {
		if !strings.HasPrefix(value(at(params, name), "AllowedPattern"), "^https://") {
			t.Errorf("%s: AllowedPattern does not start with ^https://", name)
		}
		check(name, []string{"https://pec.federazione.example.it", "https://api.provider.example.it:8443/v1/", "https://cognito-idp.eu-south-1.amazonaws.com/eu-south-1_AbC"},
			[]string{"", "http://pec.example.it", "https://127.0.0.1:3000", "https://localhost:3000/local", "https://[::1]/", "https://0.0.0.0", "ftp://pec.example.it", "https://pec.example.it extra"})
	}
	check("SmtpAddr", []string{"smtps.pec.example.it:465", "smtp.pec.example.it:587"},
		[]string{"", "127.0.0.1:1025", "localhost:25", "smtps.pec.example.it", "smtps.pec.example.it:"})
	for _, name := range []string{"SesFrom", "PecFrom"} {
		check(name, []string{"noreply@federazione.example.it"}, []string{"", "noreply", "a b@example.it"})
	}
}

// Stage is prod or local, prod by default, reaches every function as STAGE, and with prod the
// template itself refuses the local switches it can see (SMTP without TLS, the expiry's asOf).
func TestTemplate_StageIsProdUnlessLocalIsChosen(t *testing.T) {
	doc := readTemplate(t)
	stage := at(doc.root, "Parameters", "Stage")
	var allowed []string
	for _, v := range items(at(stage, "AllowedValues")) {
		allowed = append(allowed, v.Value)
	}
	slices.Sort(allowed)
	if !slices.Equal(allowed, []string{"local", "prod"}) || value(stage, "Default") != "prod" {
		t.Errorf("Stage: AllowedValues %v, Default %q; want [local prod], prod", allowed, value(stage, "Default"))
	}
	if n := at(doc.root, "Globals", "Function", "Environment", "Variables", "STAGE"); n == nil || n.Tag != "!Ref" || n.Value != "Stage" {
		t.Errorf("Globals: STAGE is not !Ref Stage")
	}
	rule := at(doc.root, "Rules", "NoLocalSwitchInProduction")
	cond := at(rule, "RuleCondition")
	if cond == nil || cond.Tag != "!Equals" || len(cond.Content) != 2 || cond.Content[0].Value != "Stage" || cond.Content[1].Value != "prod" {
		t.Fatalf("no rule conditioned on Stage prod")
	}
	var asserted []string
	for _, a := range items(at(rule, "Assertions")) {
		asserted = append(asserted, refsIn(at(a, "Assert"))...)
	}
	for _, p := range []string{"SmtpTls", "ExpiryAsOfAllowed"} {
		if !slices.Contains(asserted, p) {
			t.Errorf("the Stage prod rule does not check %s", p)
		}
	}
}

// refsIn returns what the !Ref intrinsics under n name.
func refsIn(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	var out []string
	if n.Tag == "!Ref" {
		out = append(out, n.Value)
	}
	for _, c := range n.Content {
		out = append(out, refsIn(c)...)
	}
	return out
}
