package lambdahost

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// Emulators an AWS call can be forwarded to.
const (
	BackendDynamoDB = "dynamodb"
	BackendSES      = "ses"
	BackendMoto     = "moto"
)

// AWSCall describes a forwarded AWS API call.
type AWSCall struct {
	Backend   string // BackendDynamoDB, BackendSES or BackendMoto
	Service   string // the SigV4 signing name (dynamodb, states, ses, s3...), "" if unsigned
	Operation string // from X-Amz-Target (e.g. "PutItem"), "" for REST-style APIs
}

// Interceptor sees every AWS call before it is forwarded. It answers the call itself and returns
// true, or returns false to let it through (possibly after a delay).
type Interceptor func(w http.ResponseWriter, r *http.Request, call AWSCall) bool

// isAWSCall reports whether r is an AWS API call (signed, targeted or pre-signed) rather than a
// call of the platform's own API.
func isAWSCall(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") || r.Header.Get("X-Amz-Target") != "" {
		return true
	}
	q := r.URL.Query()
	return q.Get("X-Amz-Algorithm") != "" && q.Get("X-Amz-Signature") != ""
}

func classify(r *http.Request) AWSCall {
	var c AWSCall
	target := r.Header.Get("X-Amz-Target")
	if _, op, ok := strings.Cut(target, "."); ok {
		c.Operation = op
	}
	cred := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, after, ok := strings.Cut(auth, "Credential="); ok {
			cred, _, _ = strings.Cut(after, ",")
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	if parts := strings.Split(cred, "/"); len(parts) == 5 { // AKID/date/region/service/aws4_request
		c.Service = parts[3]
	}
	switch {
	case strings.HasPrefix(target, "DynamoDB_20120810.") || strings.HasPrefix(target, "DynamoDBStreams_20120810."):
		c.Backend = BackendDynamoDB
	case strings.HasPrefix(r.URL.Path, "/v2/email/"):
		c.Backend = BackendSES
	default:
		c.Backend = BackendMoto
	}
	return c
}

// forwarder sends AWS calls to their emulator untouched (body, headers, even Host: the signature
// covers it). Bodies are streamed both ways: httputil.ReverseProxy hands the incoming body to the
// transport as it is read and copies the emulator's answer in 32 KB buffers, so a large upload or
// download never sits in the host's memory.
type forwarder struct {
	proxies   map[string]*httputil.ReverseProxy
	intercept Interceptor
	faults    *Faults // nil: none
	// ses, when set, forwards SES's calls (the host raises SES's events from them).
	ses func(w http.ResponseWriter, r *http.Request, forward func(http.ResponseWriter, *http.Request))
}

// observer sees the emulator's answer to a forwarded call (resp.Request is the forwarded request)
// before its body is copied to the client. It must only look at the status and headers.
type observer func(backend string, resp *http.Response)

func newForwarder(targets map[string]string, intercept Interceptor, faults *Faults, onError func(AWSCall, error), observe observer) (*forwarder, error) {
	f := &forwarder{proxies: map[string]*httputil.ReverseProxy{}, intercept: intercept, faults: faults}
	for backend, raw := range targets {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("%s endpoint %q is not a URL", backend, raw)
		}
		f.proxies[backend] = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.Out.URL.Scheme = u.Scheme
				pr.Out.URL.Host = u.Host
				pr.Out.Host = pr.In.Host
			},
			ModifyResponse: func(resp *http.Response) error {
				if observe != nil {
					observe(backend, resp)
				}
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				onError(classify(r), err)
				w.WriteHeader(http.StatusBadGateway)
			},
		}
	}
	return f, nil
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := classify(r)
	if f.intercept != nil && f.intercept(w, r, call) {
		return
	}
	if f.faults != nil && f.faults.inject(w, r, call, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.forward(w, r, call) })) {
		return
	}
	f.forward(w, r, call)
}

func (f *forwarder) forward(w http.ResponseWriter, r *http.Request, call AWSCall) {
	p, ok := f.proxies[call.Backend]
	if !ok {
		http.Error(w, "no emulator configured for "+call.Backend, http.StatusBadGateway)
		return
	}
	if call.Backend == BackendSES && f.ses != nil {
		f.ses(w, r, p.ServeHTTP)
		return
	}
	if call.Backend == BackendMoto && r.Method == http.MethodPut && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		// moto's web framework reads a form-encoded body as a form and stores an empty object;
		// S3 stores the bytes whatever the type (curl --data-binary sends this type).
		r.Header.Set("Content-Type", "application/octet-stream")
	}
	p.ServeHTTP(w, r)
}
