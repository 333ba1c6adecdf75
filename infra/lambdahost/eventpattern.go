package lambdahost

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// EventBridge's content filtering (event patterns), as the Amazon EventBridge User Guide and
// its matching library (aws/event-ruler) describe it:
//
//   - A pattern is a JSON object shaped like the events it matches. Every field it names must
//     match (AND); the event's other fields are ignored.
//   - A leaf of the pattern is an array of alternatives, one of which must match (OR). When the
//     event's value is an array, the leaf matches if any of its elements does.
//   - An alternative is an exact value (string, number, true, false, null: of the same JSON type;
//     null is not "" and a string is not a number), or an object holding one operator: prefix,
//     suffix (a string, or {"equals-ignore-case": s}), equals-ignore-case, wildcard ("*" for any
//     run of characters), anything-but (a value, a list of values, or {prefix|suffix|
//     equals-ignore-case|wildcard: ...}), numeric ([op, n] or [lower-op, n, upper-op, n]; on
//     numbers only), cidr (an IP address in the range), exists (true: the field is present as a
//     leaf; false: it is absent).
//   - A nested object matches the event's object under the same name; when the event holds an
//     array of objects there, one element must match the nested pattern as a whole.
//   - "$or": [{...}, {...}] matches when any of its patterns matches the same object.
//
// String operators never match other types; anything-but matches only a present value.

// checkPattern reports what EventBridge would refuse in a pattern (PutRule's "Event pattern is
// not valid"), so that a template's mistake shows up when the host starts.
func checkPattern(p map[string]any) error {
	for k, v := range p {
		if ors, ok := orBranches(k, v); ok {
			for _, o := range ors {
				if err := checkPattern(o); err != nil {
					return fmt.Errorf("$or: %w", err)
				}
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if err := checkPattern(v); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("%s: an empty list matches nothing", k)
			}
			for _, alt := range v {
				if err := checkAlternative(alt); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
			}
		default:
			return fmt.Errorf("%s: a value to match must be in a list, e.g. [%v]", k, v)
		}
	}
	return nil
}

// orBranches returns the patterns of a "$or" field: a list of two objects or more (else "$or" is
// an ordinary field name, as in event-ruler).
func orBranches(k string, v any) ([]map[string]any, bool) {
	list, ok := v.([]any)
	if k != "$or" || !ok || len(list) < 2 {
		return nil, false
	}
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

func isScalar(v any) bool {
	switch v.(type) {
	case nil, string, bool:
		return true
	}
	_, ok := number(v)
	return ok
}

// number returns v as a float64 if it is a number (JSON decodes to float64, YAML to int).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

func checkAlternative(alt any) error {
	if isScalar(alt) {
		return nil
	}
	m, ok := alt.(map[string]any)
	if !ok || len(m) != 1 {
		return fmt.Errorf("%v: neither a value nor an object with one operator", alt)
	}
	for op, arg := range m {
		switch op {
		case "prefix", "suffix":
			if _, ok := arg.(string); ok {
				return nil
			}
			if o, ok := arg.(map[string]any); ok && len(o) == 1 {
				if _, ok := o["equals-ignore-case"].(string); ok {
					return nil
				}
			}
			return fmt.Errorf("%s: wants a string or {equals-ignore-case: string}", op)
		case "equals-ignore-case":
			if _, ok := arg.(string); !ok {
				return fmt.Errorf("%s: wants a string", op)
			}
		case "wildcard":
			s, ok := arg.(string)
			if !ok {
				return fmt.Errorf("%s: wants a string", op)
			}
			return checkWildcard(s)
		case "anything-but":
			return checkAnythingBut(arg)
		case "numeric":
			_, err := numericRange(arg)
			return err
		case "cidr":
			s, _ := arg.(string)
			if _, err := netip.ParsePrefix(s); err != nil {
				return fmt.Errorf("cidr: %v is not an IP range", arg)
			}
		case "exists":
			if _, ok := arg.(bool); !ok {
				return errors.New("exists: wants true or false")
			}
		default:
			return fmt.Errorf("unknown operator %q", op)
		}
	}
	return nil
}

func checkAnythingBut(arg any) error {
	switch a := arg.(type) {
	case []any:
		if len(a) == 0 {
			return errors.New("anything-but: empty list")
		}
		for _, x := range a {
			if _, ok := x.(string); ok {
				continue
			}
			if _, ok := number(x); !ok {
				return errors.New("anything-but: a list holds strings or numbers")
			}
		}
		return nil
	case map[string]any:
		if len(a) != 1 {
			return errors.New("anything-but: one operator")
		}
		for op, v := range a {
			switch op {
			case "prefix", "suffix":
				if _, ok := v.(string); !ok {
					return fmt.Errorf("anything-but %s: wants a string", op)
				}
			case "equals-ignore-case", "wildcard":
				list := stringOrList(v)
				if len(list) == 0 {
					return fmt.Errorf("anything-but %s: wants a string or a list of strings", op)
				}
				for _, s := range list {
					if op == "wildcard" {
						if err := checkWildcard(s); err != nil {
							return err
						}
					}
				}
			default:
				return fmt.Errorf("anything-but: unknown operator %q", op)
			}
		}
		return nil
	}
	if isScalar(arg) && arg != nil {
		return nil
	}
	return fmt.Errorf("anything-but: %v is not a value, a list or an operator", arg)
}

// stringOrList returns a string or a list of strings as a list (nil for anything else).
func stringOrList(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}

func checkWildcard(s string) error {
	if strings.Contains(s, "**") {
		return fmt.Errorf("wildcard %q: consecutive wildcard characters", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 == len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return fmt.Errorf("wildcard %q: a backslash escapes only * or \\", s)
			}
			i++
		}
	}
	return nil
}

// numericBound is one side of a numeric range.
type numericBound struct {
	op string // =, <, <=, >, >=
	n  float64
}

func numericRange(arg any) ([]numericBound, error) {
	list, ok := arg.([]any)
	if !ok || (len(list) != 2 && len(list) != 4) {
		return nil, errors.New(`numeric: wants [op, n] or [">"|">=", n, "<"|"<=", n]`)
	}
	var out []numericBound
	for i := 0; i < len(list); i += 2 {
		op, _ := list[i].(string)
		n, ok := number(list[i+1])
		if !ok || !slices.Contains([]string{"=", "<", "<=", ">", ">="}, op) {
			return nil, fmt.Errorf("numeric: %v %v is not an operator and a number", list[i], list[i+1])
		}
		out = append(out, numericBound{op, n})
	}
	if len(out) == 2 && (!strings.HasPrefix(out[0].op, ">") || !strings.HasPrefix(out[1].op, "<")) {
		return nil, errors.New("numeric: a range is a lower bound (> or >=) then an upper bound (< or <=)")
	}
	return out, nil
}

// matchPattern reports whether the event (decoded from JSON: numbers are float64) matches p,
// a pattern that checkPattern accepts.
func matchPattern(p map[string]any, ev map[string]any) bool {
	for k, pv := range p {
		if ors, ok := orBranches(k, pv); ok {
			if !slices.ContainsFunc(ors, func(o map[string]any) bool { return matchPattern(o, ev) }) {
				return false
			}
			continue
		}
		v, present := ev[k]
		switch pv := pv.(type) {
		case map[string]any:
			if !matchNested(pv, v) {
				return false
			}
		case []any:
			if !matchLeaf(pv, leafValues(v, present)) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// matchNested matches a nested pattern against the event's value under its name: an object,
// one of the objects of an array, or nothing (where only absences can match).
func matchNested(p map[string]any, v any) bool {
	var objs []map[string]any
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			objs = append(objs, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	if len(objs) == 0 {
		return matchPattern(p, nil)
	}
	return slices.ContainsFunc(objs, func(o map[string]any) bool { return matchPattern(p, o) })
}

// leafValues returns the leaf values of an event's field: none when it is absent or an
// object, its elements (flattened) when it is an array, else the value itself.
func leafValues(v any, present bool) []any {
	if !present {
		return nil
	}
	var out []any
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
		case []any:
			for _, e := range x {
				walk(e)
			}
		default:
			out = append(out, x)
		}
	}
	walk(v)
	return out
}

// matchLeaf reports whether one of the alternatives matches one of the values.
func matchLeaf(alts []any, vals []any) bool {
	for _, alt := range alts {
		if m, ok := alt.(map[string]any); ok {
			if want, ok := m["exists"].(bool); ok {
				if want == (len(vals) > 0) {
					return true
				}
				continue
			}
		}
		for _, v := range vals {
			if matchValue(alt, v) {
				return true
			}
		}
	}
	return false
}

// sameValue is exact matching: the same JSON type and value.
func sameValue(a, v any) bool {
	if a == nil || v == nil {
		return a == nil && v == nil
	}
	if x, ok := number(a); ok {
		y, ok := number(v)
		return ok && x == y
	}
	switch a := a.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == a
	case bool:
		b, ok := v.(bool)
		return ok && b == a
	}
	return false
}

func matchValue(alt, v any) bool {
	m, ok := alt.(map[string]any)
	if !ok {
		return sameValue(alt, v)
	}
	s, isString := v.(string)
	for op, arg := range m {
		switch op {
		case "prefix", "suffix":
			if !isString {
				return false
			}
			has := strings.HasPrefix
			if op == "suffix" {
				has = strings.HasSuffix
			}
			if want, ok := arg.(string); ok {
				return has(s, want)
			}
			want, _ := arg.(map[string]any)["equals-ignore-case"].(string)
			return has(strings.ToLower(s), strings.ToLower(want))
		case "equals-ignore-case":
			want, _ := arg.(string)
			return isString && strings.EqualFold(s, want)
		case "wildcard":
			want, _ := arg.(string)
			return isString && wildcardMatch(want, s)
		case "anything-but":
			return anythingBut(arg, v)
		case "numeric":
			n, ok := number(v)
			if !ok {
				return false
			}
			bounds, err := numericRange(arg)
			if err != nil {
				return false
			}
			for _, b := range bounds {
				if !compare(n, b) {
					return false
				}
			}
			return true
		case "cidr":
			r, _ := arg.(string)
			pfx, err := netip.ParsePrefix(r)
			if !isString || err != nil {
				return false
			}
			addr, err := netip.ParseAddr(s)
			return err == nil && pfx.Contains(addr.Unmap())
		}
	}
	return false
}

func compare(n float64, b numericBound) bool {
	switch b.op {
	case "=":
		return n == b.n
	case "<":
		return n < b.n
	case "<=":
		return n <= b.n
	case ">":
		return n > b.n
	case ">=":
		return n >= b.n
	}
	return false
}

func anythingBut(arg, v any) bool {
	switch a := arg.(type) {
	case []any:
		return !slices.ContainsFunc(a, func(x any) bool { return sameValue(x, v) })
	case map[string]any:
		s, ok := v.(string)
		if !ok {
			return false
		}
		for op, x := range a {
			switch op {
			case "prefix":
				p, _ := x.(string)
				return !strings.HasPrefix(s, p)
			case "suffix":
				p, _ := x.(string)
				return !strings.HasSuffix(s, p)
			case "equals-ignore-case":
				return !slices.ContainsFunc(stringOrList(x), func(w string) bool { return strings.EqualFold(s, w) })
			case "wildcard":
				return !slices.ContainsFunc(stringOrList(x), func(w string) bool { return wildcardMatch(w, s) })
			}
		}
		return false
	}
	return !sameValue(arg, v)
}

// wildcardMatch matches s against a wildcard pattern: "*" is any run of characters, "\*" a
// star and "\\" a backslash.
func wildcardMatch(pattern, s string) bool {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			cur.WriteByte(pattern[i])
		case c == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, cur.String())
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
