package api

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"newsletter"
)

// duplicateKey returns the first key of the top-level JSON object in data
// that appears a second time in any case ("email" and "EMAIL" name one
// field for encoding/json, which keeps the last), and false when there is
// none or data is not an object (the decoder says what is wrong then). It
// scans the bytes once, without decoding the values: every signup passes
// through it.
func duplicateKey(data []byte) (string, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	var seen [8]string
	folded := seen[:0]
	for i = skipSpace(data, i+1); i < len(data) && data[i] == '"'; i = skipSpace(data, i+1) {
		end := stringEnd(data, i)
		if end < 0 {
			return "", false
		}
		key, ok := unquoteKey(data[i:end])
		if !ok {
			return "", false
		}
		f := foldKey(key)
		if slices.Contains(folded, f) {
			return key, true
		}
		folded = append(folded, f)
		if i = skipSpace(data, end); i >= len(data) || data[i] != ':' {
			return "", false
		}
		if i = skipSpace(data, skipValue(data, skipSpace(data, i+1))); i >= len(data) || data[i] != ',' {
			return "", false // the end of the object, or not JSON
		}
	}
	return "", false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(data []byte, i int) int {
	for i >= 0 && i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just after the JSON string that starts with
// the quote at i, or -1 when it does not end.
func stringEnd(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just after the JSON value that starts at i,
// or len(data) when it runs to the end (not JSON, then). Nested objects
// and arrays are skipped by depth, strings by their quotes.
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch c := data[i]; {
		case c == '"':
			if i = stringEnd(data, i); i < 0 {
				return len(data)
			}
			if depth == 0 {
				return i
			}
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return i
		}
		i++
	}
	return len(data)
}

// unquoteKey returns the text of the JSON string quoted (quotes included):
// the bytes themselves when they are plain ASCII, as encoding/json reads
// them otherwise (escapes, and invalid UTF-8 as U+FFFD).
func unquoteKey(quoted []byte) (string, bool) {
	inner := quoted[1 : len(quoted)-1]
	plain := true
	for _, c := range inner {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), true
	}
	var key string
	return key, json.Unmarshal(quoted, &key) == nil
}

// foldKey is key as encoding/json matches it to a field, in any case: "ſ"
// is "s", "K" (Kelvin) is "k".
func foldKey(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] >= 0x80 {
			return strings.ToLower(strings.ToUpper(key))
		}
	}
	return strings.ToLower(key)
}

// duplicateFieldError refuses a body that names field twice: which of the
// two values counts would depend on the parser.
func duplicateFieldError(field string) error {
	return &newsletter.Error{Code: newsletter.EBADREQUEST, Field: strings.ToLower(field),
		Message: "The field " + strings.ToLower(field) + " appears more than once; send it once."}
}

// readAllJSON reads a JSON body whose size the caller bounded, refusing one
// whose top-level object repeats a key.
func readAllJSON(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, jsonError(err)
	}
	if key, dup := duplicateKey(data); dup {
		return nil, duplicateFieldError(key)
	}
	return data, nil
}

// singleFormValues are the form fields a signup takes once: two of them
// (two email fields, say) make the form ambiguous.
var singleFormValues = []string{"email", "suggested_email", "name", "website", "source"}

// ambiguousForm returns the first of singleFormValues that form holds more
// than once, in any case, or "".
func ambiguousForm(form map[string][]string) string {
	count := map[string]int{}
	for key, values := range form {
		count[strings.ToLower(key)] += len(values)
	}
	for _, f := range singleFormValues {
		if count[f] > 1 {
			return f
		}
	}
	return ""
}
