package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/subscribers"
)

// Kinds of body the fuzz target posts, by Content-Type.
const (
	kindJSON = iota
	kindForm
	kindMultipart
	kindOther
	kinds
)

const fuzzBoundary = "fuzzboundary"

var kindContentType = [kinds]string{
	kindJSON:      "application/json",
	kindForm:      "application/x-www-form-urlencoded",
	kindMultipart: "multipart/form-data; boundary=" + fuzzBoundary,
	kindOther:     "text/plain",
}

// seedAddresses are inputs of the address validation table
// (subscribers/address_test.go), used as email values.
var seedAddresses = []string{
	"bob@example.org",
	"!#$%&'*+-/=?^_`{|}~@example.org",
	"\tbob@example.org\r\n",
	"\u00a0bob@example.org\u3000",
	"user@bücher.de",
	"user@ｅｘａｍｐｌｅ.com",
	"bob＠example.org",
	"Bob <bob@example.org>",
	`"bob smith"@example.org`,
	"bob@example.org\x00",
	"bob@ex\xffample.org",
	"bob..smith@example.org",
	"bob@[IPv6:::1]",
	"bob@example.org。",
	"Name.Surname@GMAIL.CON",
	strings.Repeat("a", 64) + "@" + strings.Repeat("l", 64) + ".com",
}

// seedBodies are the bodies of the subscribe tables in subscriptions_test.go,
// by kind.
func seedBodies() map[int][]string {
	huge := strings.Repeat("x", 17<<10)
	return map[int][]string{
		kindJSON: {
			`{"email":"reader@example.org","newsletters":["daily"]}`,
			`{"email":"reader@example.org","newsletters":["daily","weekly"],"name":"Ann","source":"https://example.org/"}`,
			`{"email":"reader@example.org","newsletters":["daily"],"website":"spam.example"}`,
			`{"email":"a@example.org","newsletters":["daily"],"name":"` + huge + `"}`,
			`{"email":`, `{"email": 5}`, `{"email":"a@example.org","newsletters":"daily"}`,
			``, `{} {}`, `{"email":"a@example.org","newsletters":["daily"]} x`,
			`{"email":"not-an-address","newsletters":["daily"]}`, `{"email":"name@gmial.com","newsletters":["daily"]}`,
			`{"email":"name@example.org","newsletters":["nope"]}`,
			`null`, `[]`, `"x"`, `{"EMAIL":"a@example.org","email":"b@example.org"}`, `{"name":"Ann\r\nBcc: x@y"}`,
			`{"name":"\ud800"}`, "{\"name\":\"\xff\"}", `{"newsletters":[null,"a"]}`, `{"email":null}`,
		},
		kindForm: {
			"email=reader%40example.org&newsletter=daily",
			"email=reader%40example.org&newsletter=daily&newsletter=weekly&name=Ann",
			"email=reader%40example.org&newsletter=daily&website=spam.example",
			"email=a%40example.org&newsletter=daily&name=" + huge,
			"email=a%40example.org&newsletter=daily&x=%zz",
			"email=reader&newsletter=daily", "email=a;b", "newsletters=a&newsletter=b&email=%ff",
		},
		kindMultipart: {
			multipartSeed("email", "a@example.org", "newsletter", "daily", "name", huge),
			multipartSeed("email", "a@example.org", "newsletter", "daily", "newsletter", "weekly"),
			"--" + fuzzBoundary + "--\r\n", "--" + fuzzBoundary + "\r\n",
		},
		kindOther: {`{"email":"a@example.org","newsletters":["daily"]}`},
	}
}

func multipartSeed(fields ...string) string {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.SetBoundary(fuzzBoundary)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	w.Close()
	return buf.String()
}

// FuzzDecodeSignup posts any body as JSON, form, multipart form or another
// type to the signup decoder. It must never panic; it fails only with the
// client errors of the contract; and when it succeeds, the request carries
// exactly what a reference parser finds in the body.
func FuzzDecodeSignup(f *testing.F) {
	for kind, bodies := range seedBodies() {
		for _, b := range bodies {
			f.Add(uint8(kind), []byte(b))
		}
	}
	for _, a := range seedAddresses {
		js, _ := json.Marshal(signupJSON{Email: a, Newsletters: []string{"daily"}, Name: a})
		f.Add(uint8(kindJSON), js)
		f.Add(uint8(kindJSON), []byte(`{"email":"`+a+`"}`)) // unescaped, as a sloppy client sends it
		f.Add(uint8(kindForm), []byte(url.Values{"email": {a}, "newsletter": {"daily"}}.Encode()))
		f.Add(uint8(kindMultipart), []byte(multipartSeed("email", a, "newsletter", "daily")))
	}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		kind %= kinds
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/v1/subscriptions", bytes.NewReader(body))
		c.Request.Header.Set("Content-Type", kindContentType[kind])
		req, err := decodeSignup(c)
		if c.Request.MultipartForm != nil {
			c.Request.MultipartForm.RemoveAll()
		}
		if err != nil {
			wantClientError(t, err, kind, body)
			return
		}
		if len(body) > maxSubscribeBody {
			t.Fatalf("a %d-byte body was accepted", len(body))
		}
		var want subscribers.SignupRequest
		switch kind {
		case kindJSON:
			want = referenceJSON(t, body)
		case kindForm:
			want = referenceForm(t, body)
		case kindMultipart:
			want = referenceMultipart(t, body)
		default:
			t.Fatalf("a %s body was accepted", kindContentType[kind])
		}
		if diff := cmp.Diff(want, req); diff != "" {
			t.Fatalf("decoded request differs from the reference (-want +got):\n%s\nbody: %q", diff, body)
		}
	})
}

// wantClientError fails unless err is one of the decoder's client errors.
func wantClientError(t *testing.T, err error, kind uint8, body []byte) {
	t.Helper()
	var e *newsletter.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not coded", err)
	}
	switch e.Code {
	case newsletter.EBADREQUEST, newsletter.EBODYTOOLARGE:
	case newsletter.EUNSUPPORTEDMEDIA:
		if kind != kindOther {
			t.Fatalf("%s answered unsupported_media_type", kindContentType[kind])
		}
	default:
		t.Fatalf("error code %q (%v) for body %q", e.Code, err, body)
	}
	if e.Code == newsletter.EBODYTOOLARGE && len(body) <= maxSubscribeBody {
		t.Fatalf("a %d-byte body is too large", len(body))
	}
}

// referenceJSON decodes body with json.Unmarshal, which must accept it: it
// is one JSON object (or null), and its strings are valid UTF-8.
func referenceJSON(t *testing.T, body []byte) subscribers.SignupRequest {
	t.Helper()
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("{")) && !bytes.HasPrefix(trimmed, []byte("null")) {
		t.Fatalf("accepted a JSON value that is not an object: %q", body)
	}
	var v signupJSON
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("accepted a body that json.Unmarshal refuses (%v): %q", err, body)
	}
	for _, s := range append([]string{v.Email, v.Name, v.Source, v.Website}, v.Newsletters...) {
		if !utf8.ValidString(s) {
			t.Fatalf("decoded invalid UTF-8 %q", s)
		}
	}
	return subscribers.SignupRequest{Email: v.Email, Newsletters: v.Newsletters, Name: v.Name,
		Honeypot: v.Website, Meta: subscribers.RequestMeta{Source: v.Source}}
}

// referenceForm parses body with url.ParseQuery, which must accept it.
func referenceForm(t *testing.T, body []byte) subscribers.SignupRequest {
	t.Helper()
	q, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("accepted a form that url.ParseQuery refuses (%v): %q", err, body)
	}
	return fromValues(q)
}

// referenceMultipart reads the fields (not files) of a multipart body.
func referenceMultipart(t *testing.T, body []byte) subscribers.SignupRequest {
	t.Helper()
	q := url.Values{}
	r := multipart.NewReader(bytes.NewReader(body), fuzzBoundary)
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return fromValues(q)
		}
		if err != nil {
			t.Fatalf("accepted a multipart body that multipart.Reader refuses (%v): %q", err, body)
		}
		v, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("accepted a multipart body whose part %q does not read (%v): %q", p.FormName(), err, body)
		}
		if name := p.FormName(); name != "" && p.FileName() == "" {
			q[name] = append(q[name], string(v))
		}
	}
}

func fromValues(q url.Values) subscribers.SignupRequest {
	var email string
	if vs := q["email"]; len(vs) > 0 {
		email = vs[len(vs)-1] // the last: a suggested address's button follows the field
	}
	return subscribers.SignupRequest{Email: email, Newsletters: slices.Concat(q["newsletter"], q["newsletters"]),
		Name: q.Get("name"), Honeypot: q.Get("website"), Meta: subscribers.RequestMeta{Source: q.Get("source")}}
}
