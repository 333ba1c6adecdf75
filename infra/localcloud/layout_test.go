package localcloud_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pecplatform/pec/infra/localcloud"
)

// TestLayout_TemplateFunctionsMakefileAndHostAgree: every function of template.yaml has a
// functions/<dir>/main.go, a build target in the Makefile, and a constructor in the local host;
// and nothing exists in one place only.
func TestLayout_TemplateFunctionsMakefileAndHostAgree(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				CodeUri string `yaml:"CodeUri"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	fnList := regexp.MustCompile(`(?s)FUNCTIONS := (.*?)\n[A-Z]`).FindSubmatch(mk)
	if fnList == nil {
		t.Fatal("no FUNCTIONS list in the Makefile")
	}
	inMakefile := strings.Fields(strings.ReplaceAll(string(fnList[1]), "\\", " "))
	var inTemplate []string
	for id, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		dir := strings.TrimPrefix(r.Properties.CodeUri, "functions/")
		inTemplate = append(inTemplate, id+":"+dir)
		if _, err := os.Stat("../../functions/" + dir + "/main.go"); err != nil {
			t.Errorf("%s: no functions/%s/main.go", id, dir)
		}
		if localcloud.Functions[r.Properties.CodeUri] == nil {
			t.Errorf("%s: the local host has no constructor for %s", id, r.Properties.CodeUri)
		}
	}
	slices.Sort(inTemplate)
	slices.Sort(inMakefile)
	if !slices.Equal(inTemplate, inMakefile) {
		t.Errorf("Makefile FUNCTIONS %v\n  template functions %v", inMakefile, inTemplate)
	}
	dirs, _ := os.ReadDir("../../functions")
	if len(dirs) != len(inTemplate) || len(localcloud.Functions) != len(inTemplate) {
		t.Errorf("%d function folders, %d host constructors, %d template functions", len(dirs), len(localcloud.Functions), len(inTemplate))
	}
}
