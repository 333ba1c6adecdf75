package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pecplatform/pec/infra/lambdahost"
)

func TestRun_PrintsOnlyTheToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jwt")
	for _, args := range [][]string{{"-role", "federation"}, {"-role", "order", "-order", "RM-01", "-ttl", "1h"}} {
		var out, errOut bytes.Buffer
		if code := run(append(args, "-keydir", dir), &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		tok := strings.TrimSuffix(out.String(), "\n")
		if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") || errOut.Len() != 0 {
			t.Errorf("%v: stdout %q stderr %q", args, out.String(), errOut.String())
		}
	}
}

func TestRun_RejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{{}, {"-role", "admin"}, {"-role", "order"}, {"-role", "order", "-order", "rm 01"}, {"-role", "federation", "-order", "RM-01"}, {"-role", "federation", "-ttl", "-1h"}} {
		var out, errOut bytes.Buffer
		if code := run(append(args, "-keydir", t.TempDir()), &out, &errOut); code == 0 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q", args, code, out.String())
		}
	}
}

// The token is accepted by the host's JWT authorizer with the template's default issuer and audience.
func TestRun_TokenPassesTheLocalAuthorizer(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if code := run([]string{"-role", "order", "-order", "RM-01", "-keydir", dir}, &out, io.Discard); code != 0 {
		t.Fatal("exit", code)
	}
	var claims map[string]string
	h, err := lambdahost.New(context.Background(), lambdahost.Options{
		TemplatePath: "../../lambdahost/testdata/template.yaml",
		KeyDir:       dir,
		Env:          map[string]string{"FROM_ELSEWHERE": "x"},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Functions: map[string]lambdahost.Constructor{
			"EchoFunction": func(context.Context, func(string) string) (any, error) {
				return func(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
					claims = ev.RequestContext.Authorizer.JWT.Claims
					return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
				}, nil
			},
			"LiteralFunction": nop, "FailFunction": nop, "WorkerFunction": nop, "BatchFunction": nop,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/orders/RM-01", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(out.String()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || claims["role"] != "order" || claims["order"] != "RM-01" {
		b, _ := json.Marshal(claims)
		t.Errorf("status %d claims %s", rec.Code, b)
	}
}

func nop(context.Context, func(string) string) (any, error) { return func() error { return nil }, nil }

// -sub names the person: the token's sub claim, which the audit trail shows.
func TestRun_SubNamesThePerson(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-role", "order", "-order", "RM-01", "-sub", "segreteria@ordine.example", "-keydir", t.TempDir()}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	parts := strings.Split(strings.TrimSpace(out.String()), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["sub"] != "segreteria@ordine.example" || claims["order"] != "RM-01" {
		t.Errorf("claims %v %v", claims, err)
	}
}
