package lambdahost

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Pseudo-parameter values of the local stack.
const (
	AccountID = "123456789012"
	StackName = "pec-local"
	// APIID is what the HttpApi's Ref and requestContext.apiId are locally.
	APIID = "local"
)

// Resource types the host acts on.
const (
	typeFunction        = "AWS::Serverless::Function"
	typeLambdaFunction  = "AWS::Lambda::Function"
	typeHTTPAPI         = "AWS::Serverless::HttpApi"
	typeTable           = "AWS::DynamoDB::Table"
	typeStateMachine    = "AWS::Serverless::StateMachine"
	typeSFNStateMachine = "AWS::StepFunctions::StateMachine"
	typeBucket          = "AWS::S3::Bucket"
	implicitHTTPAPI     = "ServerlessHttpApi" // SAM's logical ID for the API of events without ApiId
)

// noValue is what AWS::NoValue resolves to: the enclosing key or list item disappears.
type noValueType struct{}

var noValue = noValueType{}

// resource is one entry of the template's Resources.
type resource struct {
	ID        string
	Type      string
	Condition string
	Props     *yaml.Node // mapping node, or nil
}

// template is a parsed SAM template with the intrinsic functions kept as yaml nodes, resolved on
// demand: the host only resolves what it needs (environment, routes, tables, state machines), so
// IAM policies, alarms and other constructs it has no use for are never evaluated.
type template struct {
	path       string
	region     string
	params     map[string]*yaml.Node // Parameters.<name> mapping nodes
	overrides  map[string]string
	conditions map[string]*yaml.Node
	mappings   *yaml.Node
	globals    *yaml.Node
	resources  map[string]*resource // only those whose Condition holds
	condCache  map[string]bool
	condBusy   map[string]bool
}

func loadTemplate(path, region string, overrides map[string]string) (*template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("template %s: not a YAML mapping", path)
	}
	root := doc.Content[0]
	t := &template{
		path:       path,
		region:     region,
		params:     map[string]*yaml.Node{},
		overrides:  overrides,
		conditions: map[string]*yaml.Node{},
		resources:  map[string]*resource{},
		condCache:  map[string]bool{},
		condBusy:   map[string]bool{},
	}
	for name, n := range mapEntries(get(root, "Parameters")) {
		t.params[name] = n
	}
	for name, n := range mapEntries(get(root, "Conditions")) {
		t.conditions[name] = n
	}
	t.mappings = get(root, "Mappings")
	t.globals = get(root, "Globals")
	for id, n := range mapEntries(get(root, "Resources")) {
		r := &resource{ID: id, Type: scalar(get(n, "Type")), Condition: scalar(get(n, "Condition")), Props: get(n, "Properties")}
		t.resources[id] = r
	}
	if len(t.resources) == 0 {
		return nil, fmt.Errorf("template %s: no Resources", path)
	}
	for id, r := range t.resources {
		if r.Condition == "" {
			continue
		}
		ok, err := t.condition(r.Condition)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		if !ok {
			delete(t.resources, id)
		}
	}
	return t, nil
}

// ofType returns the resources of the given types, sorted by logical ID.
func (t *template) ofType(types ...string) []*resource {
	var out []*resource
	for _, r := range t.resources {
		for _, ty := range types {
			if r.Type == ty {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// globalsFor returns Globals.<section> (Function, HttpApi, ...), or nil.
func (t *template) globalsFor(section string) *yaml.Node { return get(t.globals, section) }

// --- yaml helpers ---

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// mapEntries returns the entries of a mapping node (nil for anything else).
func mapEntries(n *yaml.Node) map[string]*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

// sortedKeys returns a mapping node's keys in document order.
func sortedKeys(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// scalar is the literal text of an untagged scalar node, "" otherwise.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || isShortTag(n.Tag) {
		return ""
	}
	return n.Value
}

func isShortTag(tag string) bool { return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") }

// --- intrinsic functions ---

// intrinsic reports whether n is an intrinsic function call, in short (!Ref x) or long
// ({Ref: x}, {"Fn::Sub": ...}) form, and returns its name (Ref, Fn::Sub, Condition...) and argument.
func intrinsic(n *yaml.Node) (string, *yaml.Node, bool) {
	if n == nil {
		return "", nil, false
	}
	if isShortTag(n.Tag) {
		name := strings.TrimPrefix(n.Tag, "!")
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		arg := *n
		arg.Tag = ""
		if n.Kind == yaml.ScalarNode {
			arg.Tag = "!!str"
		}
		return name, &arg, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, n.Content[1], true
		}
	}
	return "", nil, false
}

// resolve evaluates n to plain Go values: string, bool, int, float64, nil, []any, map[string]any,
// or noValue.
func (t *template) resolve(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode {
		return t.resolve(n.Alias)
	}
	if name, arg, ok := intrinsic(n); ok {
		return t.call(name, arg)
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := t.resolve(n.Content[i+1])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.Content[i].Value, err)
			}
			if v != noValue {
				out[n.Content[i].Value] = v
			}
		}
		return out, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := t.resolve(c)
			if err != nil {
				return nil, err
			}
			if v != noValue {
				out = append(out, v)
			}
		}
		return out, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// resolveString resolves n and renders it as CloudFormation would pass it as a string.
func (t *template) resolveString(n *yaml.Node) (string, error) {
	v, err := t.resolve(n)
	if err != nil {
		return "", err
	}
	return stringify(v)
}

func stringify(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v), nil
	case noValueType:
		return "", nil
	}
	return "", fmt.Errorf("expected a string, got %T", v)
}

func (t *template) call(name string, arg *yaml.Node) (any, error) {
	switch name {
	case "Ref":
		target := scalarOrResolved(t, arg)
		return t.ref(target)
	case "Fn::GetAtt":
		var id, attr string
		if arg.Kind == yaml.SequenceNode && len(arg.Content) == 2 {
			id = scalarOrResolved(t, arg.Content[0])
			attr = scalarOrResolved(t, arg.Content[1])
		} else {
			id, attr, _ = strings.Cut(arg.Value, ".")
		}
		return t.getAtt(id, attr)
	case "Fn::Sub":
		return t.sub(arg)
	case "Fn::Join":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return nil, errors.New("Fn::Join needs [delimiter, [values]]")
		}
		delim, err := t.resolveString(arg.Content[0])
		if err != nil {
			return nil, err
		}
		list, err := t.resolveList(arg.Content[1])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(list))
		for i, v := range list {
			if parts[i], err = stringify(v); err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return nil, errors.New("Fn::Select needs [index, [values]]")
		}
		idx, err := t.resolve(arg.Content[0])
		if err != nil {
			return nil, err
		}
		list, err := t.resolveList(arg.Content[1])
		if err != nil {
			return nil, err
		}
		var i int
		if _, err := fmt.Sscan(fmt.Sprint(idx), &i); err != nil || i < 0 || i >= len(list) {
			return nil, fmt.Errorf("Fn::Select: index %v out of range", idx)
		}
		return list[i], nil
	case "Fn::Split":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return nil, errors.New("Fn::Split needs [delimiter, string]")
		}
		delim, err := t.resolveString(arg.Content[0])
		if err != nil {
			return nil, err
		}
		s, err := t.resolveString(arg.Content[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
			return nil, errors.New("Fn::If needs [condition, then, else]")
		}
		ok, err := t.condition(scalarOrResolved(t, arg.Content[0]))
		if err != nil {
			return nil, err
		}
		if ok {
			return t.resolve(arg.Content[1])
		}
		return t.resolve(arg.Content[2])
	case "Fn::FindInMap":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) < 3 {
			return nil, errors.New("Fn::FindInMap needs [map, key, key]")
		}
		node := t.mappings
		for _, k := range arg.Content[:3] {
			key, err := t.resolveString(k)
			if err != nil {
				return nil, err
			}
			if node = get(node, key); node == nil {
				if len(arg.Content) == 4 { // AWS::LanguageExtensions DefaultValue
					return t.resolve(get(arg.Content[3], "DefaultValue"))
				}
				return nil, fmt.Errorf("Fn::FindInMap: no %q", key)
			}
		}
		return t.resolve(node)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return t.evalCondition(name, arg)
	}
	return nil, fmt.Errorf("%s is not supported by the local host", name)
}

// scalarOrResolved returns the text of a plain scalar, resolving it if it is an intrinsic.
func scalarOrResolved(t *template, n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if _, _, ok := intrinsic(n); ok {
		s, _ := t.resolveString(n)
		return s
	}
	return n.Value
}

func (t *template) resolveList(n *yaml.Node) ([]any, error) {
	v, err := t.resolve(n)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list, got %T", v)
	}
	return list, nil
}

func (t *template) pseudo(name string) (any, bool) {
	switch name {
	case "AWS::Region":
		return t.region, true
	case "AWS::AccountId":
		return AccountID, true
	case "AWS::StackName":
		return StackName, true
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", t.region, AccountID, StackName), true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::NoValue":
		return noValue, true
	case "AWS::NotificationARNs":
		return []any{}, true
	}
	return nil, false
}

func (t *template) ref(name string) (any, error) {
	if v, ok := t.pseudo(name); ok {
		return v, nil
	}
	if p, ok := t.params[name]; ok {
		return t.param(name, p)
	}
	if name == implicitHTTPAPI {
		return APIID, nil
	}
	r, ok := t.resources[name]
	if !ok {
		return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
	}
	switch r.Type {
	case typeTable:
		return t.physicalName(r, "TableName")
	case typeFunction, typeLambdaFunction:
		return t.physicalName(r, "FunctionName")
	case typeStateMachine, typeSFNStateMachine:
		return t.stateMachineArn(r)
	case typeHTTPAPI:
		return APIID, nil
	case "AWS::SNS::Topic":
		n, err := t.physicalName(r, "TopicName")
		return fmt.Sprintf("arn:aws:sns:%s:%s:%s", t.region, AccountID, n), err
	case "AWS::SQS::Queue":
		n, err := t.physicalName(r, "QueueName")
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", t.region, AccountID, n), err
	case typeBucket:
		return t.bucketName(r), nil
	case "AWS::SES::ConfigurationSet":
		return t.physicalName(r, "Name")
	}
	return r.ID, nil
}

func (t *template) param(name string, p *yaml.Node) (any, error) {
	v, ok := t.overrides[name]
	if !ok {
		d := get(p, "Default")
		if d == nil {
			return nil, fmt.Errorf("parameter %s has no Default and no local value", name)
		}
		s, err := t.resolveString(d)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		v = s
	}
	if ty := scalar(get(p, "Type")); ty == "CommaDelimitedList" || strings.HasPrefix(ty, "List<") {
		var out []any
		for _, s := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	}
	return v, nil
}

// physicalName is the resolved name property of a resource, or its logical ID.
func (t *template) physicalName(r *resource, prop string) (string, error) {
	n := get(r.Props, prop)
	if n == nil {
		return r.ID, nil
	}
	s, err := t.resolveString(n)
	if err != nil {
		return "", fmt.Errorf("%s.%s: %w", r.ID, prop, err)
	}
	return s, nil
}

// bucketName is an AWS::S3::Bucket's name: its BucketName if set and resolvable locally (lower
// case, as S3 wants), else a deterministic name derived from the stack name and the logical ID
// (CloudFormation's own would end in a random suffix).
func (t *template) bucketName(r *resource) string {
	if n := get(r.Props, "BucketName"); n != nil {
		if s, err := t.resolveString(n); err == nil && s != "" {
			return strings.ToLower(s)
		}
	}
	return defaultBucketName(r.ID)
}

func defaultBucketName(logicalID string) string {
	name := strings.ToLower(StackName + "-" + logicalID)
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-.")
	}
	return name
}

func (t *template) stateMachineName(r *resource) (string, error) {
	prop := "Name"
	if r.Type == typeSFNStateMachine {
		prop = "StateMachineName"
	}
	return t.physicalName(r, prop)
}

func (t *template) stateMachineArn(r *resource) (string, error) {
	n, err := t.stateMachineName(r)
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", t.region, AccountID, n), err
}

func (t *template) functionArn(r *resource) (string, error) {
	n, err := t.physicalName(r, "FunctionName")
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", t.region, AccountID, n), err
}

func (t *template) tableArn(r *resource) (string, error) {
	n, err := t.physicalName(r, "TableName")
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", t.region, AccountID, n), err
}

func (t *template) getAtt(id, attr string) (any, error) {
	r, ok := t.resources[id]
	if !ok {
		return nil, fmt.Errorf("GetAtt %s.%s: no such resource", id, attr)
	}
	switch {
	case (r.Type == typeFunction || r.Type == typeLambdaFunction) && attr == "Arn":
		return t.functionArn(r)
	case r.Type == typeTable && attr == "Arn":
		return t.tableArn(r)
	case r.Type == typeTable && attr == "StreamArn":
		a, err := t.tableArn(r)
		return a + "/stream/local", err
	case (r.Type == typeStateMachine || r.Type == typeSFNStateMachine) && attr == "Arn":
		return t.stateMachineArn(r)
	case (r.Type == typeStateMachine || r.Type == typeSFNStateMachine) && attr == "Name":
		return t.stateMachineName(r)
	case r.Type == "AWS::SQS::Queue" && attr == "Arn":
		n, err := t.physicalName(r, "QueueName")
		return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", t.region, AccountID, n), err
	case r.Type == typeBucket && attr == "Arn":
		return "arn:aws:s3:::" + t.bucketName(r), nil
	}
	return nil, fmt.Errorf("GetAtt %s.%s (%s) is not supported by the local host", id, attr, r.Type)
}

func (t *template) sub(arg *yaml.Node) (any, error) {
	var text string
	vars := map[string]any{}
	switch arg.Kind {
	case yaml.ScalarNode:
		text = arg.Value
	case yaml.SequenceNode:
		if len(arg.Content) != 2 {
			return nil, errors.New("Fn::Sub needs a string or [string, {variables}]")
		}
		text = arg.Content[0].Value
		for k, n := range mapEntries(arg.Content[1]) {
			v, err := t.resolve(n)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = v
		}
	default:
		return nil, errors.New("Fn::Sub needs a string or [string, {variables}]")
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.Index(text[i:], "}")
		if j < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		name := text[i+2 : i+j]
		text = text[i+j+1:]
		if strings.HasPrefix(name, "!") { // ${!Literal} stays ${Literal}
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		var v any
		var err error
		if vv, ok := vars[name]; ok {
			v = vv
		} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err = t.getAtt(id, attr)
		} else {
			v, err = t.ref(name)
		}
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		s, err := stringify(v)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(s)
	}
}

// --- conditions ---

func (t *template) condition(name string) (bool, error) {
	if v, ok := t.condCache[name]; ok {
		return v, nil
	}
	n, ok := t.conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %q", name)
	}
	if t.condBusy[name] {
		return false, fmt.Errorf("condition %q refers to itself", name)
	}
	t.condBusy[name] = true
	defer delete(t.condBusy, name)
	fn, arg, ok := intrinsic(n)
	if !ok {
		if c := get(n, "Condition"); c != nil && len(n.Content) == 2 {
			return t.condition(c.Value)
		}
		return false, fmt.Errorf("condition %q: not a condition function", name)
	}
	v, err := t.evalCondition(fn, arg)
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", name, err)
	}
	t.condCache[name] = v
	return v, nil
}

func (t *template) evalCondition(fn string, arg *yaml.Node) (bool, error) {
	operand := func(n *yaml.Node) (bool, error) {
		if c := get(n, "Condition"); c != nil && len(n.Content) == 2 {
			return t.condition(c.Value)
		}
		if name, a, ok := intrinsic(n); ok {
			if name == "Condition" {
				return t.condition(a.Value)
			}
			return t.evalCondition(name, a)
		}
		return false, fmt.Errorf("line %d: expected a condition", n.Line)
	}
	switch fn {
	case "Condition":
		return t.condition(arg.Value)
	case "Fn::Equals":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return false, errors.New("Fn::Equals needs two values")
		}
		a, err := t.resolveString(arg.Content[0])
		if err != nil {
			return false, err
		}
		b, err := t.resolveString(arg.Content[1])
		return a == b, err
	case "Fn::Not":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 1 {
			return false, errors.New("Fn::Not needs one condition")
		}
		v, err := operand(arg.Content[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		if arg.Kind != yaml.SequenceNode {
			return false, fmt.Errorf("%s needs a list", fn)
		}
		for _, c := range arg.Content {
			v, err := operand(c)
			if err != nil {
				return false, err
			}
			if fn == "Fn::And" && !v {
				return false, nil
			}
			if fn == "Fn::Or" && v {
				return true, nil
			}
		}
		return fn == "Fn::And", nil
	}
	return false, fmt.Errorf("%s is not a condition function", fn)
}
