package api

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"newsletter"
)

// duplicateKey returns the first key of the top-level JSON object in data
// that appears a second time in any case ("email" and "EMAIL" name one
// field for encoding/json, which keeps the last), and false when there is
// none or data is not an object (the decoder says what is wrong then).
func duplicateKey(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return "", false
		}
		folded := strings.ToLower(strings.ToUpper(key)) // as encoding/json matches: "ſ" is "s"
		if seen[folded] {
			return key, true
		}
		seen[folded] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
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
