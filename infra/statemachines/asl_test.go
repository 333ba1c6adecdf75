// Package statemachines_test checks the state machine definitions statically: moto accepts
// some broken definitions, and AWS only rejects others at deploy time.
package statemachines_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// machines maps each definition file to its resource in template.yaml.
var machines = map[string]string{
	"batch.asl.json":   "BatchStateMachine",
	"mailbox.asl.json": "MailboxStateMachine",
}

var placeholder = regexp.MustCompile(`\$\{(\w+)\}`)

type state struct {
	Type           string
	Next           string
	End            bool
	Default        string
	Resource       string
	TimeoutSeconds *float64
	HeartbeatSecs  *float64 `json:"HeartbeatSeconds"`
	Choices        []struct{ Next string }
	Retry          []struct{ ErrorEquals []string }
	Catch          []struct {
		ErrorEquals []string
		Next        string
	}
}

type definition struct {
	StartAt string
	States  map[string]state
}

// templateSubstitutions returns each state machine's DefinitionSubstitutions keys, and the
// template's parameter defaults.
func templateSubstitutions(t *testing.T) (map[string][]string, map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default any `yaml:"Default"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				DefinitionSubstitutions map[string]yaml.Node `yaml:"DefinitionSubstitutions"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	subs := map[string][]string{}
	for id, r := range doc.Resources {
		if r.Type == "AWS::Serverless::StateMachine" {
			for k := range r.Properties.DefinitionSubstitutions {
				subs[id] = append(subs[id], k)
			}
		}
	}
	defaults := map[string]string{}
	for k, p := range doc.Parameters {
		if p.Default != nil {
			defaults[k] = strings.Trim(yamlString(p.Default), `"`)
		}
	}
	return subs, defaults
}

func yamlString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func load(t *testing.T, file string, defaults map[string]string) (definition, []string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	text := placeholder.ReplaceAllStringFunc(string(raw), func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		used = append(used, name)
		if strings.HasSuffix(name, "Arn") {
			return "arn:aws:lambda:eu-south-1:123456789012:function:" + name
		}
		if v, ok := defaults[name]; ok {
			return v
		}
		return "1"
	})
	var d definition
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		t.Fatalf("%s is not valid JSON after substitution: %v", file, err)
	}
	return d, used
}

func TestStateMachines_AreWellFormed(t *testing.T) {
	subs, defaults := templateSubstitutions(t)
	for file, resource := range machines {
		t.Run(file, func(t *testing.T) {
			d, used := load(t, file, defaults)
			for _, name := range used {
				if !slices.Contains(subs[resource], name) {
					t.Errorf("${%s} is not in %s's DefinitionSubstitutions", name, resource)
				}
			}
			for _, name := range subs[resource] {
				if !slices.Contains(used, name) {
					t.Errorf("substitution %s of %s is never used", name, resource)
				}
			}
			if _, ok := d.States[d.StartAt]; !ok {
				t.Fatalf("StartAt %q is not a state", d.StartAt)
			}
			reached := map[string]bool{}
			var walk func(string)
			walk = func(name string) {
				if reached[name] {
					return
				}
				reached[name] = true
				s, ok := d.States[name]
				if !ok {
					return
				}
				for _, next := range targets(s) {
					if _, ok := d.States[next]; !ok {
						t.Errorf("%s: target %q does not exist", name, next)
						continue
					}
					walk(next)
				}
			}
			walk(d.StartAt)
			for name, s := range d.States {
				if !reached[name] {
					t.Errorf("%s is unreachable", name)
				}
				terminal := s.Type == "Succeed" || s.Type == "Fail" || s.Type == "Choice"
				if !terminal && (s.Next == "") == !s.End {
					t.Errorf("%s needs exactly one of Next or End", name)
				}
				if s.Type == "Choice" && s.Default == "" {
					t.Errorf("%s: a Choice without Default fails the execution on an unmatched input", name)
				}
				if s.Type != "Task" {
					continue
				}
				if len(s.Retry) == 0 || len(s.Catch) == 0 {
					t.Errorf("%s: every Task needs Retry and Catch", name)
				}
				if len(s.Catch) > 0 && !slices.Contains(s.Catch[len(s.Catch)-1].ErrorEquals, "States.ALL") {
					t.Errorf("%s: the last Catch must catch States.ALL", name)
				}
				if strings.HasSuffix(s.Resource, ".waitForTaskToken") {
					if s.TimeoutSeconds == nil && s.HeartbeatSecs == nil {
						t.Errorf("%s waits for a task token without a timeout", name)
					}
					if !catches(s, "States.Timeout") {
						t.Errorf("%s: its timeout is not caught", name)
					}
				}
			}
		})
	}
}

func targets(s state) []string {
	var out []string
	if s.Next != "" {
		out = append(out, s.Next)
	}
	if s.Default != "" {
		out = append(out, s.Default)
	}
	for _, c := range s.Choices {
		out = append(out, c.Next)
	}
	for _, c := range s.Catch {
		out = append(out, c.Next)
	}
	return out
}

func catches(s state, name string) bool {
	for _, c := range s.Catch {
		if slices.Contains(c.ErrorEquals, name) {
			return true
		}
	}
	return false
}
