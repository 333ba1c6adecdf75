package lambdahost

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Schedule is a Schedule or ScheduleV2 event of a function.
type Schedule struct {
	Function   string        // logical ID
	Event      string        // the event's name in the template
	Expression string        // rate(...) or cron(...)
	Every      time.Duration // how often StartSchedules fires it; 0 for cron expressions and disabled schedules
}

type schedule struct {
	Schedule
	fn       *function
	resource string // the rule's or schedule's ARN
	source   string // aws.events or aws.scheduler
	input    []byte // the event's Input, sent instead of the scheduled event when set
}

func (h *Host) buildSchedules(r *resource, f *function) ([]*schedule, error) {
	var out []*schedule
	evs := get(r.Props, "Events")
	for _, name := range sortedKeys(evs) {
		ev := get(evs, name)
		ty := scalar(get(ev, "Type"))
		if ty != "Schedule" && ty != "ScheduleV2" {
			continue
		}
		props := get(ev, "Properties")
		s := &schedule{Schedule: Schedule{Function: f.id, Event: name}, fn: f}
		exprKey, nameKey := "Schedule", "Name"
		if ty == "ScheduleV2" {
			exprKey = "ScheduleExpression"
		}
		var err error
		if s.Expression, err = h.tpl.resolveString(get(props, exprKey)); err != nil {
			return nil, fmt.Errorf("event %s: %s: %w", name, exprKey, err)
		}
		ruleName := f.id + name // SAM's generated name
		if n := get(props, nameKey); n != nil {
			if ruleName, err = h.tpl.resolveString(n); err != nil {
				return nil, fmt.Errorf("event %s: Name: %w", name, err)
			}
		}
		if ty == "ScheduleV2" {
			s.source = "aws.scheduler"
			s.resource = fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", h.region, AccountID, ruleName)
		} else {
			s.source = "aws.events"
			s.resource = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", h.region, AccountID, ruleName)
		}
		if n := get(props, "Input"); n != nil {
			in, err := h.tpl.resolveString(n)
			if err != nil {
				return nil, fmt.Errorf("event %s: Input: %w", name, err)
			}
			if !json.Valid([]byte(in)) {
				return nil, fmt.Errorf("event %s: Input is not JSON", name)
			}
			s.input = []byte(in)
		}
		enabled := true
		if n := get(props, "Enabled"); n != nil {
			v, err := h.tpl.resolveString(n)
			if err != nil {
				return nil, fmt.Errorf("event %s: Enabled: %w", name, err)
			}
			enabled = v != "false"
		}
		if n := get(props, "State"); n != nil {
			v, err := h.tpl.resolveString(n)
			if err != nil {
				return nil, fmt.Errorf("event %s: State: %w", name, err)
			}
			enabled = enabled && v != "DISABLED"
		}
		if strings.HasPrefix(s.Expression, "rate(") {
			every, err := parseRate(s.Expression)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", name, err)
			}
			if enabled {
				s.Every = every
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// parseRate reads rate(N unit). Besides AWS's minute, hour and day it accepts second(s), so that
// a local run can override a parameterised rate with something faster than AWS allows.
func parseRate(expr string) (time.Duration, error) {
	inner, ok := strings.CutSuffix(strings.TrimPrefix(expr, "rate("), ")")
	fields := strings.Fields(inner)
	if !ok || len(fields) != 2 {
		return 0, fmt.Errorf("%q is not rate(N unit)", expr)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: N must be a positive integer", expr)
	}
	units := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit, ok := units[strings.TrimSuffix(fields[1], "s")]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q", expr, fields[1])
	}
	return time.Duration(n) * unit, nil
}

// payload is what EventBridge (or EventBridge Scheduler) delivers for this schedule.
func (s *schedule) payload(region string, now time.Time) []byte {
	if s.input != nil {
		return s.input
	}
	b, _ := json.Marshal(events.EventBridgeEvent{
		Version:    "0",
		ID:         newUUID(),
		DetailType: "Scheduled Event",
		Source:     s.source,
		AccountID:  AccountID,
		Time:       now.UTC().Truncate(time.Second),
		Region:     region,
		Resources:  []string{s.resource},
		Detail:     json.RawMessage(`{}`),
	})
	return b
}

// StartSchedules fires every enabled rate(...) schedule at its interval, in the background, until
// ctx is done. A run that outlasts the interval delays the next one rather than overlapping it.
func (h *Host) StartSchedules(ctx context.Context) {
	for _, s := range h.schedules {
		if s.Every <= 0 {
			continue
		}
		go func() {
			t := time.NewTicker(s.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					h.runSchedule(ctx, s, now)
				}
			}
		}()
	}
}

func (h *Host) runSchedule(ctx context.Context, s *schedule, now time.Time) ([]byte, *FunctionError) {
	start := time.Now()
	requestID := newUUID()
	out, ferr := s.fn.invoke(ctx, requestID, s.payload(h.region, now))
	attrs := []any{"function", s.fn.id, "event", s.Event, "request_id", requestID, "duration_ms", time.Since(start).Milliseconds()}
	if ferr != nil {
		h.log.Error("scheduled run failed", append(attrs, "error_type", ferr.Type, "error", ferr.Message)...)
	} else {
		h.log.Info("scheduled run", attrs...)
	}
	return out, ferr
}

// serveRun handles POST /_local/run/{LogicalId}: the function's (first) schedule, run now.
func (h *Host) serveRun(w http.ResponseWriter, r *http.Request, id string, info *requestInfo) {
	info.route = "POST /_local/run/{logicalId}"
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "Method Not Allowed"})
		return
	}
	var s *schedule
	for _, c := range h.schedules {
		if c.fn.id == id {
			s = c
			break
		}
	}
	if s == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no scheduled function " + id})
		return
	}
	info.function = id
	out, ferr := h.runSchedule(r.Context(), s, time.Now())
	if ferr != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"logicalId": id, "errorType": ferr.Type, "errorMessage": ferr.Message})
		return
	}
	var result any = json.RawMessage(out)
	if !json.Valid(out) {
		result = string(out) // a raw lambda.Handler may return anything
	}
	writeJSON(w, http.StatusOK, map[string]any{"logicalId": id, "result": result})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
