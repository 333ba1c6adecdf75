package localcloud_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A stack as unfavourable to names as CloudFormation allows: a 128-character name with
// capitals, in a long Region of a long partition.
var worstStack = func() map[string]string {
	name := "PEC-Federazione-Nazionale-Ordini-TSRM-PSTRP-Produzione-" + strings.Repeat("Stack", 15)
	name = name[:128]
	return map[string]string{
		"AWS::StackName": name, "AWS::AccountId": "123456789012", "AWS::Region": "ap-southeast-5",
		"AWS::Partition": "aws-iso-b",
		"AWS::StackId":   "arn:aws-iso-b:cloudformation:ap-southeast-5:123456789012:stack/" + name + "/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
	}
}()

// nameRules: what AWS accepts for each kind of name a resource is given.
var nameRules = map[string]*regexp.Regexp{
	"BucketName":    regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`),
	"DashboardName": regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`),
	"FunctionName":  regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`),
	"LogGroupName":  regexp.MustCompile(`^[A-Za-z0-9._/#-]{1,512}$`),
}

// evalName resolves the intrinsics the template builds names with (Sub, Select, Split, Ref of
// a pseudo parameter) for worstStack.
func evalName(n *yaml.Node) (string, error) {
	switch n.Tag {
	case "!Ref":
		if v, ok := worstStack[n.Value]; ok {
			return v, nil
		}
		return "", fmt.Errorf("Ref %s: not a pseudo parameter", n.Value)
	case "!Sub":
		text, vars := n.Value, map[string]string{}
		if n.Kind == yaml.SequenceNode {
			text = n.Content[0].Value
			for i := 0; i+1 < len(n.Content[1].Content); i += 2 {
				v, err := evalName(n.Content[1].Content[i+1])
				if err != nil {
					return "", err
				}
				vars[n.Content[1].Content[i].Value] = v
			}
		}
		var err error
		out := regexp.MustCompile(`\$\{([^}]+)\}`).ReplaceAllStringFunc(text, func(m string) string {
			k := m[2 : len(m)-1]
			if v, ok := vars[k]; ok {
				return v
			}
			if v, ok := worstStack[k]; ok {
				return v
			}
			err = fmt.Errorf("Sub: ${%s} is neither a variable nor a pseudo parameter", k)
			return ""
		})
		return out, err
	case "!Select":
		i := n.Content[0].Value
		list, err := evalList(n.Content[1])
		if err != nil {
			return "", err
		}
		var idx int
		fmt.Sscan(i, &idx)
		if idx >= len(list) {
			return "", fmt.Errorf("Select %d of %d", idx, len(list))
		}
		return list[idx], nil
	case "!!str", "":
		return n.Value, nil
	}
	return "", fmt.Errorf("%s is not handled", n.Tag)
}

func evalList(n *yaml.Node) ([]string, error) {
	if n.Tag != "!Split" {
		return nil, fmt.Errorf("%s is not handled in a list", n.Tag)
	}
	s, err := evalName(n.Content[1])
	return strings.Split(s, n.Content[0].Value), err
}

// TestTemplate_NamesBuiltFromTheStackAreValidForAnyStack: every name the template builds from
// the stack (a bucket's, a function's, a log group's) is valid for a 128-character stack name in
// capitals, and the import job names its bucket and itself as they are named.
func TestTemplate_NamesBuiltFromTheStackAreValidForAnyStack(t *testing.T) {
	doc := readTemplate(t)
	names := map[string]string{} // "<LogicalId>.<Property>" -> name
	rs := at(doc.root, "Resources")
	for _, id := range keys(rs) {
		props := at(rs, id, "Properties")
		for _, prop := range keys(props) {
			n := at(props, prop)
			if !strings.HasSuffix(prop, "Name") || n.Tag == "" || n.Tag == "!!str" {
				continue
			}
			if n.Tag == "!Ref" && at(rs, n.Value) != nil {
				continue // a reference to another resource of the template: named by CloudFormation
			}
			rule := nameRules[prop]
			if rule == nil {
				t.Errorf("%s.%s is built with %s: add its rule to nameRules", id, prop, n.Tag)
				continue
			}
			name, err := evalName(n)
			if err != nil {
				t.Errorf("%s.%s: %v", id, prop, err)
				continue
			}
			if !rule.MatchString(name) {
				t.Errorf("%s.%s is %q (%d characters) for stack %s: AWS refuses it", id, prop, name, len(name), worstStack["AWS::StackName"])
			}
			names[id+"."+prop] = name
		}
	}
	bucket, fn := names["FilesBucket.BucketName"], names["ImportJobFunction.FunctionName"]
	if bucket == "" || fn == "" {
		t.Fatalf("FilesBucket or ImportJobFunction has no name built from the stack: %v", names)
	}
	job := at(rs, "ImportJobFunction", "Properties")
	if got, err := evalName(at(job, "Environment", "Variables", "FILES_BUCKET")); err != nil || got != bucket {
		t.Errorf("ImportJobFunction's FILES_BUCKET is %q (%v), the bucket %q", got, err, bucket)
	}
	var resources []string
	for _, st := range items(at(job, "Policies", "0", "Statement")) {
		if r := at(st, "Resource"); r.Tag == "!Sub" {
			s, err := evalName(r)
			if err != nil {
				t.Fatal(err)
			}
			resources = append(resources, s)
		}
	}
	joined := strings.Join(resources, " ")
	for _, want := range []string{":s3:::" + bucket + "/uploads/*", ":function:" + fn} {
		if !strings.Contains(joined, want) {
			t.Errorf("ImportJobFunction's policy has no %q: %v", want, resources)
		}
	}
}
