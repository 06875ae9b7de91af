package templates

import (
	"fmt"
	htmltemplate "html/template"
	"reflect"
	texttemplate "text/template"

	"newsletter/i18n"
)

// The functions every template may call, bound to the language of the
// render:
//
//	{{t "key" args...}}  message key of the catalog (package i18n), its
//	                     arguments put in as fmt does; a key the catalog
//	                     lacks fails the render
//	{{lang}}             the language's code, for <html lang>
//	{{names .List}}      the names of a list's items (a Name field or key,
//	                     or the strings themselves) as a sentence lists
//	                     them: "A, B and C"; in HTML each in <strong>
//	{{strong .X}}        .X in <strong> (HTML; as it is in text)
//	{{code .X}}          .X in <code> (HTML; as it is in text)
//	{{mso "<table>"}}    markup that only Outlook for Windows reads, in a
//	                     conditional comment <!--[if mso]>…<![endif]-->
//	                     (HTML; nothing in text); template text only,
//	                     never data
//
// In HTML, t escapes each string argument and keeps template.HTML ones
// (what strong, code and names return) as they are; the messages
// themselves hold no markup (the catalog's tests check it).

// htmlFuncs returns the functions of HTML templates in language l.
func htmlFuncs(l i18n.Lang) htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		"t": func(key string, args ...any) (htmltemplate.HTML, error) {
			s, err := l.Lookup(key, escapeArgs(args)...)
			return htmltemplate.HTML(s), err
		},
		"lang":   l.String,
		"names":  func(list any) htmltemplate.HTML { return strongList(l, namesOf(list)) },
		"strong": func(s string) htmltemplate.HTML { return wrap("strong", s) },
		"code":   func(s string) htmltemplate.HTML { return wrap("code", s) },
		"mso":    msoOnly,
	}
}

// textFuncs returns the functions of text templates in language l.
func textFuncs(l i18n.Lang) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"t":      l.Lookup,
		"lang":   l.String,
		"names":  func(list any) string { return l.List(namesOf(list)) },
		"strong": func(s string) string { return s },
		"code":   func(s string) string { return s },
		"mso":    func(string) string { return "" },
	}
}

// msoOnly returns markup in a conditional comment that Outlook for Windows
// (its Word engine) reads and every other client skips. html/template
// drops the comments of a template's text, so templates write them
// through this function.
func msoOnly(markup string) htmltemplate.HTML {
	return htmltemplate.HTML("<!--[if mso]>" + markup + "<![endif]-->")
}

// escapeArgs returns args with every string escaped for HTML; HTML stays.
func escapeArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case htmltemplate.HTML:
			out[i] = string(v)
		case string:
			out[i] = htmltemplate.HTMLEscapeString(v)
		case fmt.Stringer:
			out[i] = htmltemplate.HTMLEscapeString(v.String())
		default:
			out[i] = a
		}
	}
	return out
}

func wrap(tag, s string) htmltemplate.HTML {
	return htmltemplate.HTML("<" + tag + ">" + htmltemplate.HTMLEscapeString(s) + "</" + tag + ">")
}

// strongList lists names in l, each escaped and in <strong>.
func strongList(l i18n.Lang, names []string) htmltemplate.HTML {
	s := ""
	for i, n := range names {
		s += htmltemplate.HTMLEscapeString(l.Separator(i, len(names))) + string(wrap("strong", n))
	}
	return htmltemplate.HTML(s)
}

// namesOf returns the name of each item of list, a slice: a string, or
// the Name field of a struct or the "Name" key of a map.
func namesOf(list any) []string {
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil
	}
	names := make([]string, 0, v.Len())
	for i := range v.Len() {
		names = append(names, nameOf(v.Index(i)))
	}
	return names
}

func nameOf(v reflect.Value) string {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Struct:
		if f := v.FieldByName("Name"); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return ""
		}
		if f := v.MapIndex(reflect.ValueOf("Name").Convert(v.Type().Key())); f.IsValid() {
			return fmt.Sprint(f.Interface())
		}
	}
	return ""
}
