package lambdahost

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The EventBridge User Guide's and event-ruler's example event, with a few more fields.
const patternEvent = `{
  "version": "0",
  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "012345679012",
  "time": "2017-10-02T16:24:49Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000", "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"],
  "detail": {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    "state": "running",
    "empty": "",
    "nothing": null,
    "flag": true,
    "tags": [],
    "codes": [200, 404],
    "nested": {"deep": {"name": "Alice"}},
    "employees": [
      {"firstName": "John", "lastName": "Doe"},
      {"firstName": "Anna", "lastName": "Smith"},
      {"firstName": "Peter", "lastName": "Jones"}
    ]
  }
}`

func TestMatchPattern(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal([]byte(patternEvent), &ev); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, pattern string
		want          bool
	}{
		// Exact values, AND across fields, OR within a list.
		{"exact", `{"source": ["aws.ec2"]}`, true},
		{"one of", `{"source": ["aws.s3", "aws.ec2"]}`, true},
		{"none of", `{"source": ["aws.s3", "aws.ses"]}`, false},
		{"case-sensitive", `{"source": ["AWS.EC2"]}`, false},
		{"all fields", `{"source": ["aws.ec2"], "detail": {"state": ["running"]}}`, true},
		{"one field fails", `{"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}`, false},
		{"absent field", `{"detail": {"missing": ["x"]}}`, false},
		{"absent parent", `{"nowhere": {"x": ["y"]}}`, false},
		{"number", `{"detail": {"c-count": [5]}}`, true},
		{"number as another literal", `{"detail": {"x-limit": [3.018e2]}}`, true},
		{"a number is not a string", `{"detail": {"c-count": ["5"]}}`, false},
		{"bool", `{"detail": {"flag": [true]}}`, true},
		{"bool is not a string", `{"detail": {"flag": ["true"]}}`, false},
		{"null", `{"detail": {"nothing": [null]}}`, true},
		{"null is not empty", `{"detail": {"nothing": [""]}}`, false},
		{"empty string", `{"detail": {"empty": [""]}}`, true},
		{"empty is not null", `{"detail": {"empty": [null]}}`, false},
		{"a leaf does not match an object", `{"detail": {"nested": ["x"]}}`, false},
		{"nested objects", `{"detail": {"nested": {"deep": {"name": ["Alice"]}}}}`, true},
		{"nested mismatch", `{"detail": {"nested": {"deep": {"name": ["Bob"]}}}}`, false},
		// Arrays in the event: any element.
		{"array: any element", `{"resources": ["arn:aws:ec2:us-east-1:123456789012:volume/vol-1"]}`, true},
		{"array: no element", `{"resources": ["arn:aws:s3:::bucket"]}`, false},
		{"array of numbers", `{"detail": {"codes": [404]}}`, true},
		{"array of objects", `{"detail": {"employees": {"firstName": ["Anna"]}}}`, true},
		{"array of objects: one element as a whole", `{"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}}`, true},
		{"array of objects: fields of two elements", `{"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}}`, false},
		// prefix, suffix, equals-ignore-case, wildcard.
		{"prefix", `{"time": [{"prefix": "2017-10-02"}]}`, true},
		{"prefix mismatch", `{"time": [{"prefix": "2018"}]}`, false},
		{"prefix on a number", `{"detail": {"c-count": [{"prefix": "5"}]}}`, false},
		{"prefix ignoring case", `{"detail-type": [{"prefix": {"equals-ignore-case": "ec2 INSTANCE"}}]}`, true},
		{"prefix on an array", `{"resources": [{"prefix": "arn:aws:ec2:us-east-1:123456789012:volume/"}]}`, true},
		{"suffix", `{"source": [{"suffix": "ec2"}]}`, true},
		{"suffix mismatch", `{"source": [{"suffix": "s3"}]}`, false},
		{"suffix ignoring case", `{"source": [{"suffix": {"equals-ignore-case": "EC2"}}]}`, true},
		{"equals-ignore-case", `{"source": [{"equals-ignore-case": "AWS.EC2"}]}`, true},
		{"equals-ignore-case mismatch", `{"source": [{"equals-ignore-case": "aws.ec"}]}`, false},
		{"wildcard", `{"detail-type": [{"wildcard": "EC2*State-change*"}]}`, true},
		{"wildcard mismatch", `{"detail-type": [{"wildcard": "EC2*Launch*"}]}`, false},
		{"wildcard anchored", `{"source": [{"wildcard": "*ec"}]}`, false},
		{"wildcard escaped star", `{"source": [{"wildcard": "aws\\*"}]}`, false},
		// anything-but.
		{"anything-but", `{"detail": {"state": [{"anything-but": "initializing"}]}}`, true},
		{"anything-but the value", `{"detail": {"state": [{"anything-but": "running"}]}}`, false},
		{"anything-but a number", `{"detail": {"c-count": [{"anything-but": 5}]}}`, false},
		{"anything-but a number, another", `{"detail": {"x-limit": [{"anything-but": 123}]}}`, true},
		{"anything-but a list", `{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}`, true},
		{"anything-but a list with the value", `{"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}`, false},
		{"anything-but numbers", `{"detail": {"x-limit": [{"anything-but": [100, 200, 301.8]}]}}`, false},
		{"anything-but prefix", `{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}`, true},
		{"anything-but prefix of the value", `{"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}`, false},
		{"anything-but suffix", `{"detail": {"state": [{"anything-but": {"suffix": "ning"}}]}}`, false},
		{"anything-but ignoring case", `{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING"]}}]}}`, false},
		{"anything-but wildcard", `{"detail": {"state": [{"anything-but": {"wildcard": "st*"}}]}}`, true},
		{"anything-but an absent field", `{"detail": {"missing": [{"anything-but": "x"}]}}`, false},
		{"anything-but on an array: one other element", `{"detail": {"codes": [{"anything-but": 200}]}}`, true},
		// numeric.
		{"numeric range", `{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}`, true},
		{"numeric range, outside", `{"detail": {"c-count": [{"numeric": [">", 5, "<=", 10]}]}}`, false},
		{"numeric below", `{"detail": {"d-count": [{"numeric": ["<", 10]}]}}`, true},
		{"numeric equal", `{"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}`, true},
		{"numeric on a string", `{"detail": {"state": [{"numeric": [">", 0]}]}}`, false},
		{"numeric on an array", `{"detail": {"codes": [{"numeric": [">=", 400]}]}}`, true},
		// cidr.
		{"cidr", `{"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}`, true},
		{"cidr outside", `{"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}`, false},
		// exists.
		{"exists", `{"detail": {"c-count": [{"exists": true}]}}`, true},
		{"exists, absent", `{"detail": {"missing": [{"exists": true}]}}`, false},
		{"not exists", `{"detail": {"missing": [{"exists": false}]}}`, true},
		{"not exists, present", `{"detail": {"c-count": [{"exists": false}]}}`, false},
		{"exists: null is present", `{"detail": {"nothing": [{"exists": true}]}}`, true},
		{"exists only on leaves", `{"detail": {"nested": [{"exists": true}]}}`, false},
		{"not exists on an intermediate node", `{"detail": {"nested": [{"exists": false}]}}`, true},
		{"exists: an empty array holds no value", `{"detail": {"tags": [{"exists": true}]}}`, false},
		{"not exists under an absent parent", `{"nowhere": {"x": [{"exists": false}]}}`, true},
		{"exists or a value", `{"detail": {"missing": [{"exists": false}, "x"]}}`, true},
		// $or.
		{"$or", `{"source": ["aws.ec2"], "$or": [{"detail-type": ["nope"]}, {"detail": {"c-count": [5]}}]}`, true},
		{"$or, none", `{"$or": [{"detail-type": ["nope"]}, {"detail": {"c-count": [6]}}]}`, false},
		{"$or nested", `{"detail": {"$or": [{"state": ["stopped"]}, {"instance-id": [{"prefix": "i-"}]}]}}`, true},
		// The rules of this project.
		{"an S3 upload rule on another source", `{"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"object": {"key": [{"prefix": "uploads/"}]}}}`, false},
		{"empty pattern", `{}`, true},
	}
	for _, c := range cases {
		var p map[string]any
		if err := json.Unmarshal([]byte(c.pattern), &p); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := checkPattern(p); err != nil {
			t.Errorf("%s: checkPattern: %v", c.name, err)
			continue
		}
		if got := matchPattern(p, ev); got != c.want {
			t.Errorf("%s: %s matches: %v, want %v", c.name, c.pattern, got, c.want)
		}
	}
}

// Patterns come from the template's YAML: its numbers are ints and its keys strings.
func TestMatchPattern_FromYAML(t *testing.T) {
	var p map[string]any
	if err := yaml.Unmarshal([]byte(`
source: [aws.s3]
detail-type: [Object Created]
detail:
  bucket: {name: [pec-local-documentsbucket]}
  object:
    key: [{prefix: uploads/}]
    size: [{numeric: [">", 0, "<=", 10485760]}]
`), &p); err != nil {
		t.Fatal(err)
	}
	if err := checkPattern(p); err != nil {
		t.Fatal(err)
	}
	ev := func(key string, size int) map[string]any {
		var m map[string]any
		b, _ := json.Marshal(map[string]any{"source": "aws.s3", "detail-type": "Object Created",
			"detail": map[string]any{"bucket": map[string]any{"name": "pec-local-documentsbucket"},
				"object": map[string]any{"key": key, "size": size}}})
		_ = json.Unmarshal(b, &m)
		return m
	}
	for _, c := range []struct {
		key  string
		size int
		want bool
	}{{"uploads/a.pdf", 10, true}, {"uploads/a.pdf", 0, false}, {"other/a.pdf", 10, false}, {"uploads/big.pdf", 10485761, false}} {
		if got := matchPattern(p, ev(c.key, c.size)); got != c.want {
			t.Errorf("%s (%d bytes): %v, want %v", c.key, c.size, got, c.want)
		}
	}
}

func TestCheckPattern_RefusesWhatEventBridgeRefuses(t *testing.T) {
	for _, pattern := range []string{
		`{"source": "aws.s3"}`,
		`{"source": []}`,
		`{"source": [{"prefix": 1}]}`,
		`{"source": [{"prefix": "a", "suffix": "b"}]}`,
		`{"source": [{"contains": "s3"}]}`,
		`{"source": [["aws.s3"]]}`,
		`{"detail": {"size": [{"numeric": [">", "1"]}]}}`,
		`{"detail": {"size": [{"numeric": ["<", 10, ">", 1]}]}}`,
		`{"detail": {"size": [{"numeric": ["!=", 1]}]}}`,
		`{"detail": {"size": [{"exists": "yes"}]}}`,
		`{"detail": {"ip": [{"cidr": "10.0.0.0"}]}}`,
		`{"detail": {"state": [{"anything-but": {"contains": "x"}}]}}`,
		`{"detail": {"state": [{"anything-but": [true]}]}}`,
		`{"detail": {"state": [{"anything-but": null}]}}`,
		`{"detail": {"key": [{"wildcard": "a**b"}]}}`,
		`{"$or": [{"source": "aws.s3"}, {"source": ["aws.ses"]}]}`,
		`{"$or": [{"source": ["aws.ses"]}]}`, // one branch: a field named $or, whose values are not values
	} {
		var p map[string]any
		if err := json.Unmarshal([]byte(pattern), &p); err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		if err := checkPattern(p); err == nil {
			t.Errorf("%s: accepted", pattern)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%s: empty error", pattern)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"uploads/*.pdf", "uploads/a/b.pdf", true},
		{"uploads/*.pdf", "uploads/a.pdf.txt", false},
		{"*", "", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*/lib/*", "x/lib/y", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`a\\*`, `a\zzz`, true},
		{"exact", "exact", true},
	} {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}
