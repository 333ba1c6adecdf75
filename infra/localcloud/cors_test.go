package localcloud_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pecplatform/pec/infra/localcloud"
)

// The request headers a portal's browser sends that the API reads (shared/httpapi).
var portalHeaders = []string{"authorization", "content-type", "idempotency-key", "x-access-token"}

// TestTemplate_CORSAllowsThePortalsOfAllowedOrigins: the HttpApi's CorsConfiguration is on
// exactly when AllowedOrigins names https:// origins, allows every method the routes have and
// every header a portal sends, and is written in the form SAM passes to API Gateway intact.
func TestTemplate_CORSAllowsThePortalsOfAllowedOrigins(t *testing.T) {
	doc := readTemplate(t)
	cors := at(doc.root, "Resources", "HttpApi", "Properties", "CorsConfiguration")
	if cors == nil || cors.Tag != "!If" || len(cors.Content) != 3 || cors.Content[0].Value != "HasAllowedOrigins" ||
		cors.Content[2].Tag != "!Ref" || cors.Content[2].Value != "AWS::NoValue" {
		t.Fatalf("CorsConfiguration is not !If [HasAllowedOrigins, {...}, !Ref AWS::NoValue]: SAM would not pass it whole")
	}
	cfg := cors.Content[1]
	origins := at(cfg, "AllowOrigins")
	if origins.Tag != "!Split" || at(origins, "1").Tag != "!Ref" || at(origins, "1").Value != "AllowedOrigins" {
		t.Errorf("AllowOrigins is not !Split [\",\", !Ref AllowedOrigins]")
	}
	cond := at(doc.root, "Conditions", "HasAllowedOrigins")
	if cond == nil || !slices.Contains(refsIn(cond), "AllowedOrigins") {
		t.Errorf("no condition HasAllowedOrigins on AllowedOrigins")
	}
	var methods, headers []string
	for _, m := range items(at(cfg, "AllowMethods")) {
		methods = append(methods, m.Value)
	}
	for _, h := range items(at(cfg, "AllowHeaders")) {
		headers = append(headers, strings.ToLower(h.Value))
	}
	for _, fn := range doc.resources("AWS::Serverless::Function") {
		ev := at(fn, "Properties", "Events")
		for _, name := range keys(ev) {
			if value(ev, name, "Type") == "HttpApi" && !slices.Contains(methods, value(ev, name, "Properties", "Method")) {
				t.Errorf("route %s %s: its method is not in AllowMethods %v", value(ev, name, "Properties", "Method"), value(ev, name, "Properties", "Path"), methods)
			}
		}
	}
	for _, h := range portalHeaders {
		if !slices.Contains(headers, h) {
			t.Errorf("AllowHeaders %v has no %s", headers, h)
		}
	}
	p := at(doc.root, "Parameters", "AllowedOrigins")
	re := regexp.MustCompile(value(p, "AllowedPattern"))
	if value(p, "Type") != "String" || value(p, "Default") != "" {
		t.Errorf("AllowedOrigins: Type %s, Default %q; want a String, empty by default (no other origin)", value(p, "Type"), value(p, "Default"))
	}
	for _, v := range []string{"", "https://portale.federazione.it", "https://portale.federazione.it,https://admin.federazione.it:8443"} {
		if !re.MatchString(v) {
			t.Errorf("AllowedOrigins refuses %q", v)
		}
	}
	for _, v := range []string{"*", "http://portale.federazione.it", "https://localhost:5173", "https://portale.federazione.it/app", "https://a.it, https://b.it"} {
		if re.MatchString(v) {
			t.Errorf("AllowedOrigins accepts %q", v)
		}
	}

	t.Run("SAMTransform", func(t *testing.T) {
		out := samTransformCORS(t, "https://portale.federazione.it,https://admin.federazione.it")
		var got struct {
			If []json.RawMessage `json:"Fn::If"`
		}
		if err := json.Unmarshal(out, &got); err != nil || len(got.If) != 3 {
			t.Fatalf("x-amazon-apigateway-cors is %s", out)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(got.If[1], &body); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge"} {
			if body[k] == nil {
				t.Errorf("the transformed CORS has no %s: %s", k, out)
			}
		}
		if !strings.Contains(string(body["allowOrigins"]), `"Fn::Split"`) {
			t.Errorf("allowOrigins is %s: CloudFormation would not get a list", body["allowOrigins"])
		}
	})
}

// samTransformCORS runs the SAM transform (aws-sam-translator, which cfn-lint installs; the
// same code CloudFormation runs for the AWS::Serverless transform) and returns the API's
// x-amazon-apigateway-cors.
func samTransformCORS(t *testing.T, origins string) []byte {
	t.Helper()
	const script = `
import json, sys
from cfnlint.decode import decode
from samtranslator.translator.transform import transform
tpl, _ = decode(sys.argv[1])
tpl = json.loads(json.dumps(tpl, default=str))
for r in tpl["Resources"].values():
    p = r.get("Properties", {})
    for k in ("CodeUri", "DefinitionUri"):
        if k in p: p[k] = "s3://bucket/key"
class Policies:
    def load(self): return {}
out = transform(tpl, {"AllowedOrigins": sys.argv[2]}, Policies())
print(json.dumps(out["Resources"]["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]))
`
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	if exec.Command("python3", "-c", "import samtranslator, cfnlint").Run() != nil {
		t.Skip("aws-sam-translator is not installed (pip install cfn-lint)")
	}
	cmd := exec.Command("python3", "-c", script, "../../template.yaml", origins)
	cmd.Env = append(cmd.Environ(), "AWS_DEFAULT_REGION=eu-south-1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the SAM transform: %v", err)
	}
	return out
}

// The local cloud answers a portal's preflight as API Gateway would (AllowedOrigins is * locally).
func TestCORS_TheLocalCloudAnswersAPortalsPreflight(t *testing.T) {
	c := localcloud.ForTests(t)
	req, _ := http.NewRequest(http.MethodOptions, c.APIURL+"/v1/orders/TSRM-FI/members", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "idempotency-key") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}
