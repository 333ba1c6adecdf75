package lambdahost

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// EventBridge, locally: every function's EventBridgeRule event is a rule on the default event
// bus with its pattern (see eventpattern.go). The host puts on the bus the events of the AWS
// services it emulates (S3's for buckets with EventBridge enabled, SES's for its mailbox
// simulator); each rule whose pattern matches an event invokes its function asynchronously
// with the whole event, as EventBridge's Lambda target does. Events of other sources are never
// raised locally.

// Sources of the events the host raises.
const (
	sourceS3  = "aws.s3"
	sourceSES = "aws.ses"
)

var localSources = []string{sourceS3, sourceSES}

// ebRule is a function's EventBridgeRule event.
type ebRule struct {
	fn      *function
	event   string         // the event's name in the template
	pattern map[string]any // resolved and checked
	sources []string       // the local sources whose events it may match
}

func (h *Host) buildEventBridgeRules(r *resource, f *function) ([]*ebRule, error) {
	var out []*ebRule
	evs := get(r.Props, "Events")
	for _, name := range sortedKeys(evs) {
		ev := get(evs, name)
		if scalar(get(ev, "Type")) != "EventBridgeRule" {
			continue
		}
		props := get(ev, "Properties")
		v, err := h.tpl.resolve(get(props, "Pattern"))
		if err != nil {
			return nil, fmt.Errorf("event %s: Pattern: %w", name, err)
		}
		if s, ok := v.(string); ok { // a pattern may be given as JSON text
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, fmt.Errorf("event %s: Pattern: %w", name, err)
			}
		}
		pattern, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("event %s: Pattern must be an object", name)
		}
		if err := checkPattern(pattern); err != nil {
			return nil, fmt.Errorf("event %s: Pattern is not valid: %w", name, err)
		}
		bus, err := h.tpl.resolveString(get(props, "EventBusName"))
		if err != nil {
			return nil, fmt.Errorf("event %s: EventBusName: %w", name, err)
		}
		if bus != "" && bus != "default" && !strings.HasSuffix(bus, ":event-bus/default") {
			h.log.Warn("EventBridge rule never raised locally (AWS services' events go to the default bus only)",
				"function", f.id, "event", name, "bus", bus)
			continue
		}
		rule := &ebRule{fn: f, event: name, pattern: pattern}
		for _, s := range localSources {
			if mayComeFrom(pattern, s) {
				rule.sources = append(rule.sources, s)
			}
		}
		if len(rule.sources) == 0 {
			h.log.Warn("EventBridge rule never raised locally (only aws.s3 and aws.ses events are)", "function", f.id, "event", name)
			continue
		}
		for _, k := range []string{"Input", "InputPath", "InputTransformer"} {
			if get(props, k) != nil {
				h.log.Warn("EventBridge rule's "+k+" not applied locally: the function gets the whole event", "function", f.id, "event", name)
			}
		}
		out = append(out, rule)
	}
	return out, nil
}

// mayComeFrom reports whether the pattern may match an event of source.
func mayComeFrom(p map[string]any, source string) bool {
	if alts, ok := p["source"].([]any); ok && !matchLeaf(alts, []any{source}) {
		return false
	}
	if ors, ok := orBranches("$or", p["$or"]); ok {
		return slices.ContainsFunc(ors, func(o map[string]any) bool { return mayComeFrom(o, source) })
	}
	return true
}

// hasRulesFor reports whether a rule may match the events of source.
func (h *Host) hasRulesFor(source string) bool {
	return slices.ContainsFunc(h.ebRules, func(r *ebRule) bool { return slices.Contains(r.sources, source) })
}

// putEvent puts an event on the default bus: every rule whose pattern matches it invokes its
// function asynchronously (retried as Lambda retries, counted by WaitIdle). It reports how many
// rules matched.
func (h *Host) putEvent(ev any) int {
	payload, err := json.Marshal(ev)
	if err != nil {
		h.log.Error("EventBridge event not raised", "error", err)
		return 0
	}
	var generic map[string]any
	if err := json.Unmarshal(payload, &generic); err != nil {
		h.log.Error("EventBridge event not raised", "error", err)
		return 0
	}
	n := 0
	for _, rule := range h.ebRules {
		if !matchPattern(rule.pattern, generic) {
			continue
		}
		n++
		h.invokeAsync(rule.fn, newUUID(), payload, "trigger", "eventbridge", "event", rule.event,
			"source", generic["source"], "detail_type", generic["detail-type"])
	}
	return n
}
