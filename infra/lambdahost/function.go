package lambdahost

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.yaml.in/yaml/v3"
)

// Constructor builds a function's real handler – the same value its main passes to lambda.Start –
// from the function's environment (template variables resolved, plus local overrides).
type Constructor func(ctx context.Context, getenv func(string) string) (any, error)

// ErrUnknownFunction is returned by Invoke for a name that matches no function of the template.
var ErrUnknownFunction = errors.New("function not found")

// FunctionError is a handler's failure as Lambda reports it: the message and the error type that
// Step Functions matches in Retry and Catch.
type FunctionError struct {
	Function string `json:"-"`
	Type     string `json:"errorType"`
	Message  string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s failed: %s: %s", e.Function, e.Type, e.Message)
}

const defaultTimeout = 3 * time.Second // SAM's default Timeout

// function is one AWS::Serverless::Function, built once.
type function struct {
	id        string
	name      string // physical name (FunctionName, else the logical ID)
	arn       string
	codeURI   string
	timeout   time.Duration
	env       map[string]string
	handler   lambda.Handler
	schedules []*schedule
}

// buildFunction resolves the function's configuration; its handler is built by New.
func (h *Host) buildFunction(r *resource, overrides map[string]string) (*function, error) {
	t := h.tpl
	globals := t.globalsFor("Function")
	prop := func(key string) *yaml.Node {
		if n := get(r.Props, key); n != nil {
			return n
		}
		return get(globals, key)
	}
	f := &function{id: r.ID, timeout: defaultTimeout}
	var err error
	if f.name, err = t.physicalName(r, "FunctionName"); err != nil {
		return nil, err
	}
	if f.arn, err = t.functionArn(r); err != nil {
		return nil, err
	}
	if n := prop("CodeUri"); n != nil && n.Kind == yaml.ScalarNode {
		s, err := t.resolveString(n)
		if err != nil {
			return nil, fmt.Errorf("CodeUri: %w", err)
		}
		f.codeURI = normalizeCodeURI(s)
	}
	if n := prop("Timeout"); n != nil {
		s, err := t.resolveString(n)
		if err != nil {
			return nil, fmt.Errorf("Timeout: %w", err)
		}
		sec, err := strconv.ParseFloat(s, 64)
		if err != nil || sec <= 0 {
			return nil, fmt.Errorf("Timeout %q: not a number of seconds", s)
		}
		f.timeout = time.Duration(sec * float64(time.Second))
	}
	f.env = map[string]string{}
	for _, vars := range []*yaml.Node{get(get(globals, "Environment"), "Variables"), get(get(r.Props, "Environment"), "Variables")} {
		for _, k := range sortedKeys(vars) {
			if _, ok := overrides[k]; ok {
				continue // the local value wins; the template's need not even resolve
			}
			v, err := t.resolve(get(vars, k))
			if err != nil {
				return nil, fmt.Errorf("environment variable %s: %w (give it a local value in Options.Env)", k, err)
			}
			if v == noValue {
				delete(f.env, k)
				continue
			}
			s, err := stringify(v)
			if err != nil {
				return nil, fmt.Errorf("environment variable %s: %w", k, err)
			}
			f.env[k] = s
		}
	}
	for k, v := range overrides {
		f.env[k] = v
	}
	// Set by Lambda itself (reserved: a function cannot override them).
	f.env["AWS_REGION"] = h.region
	f.env["AWS_DEFAULT_REGION"] = h.region
	f.env["AWS_LAMBDA_FUNCTION_NAME"] = f.name
	f.env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(int(f.timeout / time.Second))
	return f, nil
}

func normalizeCodeURI(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return strings.TrimPrefix(path.Clean(s), "./")
}

// constructorFor finds a function's Constructor: by logical ID, else by CodeUri.
func constructorFor(f *function, cons map[string]Constructor) (Constructor, bool) {
	if c, ok := cons[f.id]; ok {
		return c, true
	}
	if f.codeURI == "" || f.codeURI == "." {
		return nil, false
	}
	for k, c := range cons {
		if normalizeCodeURI(k) == f.codeURI {
			return c, true
		}
	}
	return nil, false
}

// validHandler rejects what lambda.Start would reject at its first invocation.
func validHandler(v any) error {
	if v == nil {
		return errors.New("handler is nil")
	}
	if _, ok := v.(lambda.Handler); ok {
		return nil
	}
	if reflect.TypeOf(v).Kind() != reflect.Func {
		return fmt.Errorf("handler is a %T, not a function or lambda.Handler", v)
	}
	return nil
}

// invoke runs the handler as Lambda would: a fresh request ID and the function's ARN in the
// context, the configured timeout as its deadline. A handler still running at the deadline is
// reported as timed out (it goes on running in the background: Go cannot kill it).
func (f *function) invoke(ctx context.Context, requestID string, payload []byte) ([]byte, *FunctionError) {
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: f.arn})
	type result struct {
		out []byte
		err *FunctionError
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: &FunctionError{Function: f.id, Type: errorTypeName(v), Message: fmt.Sprint(v)}}
			}
		}()
		out, err := f.handler.Invoke(ctx, payload)
		if err != nil {
			done <- result{err: functionError(f.id, err)}
			return
		}
		done <- result{out: out}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // finished right at the deadline
			return r.out, r.err
		default:
		}
		return nil, &FunctionError{Function: f.id, Type: "Sandbox.Timedout",
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, f.timeout.Seconds())}
	}
}

// functionError reports err as aws-lambda-go's runtime does (lambda/errors.go): an
// InvokeResponse_Error as it is, anything else by the name of its (pointed-to) type.
func functionError(fn string, err error) *FunctionError {
	var ive messages.InvokeResponse_Error
	if e, ok := err.(messages.InvokeResponse_Error); ok {
		ive = e
	} else if e, ok := err.(*messages.InvokeResponse_Error); ok && e != nil {
		ive = *e
	} else {
		return &FunctionError{Function: fn, Type: errorTypeName(err), Message: err.Error()}
	}
	return &FunctionError{Function: fn, Type: ive.Type, Message: ive.Message}
}

func errorTypeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// newUUID returns a random (version 4) UUID, the form of Lambda request IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// newAPIRequestID returns an ID shaped like API Gateway's (e.g. "JKJaXmPLvHcESHA=").
func newAPIRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
