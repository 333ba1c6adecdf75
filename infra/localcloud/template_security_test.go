package localcloud_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Data at rest and least privilege, read from template.yaml as deployed: the table and every
// bucket encrypted, recoverable and private, and no function allowed `*` except where IAM
// cannot scope the action.

// wildcardResourceAllowed are the actions that may name Resource "*", and why.
var wildcardResourceAllowed = map[string]string{
	// A task token is not an ARN: SendTaskSuccess/Failure cannot be scoped to a state machine.
	"states:SendTaskSuccess": "task tokens cannot be scoped by IAM",
	"states:SendTaskFailure": "task tokens cannot be scoped by IAM",
	// The sender identity is a parameter (SesFrom); its ARN is not known to the template.
	"ses:SendEmail": "the SES identity is configuration",
	// A state machine's logging: CloudWatch Logs' vended-log delivery has no resource-level
	// permissions (AWS documents Resource "*" for these).
	"logs:CreateLogDelivery":        "log delivery has no resource-level permissions",
	"logs:GetLogDelivery":           "log delivery has no resource-level permissions",
	"logs:UpdateLogDelivery":        "log delivery has no resource-level permissions",
	"logs:DeleteLogDelivery":        "log delivery has no resource-level permissions",
	"logs:ListLogDeliveries":        "log delivery has no resource-level permissions",
	"logs:PutResourcePolicy":        "log delivery has no resource-level permissions",
	"logs:DescribeResourcePolicies": "log delivery has no resource-level permissions",
	"logs:DescribeLogGroups":        "log delivery has no resource-level permissions",
	// A state machine's X-Ray tracing: X-Ray has no resource-level permissions.
	"xray:PutTraceSegments":    "X-Ray has no resource-level permissions",
	"xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
	"xray:GetSamplingRules":    "X-Ray has no resource-level permissions",
	"xray:GetSamplingTargets":  "X-Ray has no resource-level permissions",
}

// samPolicyTemplatesAllowed are the SAM policy templates a resource may use: each is scoped by
// its argument.
var samPolicyTemplatesAllowed = map[string]string{"LambdaInvokePolicy": "FunctionName"}

type templateDoc struct{ root *yaml.Node }

func readTemplate(t *testing.T) templateDoc {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return templateDoc{doc.Content[0]}
}

// at follows a path of mapping keys and sequence indexes ("0"); nil when absent.
func at(n *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
				}
			}
			n = next
		case yaml.SequenceNode:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return n
}

func value(n *yaml.Node, path ...string) string {
	if n = at(n, path...); n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// items is a node as a list: a sequence's elements, or the node itself.
func items(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	default:
		return []*yaml.Node{n}
	}
}

// resources returns the template's resources of one type, by logical ID.
func (d templateDoc) resources(typ string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	rs := at(d.root, "Resources")
	for i := 0; i+1 < len(rs.Content); i += 2 {
		if value(rs.Content[i+1], "Type") == typ {
			out[rs.Content[i].Value] = rs.Content[i+1]
		}
	}
	return out
}

func TestTemplate_TableIsEncryptedRecoverableAndProtected(t *testing.T) {
	tables := readTemplate(t).resources("AWS::DynamoDB::Table")
	if len(tables) == 0 {
		t.Fatal("no table in the template")
	}
	for id, r := range tables {
		p := at(r, "Properties")
		if value(p, "SSESpecification", "SSEEnabled") != "true" || value(p, "SSESpecification", "SSEType") != "KMS" {
			t.Errorf("%s: SSESpecification must be SSEEnabled: true, SSEType: KMS", id)
		}
		if value(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != "true" {
			t.Errorf("%s: point-in-time recovery is off", id)
		}
		if value(p, "DeletionProtectionEnabled") != "true" || value(r, "DeletionPolicy") != "Retain" {
			t.Errorf("%s: want DeletionProtectionEnabled: true and DeletionPolicy: Retain", id)
		}
	}
}

func TestTemplate_EveryBucketIsEncryptedPrivateVersionedAndExpires(t *testing.T) {
	buckets := readTemplate(t).resources("AWS::S3::Bucket")
	if len(buckets) == 0 {
		t.Fatal("no bucket in the template")
	}
	for id, r := range buckets {
		p := at(r, "Properties")
		rules := items(at(p, "BucketEncryption", "ServerSideEncryptionConfiguration"))
		if len(rules) == 0 {
			t.Errorf("%s: no default encryption", id)
		}
		for _, rule := range rules {
			if alg := value(rule, "ServerSideEncryptionByDefault", "SSEAlgorithm"); !slices.Contains([]string{"AES256", "aws:kms", "aws:kms:dsse"}, alg) {
				t.Errorf("%s: default encryption %q", id, alg)
			}
		}
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if value(p, "PublicAccessBlockConfiguration", k) != "true" {
				t.Errorf("%s: PublicAccessBlockConfiguration.%s is not true", id, k)
			}
		}
		if owners := items(at(p, "OwnershipControls", "Rules")); len(owners) != 1 || value(owners[0], "ObjectOwnership") != "BucketOwnerEnforced" {
			t.Errorf("%s: want OwnershipControls BucketOwnerEnforced (no ACLs)", id)
		}
		if value(p, "VersioningConfiguration", "Status") != "Enabled" {
			t.Errorf("%s: versioning is not enabled", id)
		}
		expires := 0
		for _, rule := range items(at(p, "LifecycleConfiguration", "Rules")) {
			if value(rule, "Status") != "Enabled" {
				continue
			}
			if at(rule, "ExpirationInDays") != nil || at(rule, "ExpirationDate") != nil {
				expires++
				// With versioning, an expired object stays as a noncurrent version: it must go too.
				if at(rule, "NoncurrentVersionExpiration") == nil {
					t.Errorf("%s: lifecycle rule %s expires objects but keeps their noncurrent versions forever", id, value(rule, "Id"))
				}
			}
		}
		if expires == 0 {
			t.Errorf("%s: no enabled lifecycle rule expires objects: what it holds is kept forever", id)
		}
	}
}

func TestTemplate_NoPolicyAllowsEverything(t *testing.T) {
	doc := readTemplate(t)
	checked := 0
	for _, typ := range []string{"AWS::Serverless::Function", "AWS::Serverless::StateMachine"} {
		for id, r := range doc.resources(typ) {
			for _, pol := range items(at(r, "Properties", "Policies")) {
				checked++
				checkPolicy(t, id, pol)
			}
		}
	}
	for _, typ := range []string{"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for id, r := range doc.resources(typ) {
			if d := at(r, "Properties", "PolicyDocument"); d != nil {
				checked++
				checkStatements(t, id, at(d, "Statement"))
			}
			for _, pol := range items(at(r, "Properties", "Policies")) {
				checked++
				checkStatements(t, id, at(pol, "PolicyDocument", "Statement"))
			}
			if at(r, "Properties", "ManagedPolicyArns") != nil {
				t.Errorf("%s: managed policies cannot be checked here; write the statements", id)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no policy found: the test reads the template wrongly")
	}
}

// checkPolicy checks one entry of a SAM resource's Policies.
func checkPolicy(t *testing.T, id string, pol *yaml.Node) {
	t.Helper()
	if pol.Kind == yaml.ScalarNode {
		t.Errorf("%s: managed policy %q: name the actions and resources in a Statement", id, pol.Value)
		return
	}
	if stmts := at(pol, "Statement"); stmts != nil {
		checkStatements(t, id, stmts)
		return
	}
	for i := 0; i+1 < len(pol.Content); i += 2 {
		name := pol.Content[i].Value
		arg, ok := samPolicyTemplatesAllowed[name]
		if !ok {
			t.Errorf("%s: SAM policy template %s is not in the allowlist of this test", id, name)
			continue
		}
		if v := at(pol.Content[i+1], arg); v == nil || (v.Kind == yaml.ScalarNode && strings.Contains(v.Value, "*")) {
			t.Errorf("%s: %s without a scoped %s", id, name, arg)
		}
	}
}

func checkStatements(t *testing.T, id string, stmts *yaml.Node) {
	t.Helper()
	for _, s := range items(stmts) {
		if at(s, "NotAction") != nil || at(s, "NotResource") != nil {
			t.Errorf("%s: NotAction/NotResource allow everything else", id)
		}
		if value(s, "Effect") != "Allow" {
			continue
		}
		var actions []string
		for _, a := range items(at(s, "Action")) {
			actions = append(actions, a.Value)
			if strings.Contains(a.Value, "*") {
				t.Errorf("%s: action %q: name the actions", id, a.Value)
			}
		}
		for _, r := range items(at(s, "Resource")) {
			if r.Kind != yaml.ScalarNode || r.Tag != "!!str" || r.Value != "*" {
				continue // an ARN, possibly with a wildcard suffix (index/*, prefix/*)
			}
			for _, a := range actions {
				if _, ok := wildcardResourceAllowed[a]; !ok {
					t.Errorf("%s: %s on Resource \"*\": scope it to the resources it needs", id, a)
				}
			}
		}
	}
}
