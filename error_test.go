package newsletter_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"newsletter"
)

// TestCodesListsEveryCode parses error.go and checks that Codes names each
// E* constant, so that a new code cannot miss the api's status table.
func TestCodesListsEveryCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var found int
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || !strings.HasPrefix(spec.Names[0].Name, "E") || len(spec.Values) != 1 {
			return true
		}
		lit, ok := spec.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		code, _ := strconv.Unquote(lit.Value)
		found++
		if !slices.Contains(newsletter.Codes, code) {
			t.Errorf("newsletter.Codes lacks %s (%q)", spec.Names[0].Name, code)
		}
		return true
	})
	if found != len(newsletter.Codes) {
		t.Errorf("error.go declares %d codes, Codes lists %d", found, len(newsletter.Codes))
	}
}
