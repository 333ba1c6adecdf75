package localcloud_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pecplatform/pec/infra/lambdahost"
	"github.com/pecplatform/pec/infra/localcloud"
)

// templateThrottling reads, from template.yaml, the public routes (Auth.Authorizer NONE), the
// HttpApi's RouteSettings and the parameters' defaults.
type templateThrottling struct {
	public        []string                     // route keys
	routeSettings map[string]map[string]string // route key -> ThrottlingRateLimit/BurstLimit -> parameter name
	defaults      map[string]string            // parameter -> default
}

func readTemplateThrottling(t *testing.T) templateThrottling {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default string `yaml:"Default"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				RouteSettings map[string]map[string]yaml.Node `yaml:"RouteSettings"`
				Events        map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Path   string `yaml:"Path"`
						Method string `yaml:"Method"`
						Auth   struct {
							Authorizer string `yaml:"Authorizer"`
						} `yaml:"Auth"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := templateThrottling{routeSettings: map[string]map[string]string{}, defaults: map[string]string{}}
	for name, p := range doc.Parameters {
		out.defaults[name] = p.Default
	}
	for _, r := range doc.Resources {
		switch r.Type {
		case "AWS::Serverless::HttpApi":
			for key, settings := range r.Properties.RouteSettings {
				out.routeSettings[key] = map[string]string{}
				for k, n := range settings {
					if n.Tag != "!Ref" {
						t.Errorf("RouteSettings %q %s: use a parameter (!Ref), so that tests and stages can tune it", key, k)
					}
					out.routeSettings[key][k] = n.Value
				}
			}
		case "AWS::Serverless::Function":
			for _, ev := range r.Properties.Events {
				if ev.Type == "HttpApi" && ev.Properties.Auth.Authorizer == "NONE" {
					out.public = append(out.public, strings.ToUpper(ev.Properties.Method)+" "+ev.Properties.Path)
				}
			}
		}
	}
	return out
}

// TestThrottling_EveryPublicRouteIsThrottledHarderThanTheDefault: a route without the portal's
// JWT is open to anyone on the Internet, so the template gives each its own RouteSettings,
// below the API-wide default; FastParameters lift them for the tests.
func TestThrottling_EveryPublicRouteIsThrottledHarderThanTheDefault(t *testing.T) {
	tpl := readTemplateThrottling(t)
	if len(tpl.public) < 10 {
		t.Fatalf("only %d public routes found in template.yaml: %v", len(tpl.public), tpl.public)
	}
	num := func(param string) float64 {
		f, err := strconv.ParseFloat(tpl.defaults[param], 64)
		if err != nil {
			t.Fatalf("parameter %q: default %q is not a number", param, tpl.defaults[param])
		}
		return f
	}
	defaultRate, defaultBurst := num("ThrottleRateLimit"), num("ThrottleBurstLimit")
	for _, key := range tpl.public {
		s, ok := tpl.routeSettings[key]
		if !ok {
			t.Errorf("public route %s has no RouteSettings in template.yaml", key)
			continue
		}
		rate, burst := s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"]
		if rate == "" || burst == "" {
			t.Errorf("%s: RouteSettings without ThrottlingRateLimit and ThrottlingBurstLimit: %v", key, s)
			continue
		}
		if r, b := num(rate), num(burst); r <= 0 || b < 1 || r >= defaultRate || b >= defaultBurst {
			t.Errorf("%s: throttled at %v/s, burst %v: not below the default %v/s, burst %v", key, r, b, defaultRate, defaultBurst)
		}
		for _, p := range []string{rate, burst} {
			if f, err := strconv.ParseFloat(localcloud.FastParameters[p], 64); err != nil || f < 100 {
				t.Errorf("%s: FastParameters does not lift %s (%q): the tests would be throttled", key, p, localcloud.FastParameters[p])
			}
		}
	}
	for key := range tpl.routeSettings {
		if !strings.Contains(strings.Join(tpl.public, "\n")+"\n", key+"\n") {
			t.Errorf("RouteSettings %q names no public route of the template", key)
		}
	}
}

// TestThrottling_TheHostAnswers429OnEveryPublicRoute runs a second host over the shared
// emulators with each public route's limit at a burst of 2: the third request in a row is
// API Gateway's 429, before the function runs; a portal route is not affected.
func TestThrottling_TheHostAnswers429OnEveryPublicRoute(t *testing.T) {
	c := localcloud.ForTests(t)
	tpl := readTemplateThrottling(t)
	params := maps.Clone(c.Parameters)
	for _, s := range tpl.routeSettings {
		params[s["ThrottlingRateLimit"]] = "0.01"
		params[s["ThrottlingBurstLimit"]] = "2"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := lambdahost.New(ctx, lambdahost.Options{
		TemplatePath: "../../template.yaml", Functions: localcloud.Functions, Parameters: params,
		Env: map[string]string{"AWS_ENDPOINT_URL": c.APIURL, "AWS_REGION": localcloud.Region, "PROVIDER_API_KEY": localcloud.ProviderAPIKey,
			"PROVIDER_WEBHOOK_SECRETS": localcloud.ProviderWebhookSecret, "SECRETS_ARN": "", "SMTP_PASSWORD": ""},
		DynamoDBURL: c.DynamoDBURL, MotoURL: c.MotoURL, SESURL: c.SESURL, KeyDir: c.KeyDir, Region: localcloud.Region,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	paths := map[string]string{"{token}": strings.Repeat("A", 43), "{requestId}": strings.Repeat("0", 32), "{offerCode}": "NESSUNA-OFFERTA"}
	for _, key := range tpl.public {
		method, path, _ := strings.Cut(key, " ")
		for k, v := range paths {
			path = strings.ReplaceAll(path, k, v)
		}
		var codes []int
		for range 3 {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkAnswer(t, method, path, resp.StatusCode, resp.Header, b)
			codes = append(codes, resp.StatusCode)
		}
		if codes[0] == 429 || codes[1] == 429 || codes[2] != 429 {
			t.Errorf("%s: statuses %v, want two answers from the function, then 429", key, codes)
		}
	}
	tok, err := c.Token("federation", "")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/orders/"+uniqueID("NONE"), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkAnswer(t, "GET", req.URL.EscapedPath(), resp.StatusCode, resp.Header, b)
		if resp.StatusCode != 404 {
			t.Fatalf("a portal route next to throttled public ones: %d, want 404", resp.StatusCode)
		}
	}
}
