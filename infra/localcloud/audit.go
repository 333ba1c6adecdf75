package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The privacy audit of the test binaries that run on the local cloud (RunTests). Every log line
// of the local cloud is kept: the functions' slog output, the host's request log, the provider
// stand-in's, and the emulators' logs. At the end the audit gathers what must never be logged
// and fails the binary if a line holds any of it:
//   - a codice fiscale: anything of its shape, and every code the table holds for a member;
//   - a credential issued to a person: activation and ReGIndE link tokens (from the links in the
//     members' e-mails), self-service access tokens (from the API's answers), portal JWTs (from
//     Token), and the Step Functions task tokens parked in the table;
//   - a secret of the local configuration (provider API key and webhook secret, INI-PEC token,
//     SMTP password);
//   - the text of an e-mail sent to a member (any of its sentences).

// audit is a test binary's capture point.
type audit struct {
	mu     sync.Mutex
	logs   bytes.Buffer
	issued map[string]string // a credential the tests saw -> what it is
}

func newAudit() *audit { return &audit{issued: map[string]string{}} }

// Write keeps log output; it is the sink of every logger of the local cloud in tests.
func (a *audit) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logs.Write(p)
}

func (a *audit) note(kind, value string) {
	if a == nil || value == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.issued[value] = kind
}

var accessTokenField = regexp.MustCompile(`"accessToken"\s*:\s*"([^"]+)"`)

// observe notes the credentials the API hands out in its JSON answers.
func (a *audit) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w}
		next.ServeHTTP(tw, r)
		if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			for _, m := range accessTokenField.FindAllSubmatch(tw.body.Bytes(), -1) {
				a.note("self-service access token", string(m[1]))
			}
		}
	})
}

// teeWriter keeps the start of an answer: enough for any answer that carries a credential.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if room := 64<<10 - t.body.Len(); room > 0 {
		t.body.Write(p[:min(len(p), room)])
	}
	return t.ResponseWriter.Write(p)
}

func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// cfShape is a codice fiscale, omocodic or not, in either case. It is looked for in whole
// words of 16 letters and digits with at least one digit, so that a word of letters alone (a
// surname in an address) is not taken for a code with all seven digits replaced (omocodia).
var (
	cfShape = regexp.MustCompile(`(?i)^[a-z]{6}[0-9lmnp-v]{2}[abcdehlmprst][0-9lmnp-v]{2}[a-z][0-9lmnp-v]{3}[a-z]$`)
	word    = regexp.MustCompile(`[A-Za-z0-9]{16,}`)
)

func maskCodiciFiscali(s string) string {
	return word.ReplaceAllStringFunc(s, func(w string) string {
		if len(w) == 16 && cfShape.MatchString(w) && strings.ContainsAny(w, "0123456789") {
			return redacted("codice fiscale")
		}
		return w
	})
}

var linkToken = regexp.MustCompile(`/(activate|reginde)/([A-Za-z0-9_-]{16,})`)

// cloudLog is where the audit leaves the log of the functions, host and provider stand-in,
// masked, beside the emulators' logs.
const cloudLog = "local-cloud.log"

// leak is a log line that holds what it must not, masked.
type leak struct {
	source, line string
	what         []string
}

// auditPrivacy gathers what must not be logged from the running cloud, stops it (so that every
// log is complete) and returns the log lines that hold any of it.
func (c *Cloud) auditPrivacy(ctx context.Context) ([]leak, error) {
	needles := map[string]string{
		ProviderAPIKey: "provider API key", ProviderWebhookSecret: "provider webhook secret",
		INIPECToken: "INI-PEC token", SMTPPassword: "SMTP password", PaymentAPIKey: "payment service key",
	}
	c.audit.mu.Lock()
	for v, kind := range c.audit.issued {
		needles[v] = kind
	}
	c.audit.mu.Unlock()
	if err := c.sesNeedles(ctx, needles); err != nil {
		return nil, fmt.Errorf("the members' e-mails: %w", err)
	}
	if err := c.tableNeedles(ctx, needles); err != nil {
		return nil, fmt.Errorf("the table: %w", err)
	}
	c.Close()

	sc := newScanner(needles)
	// The local cloud's own log is kept masked, for reading after a failure.
	var kept bytes.Buffer
	c.audit.mu.Lock()
	sc.scan("functions, host and provider stand-in", c.audit.logs.Bytes(), &kept)
	c.audit.mu.Unlock()
	if err := os.WriteFile(filepath.Join(c.logsDir, cloudLog), kept.Bytes(), 0o644); err != nil {
		return nil, err
	}
	for _, p := range c.procs {
		b, err := os.ReadFile(filepath.Join(c.logsDir, p.Name+".log"))
		if err != nil {
			return nil, err
		}
		sc.scan(p.Name+".log", b, io.Discard)
	}
	return sc.leaks, nil
}

// scanner finds and masks what must not be logged.
type scanner struct {
	mask  *strings.Replacer
	leaks []leak
}

// newScanner looks for each needle (a value -> what it is; shorter than 8 bytes is ignored)
// and for anything of a codice fiscale's shape.
func newScanner(needles map[string]string) *scanner {
	pairs := make([]string, 0, 2*len(needles))
	for v, kind := range needles {
		if len(v) >= 8 {
			pairs = append(pairs, v, redacted(kind))
		}
	}
	return &scanner{mask: strings.NewReplacer(pairs...)}
}

// scan records the lines of text that leak, and writes every line, masked, to out.
func (s *scanner) scan(source string, text []byte, out io.Writer) {
	for line := range strings.Lines(string(text)) {
		masked := maskCodiciFiscali(s.mask.Replace(line))
		if masked != line {
			s.leaks = append(s.leaks, leak{source: source, line: strings.TrimSpace(masked), what: kinds(masked)})
		}
		io.WriteString(out, masked)
	}
}

func redacted(kind string) string { return "[REDACTED " + kind + "]" }

var maskedKind = regexp.MustCompile(`\[REDACTED ([^\]]+)\]`)

func kinds(masked string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range maskedKind.FindAllStringSubmatch(masked, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// sesNeedles adds the link tokens of the members' e-mails, and each e-mail's sentences.
func (c *Cloud) sesNeedles(ctx context.Context, needles map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.SESURL+"/store", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var store struct {
		Emails []struct {
			Body struct{ Text, HTML string } `json:"body"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		return err
	}
	for _, e := range store.Emails {
		for _, m := range linkToken.FindAllStringSubmatch(e.Body.Text+e.Body.HTML, -1) {
			kind := "activation link token"
			if m[1] == "reginde" {
				kind = "ReGIndE link token"
			}
			needles[m[2]] = kind
		}
		// A sentence of the e-mail, also as a JSON string would hold it.
		for line := range strings.Lines(e.Body.Text) {
			// A sentence, not an address or a name on a line of its own.
			if line = strings.TrimSpace(line); len(line) >= 40 && strings.Count(line, " ") >= 4 && !linkToken.MatchString(line) {
				needles[line] = "e-mail body"
				var j bytes.Buffer
				enc := json.NewEncoder(&j)
				enc.SetEscapeHTML(false) // as slog's JSON handler writes strings
				_ = enc.Encode(line)
				needles[strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(j.String()), `"`), `"`)] = "e-mail body"
			}
		}
	}
	return nil
}

// tableNeedles adds every member's codice fiscale and every parked Step Functions task token.
func (c *Cloud) tableNeedles(ctx context.Context, needles map[string]string) error {
	items, err := c.ScanTable(ctx)
	if err != nil {
		return err
	}
	for _, it := range items {
		if s, ok := it["codiceFiscale"].(*types.AttributeValueMemberS); ok {
			needles[s.Value] = "codice fiscale"
			needles[strings.ToLower(s.Value)] = "codice fiscale"
		}
		if s, ok := it["taskToken"].(*types.AttributeValueMemberS); ok {
			needles[s.Value] = "Step Functions task token"
		}
	}
	return nil
}

// ScanTable returns every item of the template's table (tests only: it reads it all).
func (c *Cloud) ScanTable(ctx context.Context) ([]map[string]types.AttributeValue, error) {
	db := dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(c.DynamoDBURL), Region: Region,
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
	})
	var items []map[string]types.AttributeValue
	for _, table := range c.Host.Tables() {
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			items = append(items, out.Items...)
		}
	}
	return items, nil
}

// reportLeaks writes the leaks, masked, and says how to find their source.
func reportLeaks(w io.Writer, leaks []leak, logsDir string) {
	fmt.Fprintf(w, "\nPRIVACY AUDIT FAILED: %d log lines of the local cloud hold personal data or credentials "+
		"(shown masked; never log a codice fiscale, a token, a secret or an e-mail's text):\n", len(leaks))
	const most = 20
	for i, l := range leaks {
		if i == most {
			fmt.Fprintf(w, "  ... and %d more\n", len(leaks)-most)
			break
		}
		line := l.line
		if len(line) > 600 {
			line = line[:600] + "..."
		}
		sort.Strings(l.what)
		fmt.Fprintf(w, "  %s (%s):\n    %s\n", l.source, strings.Join(l.what, ", "), line)
	}
	fmt.Fprintf(w, "Every log, masked or the emulators' own, is in %s.\n", logsDir)
}

// auditTimeout bounds the audit's own calls to the emulators.
const auditTimeout = time.Minute

// Logs returns what the local cloud's functions and host have logged so far (in tests, where
// the audit captures it; "" otherwise).
func (c *Cloud) Logs() string {
	if c.audit == nil {
		return ""
	}
	c.audit.mu.Lock()
	defer c.audit.mu.Unlock()
	return c.audit.logs.String()
}
