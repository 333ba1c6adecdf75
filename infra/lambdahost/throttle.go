package lambdahost

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// throttle is API Gateway's route throttling: a token bucket of Burst requests refilled at
// Rate per second, one per route (DefaultRouteSettings apply to each route separately;
// RouteSettings override them for the route key they name).
type throttle struct {
	rate, burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newThrottle(rate, burst float64) *throttle {
	return &throttle{rate: rate, burst: burst, tokens: burst}
}

// allow takes a token if there is one.
func (t *throttle) allow(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() {
		t.tokens = min(t.burst, t.tokens+now.Sub(t.last).Seconds()*t.rate)
	}
	t.last = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}

// throttleSettings reads ThrottlingRateLimit and ThrottlingBurstLimit of a route settings
// node; ok is false when it sets neither.
func (h *Host) throttleSettings(n *yaml.Node) (rate, burst float64, ok bool, err error) {
	if n == nil {
		return 0, 0, false, nil
	}
	read := func(name string) (float64, bool, error) {
		v := get(n, name)
		if v == nil {
			return 0, false, nil
		}
		s, err := h.tpl.resolveString(v)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %w", name, err)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 {
			return 0, false, fmt.Errorf("%s: %q is not a number", name, s)
		}
		return f, true, nil
	}
	rate, okRate, err := read("ThrottlingRateLimit")
	if err != nil {
		return 0, 0, false, err
	}
	burst, okBurst, err := read("ThrottlingBurstLimit")
	if err != nil {
		return 0, 0, false, err
	}
	if !okRate && !okBurst {
		return 0, 0, false, nil
	}
	if !okBurst {
		burst = rate
	}
	if !okRate {
		rate = burst
	}
	return rate, burst, true, nil
}

// routeThrottle returns the route's bucket under the API's settings, or nil when unthrottled.
func (h *Host) routeThrottle(api *httpAPI, routeKey string) (*throttle, error) {
	rate, burst, ok, err := h.throttleSettings(get(api.routeSettings, routeKey))
	if err != nil || ok {
		if err != nil {
			return nil, fmt.Errorf("RouteSettings %q: %w", routeKey, err)
		}
		return newThrottle(rate, burst), nil
	}
	rate, burst, ok, err = h.throttleSettings(api.defaultRouteSettings)
	if err != nil {
		return nil, fmt.Errorf("DefaultRouteSettings: %w", err)
	}
	if !ok {
		return nil, nil
	}
	return newThrottle(rate, burst), nil
}
