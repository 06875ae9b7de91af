package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDuplicateKey checks duplicateKey against a slow, obvious reading:
// for any valid JSON object, it names a key exactly when two keys of the
// object are equal in any case, and it never panics on anything else.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"email":"a","EMAIL":"b"}`, `{"a":1,"b":{"a":2}}`, `{}`, `[]`, `{"a":`, `{"É":1,"é":2}`, `"x"`, `{"webſite":1,"website":2}`, `{"\u212a":1,"k":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		key, found := duplicateKey(data)
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return
		}
		// Count the object's keys as written: Unmarshal into a map keeps
		// one of two equal keys, so count through the tokens.
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.Token()
		var keys []string
		dup := false
		for dec.More() {
			tok, _ := dec.Token()
			for _, k := range keys {
				dup = dup || strings.EqualFold(k, tok.(string))
			}
			keys = append(keys, tok.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		if dup != found {
			t.Fatalf("duplicateKey(%q) = %q, but the object repeats a key: %v", data, key, dup)
		}
	})
}
