package localcloud

import (
	"fmt"
	"strings"
)

// ParseParameterOverrides reads template parameter values as `sam local --parameter-overrides`
// takes them: space-separated `Key=Value` pairs, or `ParameterKey=Key,ParameterValue=Value`
// ones. A value may be quoted with ' or " to hold spaces, and a backslash keeps the next
// character as it is. A key given twice keeps its last value. Whether each key is a parameter
// of the template is for the host to say (lambdahost.UnknownParametersError).
func ParseParameterOverrides(s string) (map[string]string, error) {
	words, err := splitWords(s)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, w := range words {
		var key, value string
		var ok bool
		if rest, long := strings.CutPrefix(w, "ParameterKey="); long {
			key, value, ok = strings.Cut(rest, ",ParameterValue=")
		} else {
			key, value, ok = strings.Cut(w, "=")
		}
		if !ok || !parameterName(key) {
			return nil, fmt.Errorf("%q is not Key=Value nor ParameterKey=Key,ParameterValue=Value", w)
		}
		out[key] = value
	}
	return out, nil
}

// parameterName reports whether s can name a CloudFormation parameter (alphanumeric).
func parameterName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// splitWords splits s at unquoted blanks, removing the quotes and the escaping backslashes.
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune // the open quote, 0 outside quotes
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			w.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped, inWord = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("%q: unterminated quote or escape", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
