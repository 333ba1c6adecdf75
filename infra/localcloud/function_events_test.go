package localcloud_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pecplatform/pec/infra/localcloud"
)

// TestFunctionEvents_EveryFunctionAndScheduleHasASample: each function that no API route
// serves has a sample event in events/functions/<LogicalId>-*.json (for `make invoke`), each
// scheduled function a <LogicalId>-schedule.json, and every file there names a function of the
// template and is JSON.
func TestFunctionEvents_EveryFunctionAndScheduleHasASample(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Events map[string]struct {
					Type string `yaml:"Type"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../events/functions/*.json")
	has := func(prefix string) bool {
		return slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(filepath.Base(f), prefix) })
	}
	functions := map[string]bool{}
	for id, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		functions[id] = true
		api, scheduled := false, false
		for _, ev := range r.Properties.Events {
			api = api || ev.Type == "HttpApi"
			scheduled = scheduled || ev.Type == "ScheduleV2" || ev.Type == "Schedule"
		}
		if !api && !has(id+"-") {
			t.Errorf("%s: no events/functions/%s-*.json", id, id)
		}
		if scheduled && !has(id+"-schedule.json") {
			t.Errorf("%s is scheduled: no events/functions/%s-schedule.json", id, id)
		}
	}
	for _, f := range files {
		id, _, _ := strings.Cut(filepath.Base(f), "-")
		if !functions[id] {
			t.Errorf("%s names no function of the template", f)
		}
		if b, err := os.ReadFile(f); err != nil || !json.Valid(b) {
			t.Errorf("%s is not JSON", f)
		}
	}
}

// TestFunctionEvents_SchedulesRunThroughTheInvokeAPI runs each schedule's sample event through
// the host's Lambda Invoke API, as `make invoke` does: the function answers without an error.
// Not parallel: a scheduled run touches every Order.
func TestFunctionEvents_SchedulesRunThroughTheInvokeAPI(t *testing.T) {
	files, _ := filepath.Glob("../../events/functions/*-schedule.json")
	if len(files) == 0 {
		t.Fatal("no schedule events")
	}
	for _, f := range files {
		id, _, _ := strings.Cut(filepath.Base(f), "-")
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(localcloud.ForTests(t).APIURL+"/2015-03-31/functions/"+id+"/invocations", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("%s with %s: %d %s %s", id, filepath.Base(f), resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), out)
		}
	}
}
