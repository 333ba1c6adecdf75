package lambdahost_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pecplatform/pec/infra/lambdahost"
)

func TestTemplateParameters_DefaultsAndOverrides(t *testing.T) {
	ps, err := lambdahost.TemplateParameters("testdata/template.yaml", map[string]string{"BigThreshold": "99", "Stage": "local"})
	if err != nil {
		t.Fatal(err)
	}
	want := []lambdahost.Parameter{
		{Name: "BatchRate", Default: "rate(1 hour)", HasDefault: true, Value: "rate(1 hour)"},
		{Name: "BigThreshold", Default: "10", HasDefault: true, Value: "99", Overridden: true},
		{Name: "JwtAudience", Default: "pec-platform", HasDefault: true, Value: "pec-platform"},
		{Name: "JwtIssuer", Default: "http://127.0.0.1:3000/local", HasDefault: true, Value: "http://127.0.0.1:3000/local"},
		{Name: "Stage", Default: "local", HasDefault: true, Value: "local", Overridden: true},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("TemplateParameters =\n%+v\nwant\n%+v", ps, want)
	}
	var changed []string
	for _, p := range ps {
		if p.Changed() {
			changed = append(changed, p.Name)
		}
	}
	if !reflect.DeepEqual(changed, []string{"BigThreshold"}) {
		t.Errorf("changed = %v, want only BigThreshold (Stage is overridden with its default)", changed)
	}
}

func TestTemplateParameters_UnknownNameListsTheKnownOnes(t *testing.T) {
	_, err := lambdahost.TemplateParameters("testdata/template.yaml", map[string]string{"Stgae": "prod", "BigTreshold": "1", "Stage": "prod"})
	var unknown *lambdahost.UnknownParametersError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want an UnknownParametersError", err)
	}
	if !reflect.DeepEqual(unknown.Unknown, []string{"BigTreshold", "Stgae"}) {
		t.Errorf("Unknown = %v", unknown.Unknown)
	}
	if want := "BatchRate, BigThreshold, JwtAudience, JwtIssuer, Stage"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not list the known parameters %q", err, want)
	}
}

func TestNew_UnknownParameterFails(t *testing.T) {
	_, err := lambdahost.New(context.Background(), lambdahost.Options{
		TemplatePath: "testdata/template.yaml", KeyDir: t.TempDir(), Parameters: map[string]string{"Stgae": "prod"},
	})
	var unknown *lambdahost.UnknownParametersError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want an UnknownParametersError", err)
	}
}

func TestHost_ParametersAndEnvironment(t *testing.T) {
	f := newFixture(t, func(o *lambdahost.Options) { o.Parameters = map[string]string{"BigThreshold": "7"} })
	var got lambdahost.Parameter
	for _, p := range f.host.Parameters() {
		if p.Name == "BigThreshold" {
			got = p
		}
	}
	if got.Value != "7" || got.Default != "10" || !got.Changed() {
		t.Errorf("BigThreshold = %+v, want value 7, default 10, changed", got)
	}
	env, ok := f.host.Environment("EchoFunction")
	if !ok || env["STAGE"] != "overridden-by-function" {
		t.Errorf("Environment(EchoFunction) = %v, %v", env, ok)
	}
	env["STAGE"] = "changed by the caller"
	if again, _ := f.host.Environment("EchoFunction"); again["STAGE"] == "changed by the caller" {
		t.Error("Environment returned the host's own map, not a copy")
	}
	if _, ok := f.host.Environment("NoSuchFunction"); ok {
		t.Error("Environment(NoSuchFunction) found something")
	}
}
