package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"go.yaml.in/yaml/v3"
)

// RoleArn is the role every local state machine is created with.
const RoleArn = "arn:aws:iam::" + AccountID + ":role/local"

// tableSpec is the part of an AWS::DynamoDB::Table that DynamoDB Local needs.
type tableSpec struct {
	Name   string
	create *dynamodb.CreateTableInput
	ttl    *ddbtypes.TimeToLiveSpecification
}

// CloudFormation shapes of the table properties the host uses.
type (
	cfnKey        struct{ AttributeName, KeyType string }
	cfnAttr       struct{ AttributeName, AttributeType string }
	cfnThroughput struct{ ReadCapacityUnits, WriteCapacityUnits int64 }
	cfnIndex      struct {
		IndexName  string
		KeySchema  []cfnKey
		Projection struct {
			ProjectionType   string
			NonKeyAttributes []string
		}
		ProvisionedThroughput *cfnThroughput
	}
	cfnTable struct {
		AttributeDefinitions    []cfnAttr
		KeySchema               []cfnKey
		GlobalSecondaryIndexes  []cfnIndex
		LocalSecondaryIndexes   []cfnIndex
		BillingMode             string
		ProvisionedThroughput   *cfnThroughput
		StreamSpecification     *struct{ StreamViewType string }
		TimeToLiveSpecification *struct {
			AttributeName string
			Enabled       bool
		}
	}
)

func (h *Host) buildTable(r *resource) (*tableSpec, error) {
	name, err := h.tpl.physicalName(r, "TableName")
	if err != nil {
		return nil, err
	}
	// Only these properties are resolved: the others (SSE, PITR, deletion protection, tags) mean
	// nothing to DynamoDB Local and may use intrinsics the host cannot resolve.
	used := map[string]any{}
	for _, k := range []string{"AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
		"BillingMode", "ProvisionedThroughput", "StreamSpecification", "TimeToLiveSpecification"} {
		if n := get(r.Props, k); n != nil {
			v, err := h.tpl.resolve(n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			used[k] = v
		}
	}
	raw, _ := json.Marshal(used)
	var c cfnTable
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("table properties: %w", err)
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest}
	if c.BillingMode != "" {
		in.BillingMode = ddbtypes.BillingMode(c.BillingMode)
	} else if c.ProvisionedThroughput != nil {
		in.BillingMode = ddbtypes.BillingModeProvisioned
	}
	in.ProvisionedThroughput = throughput(c.ProvisionedThroughput)
	for _, a := range c.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType)})
	}
	in.KeySchema = keySchema(c.KeySchema)
	for _, g := range c.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName), KeySchema: keySchema(g.KeySchema), Projection: projection(g),
			ProvisionedThroughput: throughput(g.ProvisionedThroughput)})
	}
	for _, l := range c.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName: aws.String(l.IndexName), KeySchema: keySchema(l.KeySchema), Projection: projection(l)})
	}
	if c.StreamSpecification != nil && c.StreamSpecification.StreamViewType != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(c.StreamSpecification.StreamViewType)}
	}
	if len(in.KeySchema) == 0 {
		return nil, errors.New("no KeySchema")
	}
	t := &tableSpec{Name: name, create: in}
	if s := c.TimeToLiveSpecification; s != nil && s.Enabled && s.AttributeName != "" {
		t.ttl = &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(s.AttributeName), Enabled: aws.Bool(true)}
	}
	return t, nil
}

func keySchema(ks []cfnKey) []ddbtypes.KeySchemaElement {
	var out []ddbtypes.KeySchemaElement
	for _, k := range ks {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	return out
}

func projection(ix cfnIndex) *ddbtypes.Projection {
	p := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(ix.Projection.ProjectionType), NonKeyAttributes: ix.Projection.NonKeyAttributes}
	if p.ProjectionType == "" {
		p.ProjectionType = ddbtypes.ProjectionTypeAll
	}
	return p
}

func throughput(t *cfnThroughput) *ddbtypes.ProvisionedThroughput {
	if t == nil {
		return nil
	}
	return &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(t.ReadCapacityUnits), WriteCapacityUnits: aws.Int64(t.WriteCapacityUnits)}
}

// machineSpec is an AWS::Serverless::StateMachine with its definition substituted.
type machineSpec struct {
	Name       string
	Arn        string
	Type       sfntypes.StateMachineType
	Definition string // JSON
}

func (h *Host) buildStateMachine(r *resource) (*machineSpec, error) {
	t := h.tpl
	m := &machineSpec{Type: sfntypes.StateMachineTypeStandard}
	var err error
	if m.Name, err = t.stateMachineName(r); err != nil {
		return nil, err
	}
	if m.Arn, err = t.stateMachineArn(r); err != nil {
		return nil, err
	}
	if n := get(r.Props, "Type"); n != nil {
		s, err := t.resolveString(n)
		if err != nil {
			return nil, fmt.Errorf("Type: %w", err)
		}
		m.Type = sfntypes.StateMachineType(strings.ToUpper(s))
	}
	var text string
	switch {
	case get(r.Props, "DefinitionUri") != nil:
		uri := get(r.Props, "DefinitionUri")
		if uri.Kind != yaml.ScalarNode {
			return nil, errors.New("DefinitionUri must be a local path (S3 locations are not supported locally)")
		}
		p, err := t.resolveString(uri)
		if err != nil {
			return nil, fmt.Errorf("DefinitionUri: %w", err)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(t.path), p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("DefinitionUri: %w", err)
		}
		text = string(b)
	case get(r.Props, "Definition") != nil:
		v, err := t.resolve(get(r.Props, "Definition"))
		if err != nil {
			return nil, fmt.Errorf("Definition: %w", err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("Definition: %w", err)
		}
		text = string(b)
	default:
		return nil, errors.New("no DefinitionUri or Definition")
	}
	subs := get(r.Props, "DefinitionSubstitutions")
	for _, k := range sortedKeys(subs) {
		v, err := t.resolveString(get(subs, k))
		if err != nil {
			return nil, fmt.Errorf("DefinitionSubstitutions.%s: %w", k, err)
		}
		text = strings.ReplaceAll(text, "${"+k+"}", v)
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		if yerr := yaml.Unmarshal([]byte(text), &def); yerr != nil || def == nil { // ASL may be written in YAML
			return nil, fmt.Errorf("definition is neither JSON nor YAML: %w", err)
		}
		b, err := json.Marshal(def)
		if err != nil {
			return nil, fmt.Errorf("definition: %w", err)
		}
		text = string(b)
	}
	if err := checkASL(def); err != nil {
		return nil, fmt.Errorf("definition: %w", err)
	}
	m.Definition = text
	return m, nil
}

// checkASL catches the broken definitions moto would accept: a missing StartAt, a transition to a
// state that does not exist, a state that neither ends nor goes anywhere.
func checkASL(def map[string]any) error {
	states, _ := def["States"].(map[string]any)
	start, _ := def["StartAt"].(string)
	if len(states) == 0 {
		return errors.New("no States")
	}
	if _, ok := states[start]; !ok {
		return fmt.Errorf("StartAt %q is not a state", start)
	}
	var errs []error
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	target := func(state, field string, v any) {
		if next, ok := v.(string); ok {
			if _, exists := states[next]; !exists {
				errs = append(errs, fmt.Errorf("state %q: %s %q is not a state", state, field, next))
			}
		}
	}
	for _, name := range names {
		s, ok := states[name].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("state %q is not an object", name))
			continue
		}
		ty, _ := s["Type"].(string)
		target(name, "Next", s["Next"])
		target(name, "Default", s["Default"])
		for _, list := range []string{"Choices", "Catch"} {
			items, _ := s[list].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					target(name, list+".Next", m["Next"])
				}
			}
		}
		_, hasNext := s["Next"]
		end, _ := s["End"].(bool)
		switch ty {
		case "Choice", "Succeed", "Fail":
		case "Task", "Pass", "Wait", "Map", "Parallel":
			if !hasNext && !end {
				errs = append(errs, fmt.Errorf("state %q has neither Next nor End", name))
			}
		default:
			errs = append(errs, fmt.Errorf("state %q: unknown Type %q", name, ty))
		}
		for _, key := range []string{"Iterator", "ItemProcessor"} {
			if sub, ok := s[key].(map[string]any); ok {
				if err := checkASL(sub); err != nil {
					errs = append(errs, fmt.Errorf("state %q %s: %w", name, key, err))
				}
			}
		}
		branches, _ := s["Branches"].([]any)
		for i, b := range branches {
			if sub, ok := b.(map[string]any); ok {
				if err := checkASL(sub); err != nil {
					errs = append(errs, fmt.Errorf("state %q branch %d: %w", name, i, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Setup creates every table on DynamoDB Local, and every state machine and S3 bucket on moto. It
// is idempotent: what exists already is kept (tables, buckets) or updated (state machine
// definitions, bucket encryption and lifecycle rules).
func (h *Host) Setup(ctx context.Context) error {
	var errs []error
	if len(h.tables) > 0 {
		if h.dynamoURL == "" {
			return errors.New("setup: no DynamoDBURL")
		}
		db := dynamodb.New(dynamodb.Options{
			Region:                          h.region,
			BaseEndpoint:                    aws.String(h.dynamoURL),
			Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
			DisableValidateResponseChecksum: true,
		})
		for _, t := range h.tables {
			if err := h.setupTable(ctx, db, t); err != nil {
				errs = append(errs, fmt.Errorf("table %s: %w", t.Name, err))
			}
		}
	}
	if len(h.machines) > 0 {
		if h.motoURL == "" {
			return errors.Join(append(errs, errors.New("setup: no MotoURL"))...)
		}
		sf := sfn.New(sfn.Options{
			Region:       h.region,
			BaseEndpoint: aws.String(h.motoURL),
			Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		})
		for _, m := range h.machines {
			if err := h.setupStateMachine(ctx, sf, m); err != nil {
				errs = append(errs, fmt.Errorf("state machine %s: %w", m.Name, err))
			}
		}
	}
	if len(h.buckets) > 0 {
		if h.s3 == nil {
			return errors.Join(append(errs, errors.New("setup: no MotoURL"))...)
		}
		for _, b := range h.buckets {
			if err := h.setupBucket(ctx, h.s3, b); err != nil {
				errs = append(errs, fmt.Errorf("bucket %s: %w", b.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (h *Host) setupTable(ctx context.Context, db *dynamodb.Client, t *tableSpec) error {
	_, err := db.CreateTable(ctx, t.create)
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		h.log.Info("table exists", "table", t.Name)
	case err != nil:
		return err
	default:
		h.log.Info("table created", "table", t.Name)
	}
	if t.ttl == nil {
		return nil
	}
	d, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: t.create.TableName})
	if err != nil {
		return err
	}
	if ttl := d.TimeToLiveDescription; ttl != nil && aws.ToString(ttl.AttributeName) == aws.ToString(t.ttl.AttributeName) &&
		(ttl.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || ttl.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: t.create.TableName, TimeToLiveSpecification: t.ttl})
	return err
}

func (h *Host) setupStateMachine(ctx context.Context, sf *sfn.Client, m *machineSpec) error {
	out, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(m.Name), Definition: aws.String(m.Definition), RoleArn: aws.String(RoleArn), Type: m.Type,
	})
	var exists *sfntypes.StateMachineAlreadyExists
	switch {
	case errors.As(err, &exists):
	case err != nil:
		return err
	case aws.ToString(out.StateMachineArn) != m.Arn:
		return fmt.Errorf("moto created %s, the template's ARN is %s", aws.ToString(out.StateMachineArn), m.Arn)
	}
	// moto answers CreateStateMachine for an existing name with the existing machine, even when the
	// definition differs (AWS says StateMachineAlreadyExists): compare, and update if needed.
	d, err := sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(m.Arn)})
	if err != nil {
		return err
	}
	if aws.ToString(d.Definition) == m.Definition {
		h.log.Info("state machine ready", "state_machine", m.Arn)
		return nil
	}
	if _, err := sf.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
		StateMachineArn: aws.String(m.Arn), Definition: aws.String(m.Definition), RoleArn: aws.String(RoleArn),
	}); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	h.log.Info("state machine updated", "state_machine", m.Arn)
	return nil
}
