package lambdahost

import (
	"fmt"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"
)

// corsConfig is an HttpApi's CorsConfiguration as API Gateway applies it: API Gateway itself
// answers a preflight (OPTIONS with Origin and Access-Control-Request-Method) on any path of the
// API, and adds the CORS headers to every answer to a request from an allowed origin, its own
// errors included; the functions never see the preflight.
type corsConfig struct {
	origins, methods, headers, expose []string
	maxAge                            string
	credentials                       bool
}

// buildCORS reads a CorsConfiguration: true (every origin), the object form, or an intrinsic
// that gives one of them (SAM passes an intrinsic CorsConfiguration, e.g. !If, to API Gateway
// whole; AWS::NoValue is no CORS).
func (h *Host) buildCORS(n *yaml.Node) (*corsConfig, error) {
	v, err := h.tpl.resolve(n)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case bool:
		if !v {
			return nil, nil
		}
		return &corsConfig{origins: []string{"*"}, methods: []string{"*"}, headers: []string{"*"}}, nil
	case map[string]any:
		c := &corsConfig{}
		for key, dst := range map[string]*[]string{"AllowOrigins": &c.origins, "AllowMethods": &c.methods,
			"AllowHeaders": &c.headers, "ExposeHeaders": &c.expose} {
			list, ok := v[key].([]any)
			if !ok && v[key] != nil {
				return nil, fmt.Errorf("%s: not a list", key)
			}
			for _, item := range list {
				s, err := stringify(item)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", key, err)
				}
				if s = strings.TrimSpace(s); s != "" {
					*dst = append(*dst, s)
				}
			}
		}
		if v["MaxAge"] != nil {
			if c.maxAge, err = stringify(v["MaxAge"]); err != nil {
				return nil, fmt.Errorf("MaxAge: %w", err)
			}
		}
		c.credentials = v["AllowCredentials"] == true || v["AllowCredentials"] == "true"
		return c, nil
	case nil, noValueType:
		return nil, nil
	}
	return nil, fmt.Errorf("CorsConfiguration is a %T", v)
}

// allowOrigin is the Access-Control-Allow-Origin for a request's Origin, "" if not allowed.
func (c *corsConfig) allowOrigin(origin string) string {
	if origin == "" {
		return ""
	}
	for _, o := range c.origins {
		switch {
		case o == "*" && !c.credentials:
			return "*"
		case o == "*" || strings.EqualFold(o, origin):
			return origin
		}
	}
	return ""
}

// preflight answers an OPTIONS preflight: 204, with the allow headers if the origin is allowed.
func (c *corsConfig) preflight(w http.ResponseWriter, r *http.Request) {
	if allow := c.allowOrigin(r.Header.Get("Origin")); allow != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", allow)
		if len(c.methods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.methods, ","))
		}
		if len(c.headers) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.headers, ","))
		}
		if c.maxAge != "" {
			h.Set("Access-Control-Max-Age", c.maxAge)
		}
		if c.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Add("Vary", "Origin")
	}
	w.WriteHeader(http.StatusNoContent)
}

// decorate adds the CORS headers of an answer to a request from an allowed origin.
func (c *corsConfig) decorate(h http.Header, r *http.Request) {
	allow := c.allowOrigin(r.Header.Get("Origin"))
	if allow == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", allow)
	if len(c.expose) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.expose, ","))
	}
	if c.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Add("Vary", "Origin")
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// corsForPath is the CORS configuration of the API that has a route on r's path, whatever its
// method (a preflight is for a method the route has, not for OPTIONS).
func (h *Host) corsForPath(r *http.Request) *corsConfig {
	p := r.URL.EscapedPath()
	for _, rt := range h.routes {
		if _, ok := rt.match(rt.Method, p); ok && rt.cors != nil {
			return rt.cors
		}
	}
	return nil
}
