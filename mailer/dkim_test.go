package mailer_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

// writeKey writes key as PEM, PKCS#1 when pkcs1 (RSA only) and PKCS#8
// otherwise, into a temporary folder, and returns the file's path.
func writeKey(t *testing.T, key crypto.Signer, pkcs1 bool) string {
	t.Helper()
	block := &pem.Block{Type: "PRIVATE KEY"}
	if rk, ok := key.(*rsa.PrivateKey); ok && pkcs1 {
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block.Bytes = der
	}
	path := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// txtRecord returns the DNS TXT record that publishes pub.
func txtRecord(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	if pub, ok := pub.(ed25519.PublicKey); ok {
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
}

// mustDKIM returns a DKIM for example.org with selector "news" and a new
// RSA 2048 key, and the TXT record of its public key.
func mustDKIM(t *testing.T) (*mailer.DKIM, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	d, err := mailer.LoadDKIM("example.org", "news", writeKey(t, key, true))
	if err != nil {
		t.Fatalf("LoadDKIM: %v", err)
	}
	return d, txtRecord(t, key.Public())
}

// verify checks the DKIM signatures of raw, looking up record for
// news._domainkey.example.org.
func verify(t *testing.T, raw []byte, record string) []*dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "news._domainkey.example.org" {
				return nil, fmt.Errorf("unexpected lookup of %s", domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return vs
}

// checkSigned checks that raw has exactly one signature, valid, by example.org.
func checkSigned(t *testing.T, raw []byte, record string) {
	t.Helper()
	vs := verify(t, raw, record)
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.org" {
		t.Fatalf("%d verification(s), first %+v; want one valid for example.org:\n%s", len(vs), vs, raw)
	}
}

// listMessage returns a message with the List-* header fields.
func listMessage(to string) *mailer.Message {
	m := newMessage(to)
	m.Subject = "Grüße aus Köln: a subject long enough to be folded by go-mail when it is encoded ☕"
	m.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	m.Headers["List-Id"] = "Daily Brief <daily.example.org>"
	return m
}

func TestDKIMOverSMTP(t *testing.T) {
	d, record := mustDKIM(t)
	srv := mailtest.MustStart(t)
	cfg := mustConfig(t, srv)
	cfg.DKIM = d
	s := mailer.NewSMTP(cfg)
	defer s.Close()
	if err := s.Send(context.Background(), listMessage("ann@example.net")); err != nil {
		t.Fatal(err)
	}
	raw := srv.WaitFor(t, 1, wait)[0].Data
	checkSigned(t, raw, record)

	for name, edit := range map[string]func([]byte) []byte{
		"a byte of the body": func(b []byte) []byte { return bytes.Replace(b, []byte("Hello in text"), []byte("Jello in text"), 1) },
		"List-Unsubscribe":   func(b []byte) []byte { return bytes.Replace(b, []byte("/u/abc>"), []byte("/u/abd>"), 1) },
		"List-Id": func(b []byte) []byte {
			return bytes.Replace(b, []byte("<daily.example.org>"), []byte("<other.example.org>"), 1)
		},
	} {
		altered := edit(bytes.Clone(raw))
		if bytes.Equal(altered, raw) {
			t.Fatalf("%s: nothing altered", name)
		}
		if vs := verify(t, altered, record); len(vs) != 1 || vs[0].Err == nil {
			t.Errorf("altered %s: the signature still verifies", name)
		}
	}
}

// signedFields returns the h= tag of raw's DKIM-Signature.
func signedFields(t *testing.T, raw []byte) string {
	t.Helper()
	r := mailtest.Received{Data: raw}
	for tag := range strings.SplitSeq(r.Header("DKIM-Signature"), ";") {
		if name, value, _ := strings.Cut(strings.TrimSpace(tag), "="); name == "h" {
			return strings.Join(strings.Fields(value), "")
		}
	}
	t.Fatalf("no h= tag in %q", r.Header("DKIM-Signature"))
	return ""
}

func TestDKIMSignsListUnsubscribe(t *testing.T) {
	d, record := mustDKIM(t)
	m := newMessage("ann@example.net") // List-Unsubscribe only
	m.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	raw, err := mailer.Bytes(m, mailer.WithDKIM(d))
	if err != nil {
		t.Fatal(err)
	}
	checkSigned(t, raw, record)
	want := "From:From:To:To:Subject:Subject:Date:Date:Message-ID:Message-ID:MIME-Version:Content-Type:" +
		"List-Unsubscribe:List-Unsubscribe:List-Unsubscribe-Post:List-Unsubscribe-Post:List-Id"
	if got := signedFields(t, raw); got != want {
		t.Fatalf("h=%s, want h=%s", got, want)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("a line of %d characters", len(line))
		}
	}
}

func TestDKIMOverPool(t *testing.T) {
	d, record := mustDKIM(t)
	srv := mailtest.MustStart(t)
	cfg := mustConfig(t, srv)
	cfg.DKIM = d
	p := newPool(t, cfg, 4)
	for _, err := range sendAll(p, 4, 40, sendOnce) {
		t.Error(err)
	}
	for _, r := range srv.WaitFor(t, 40, wait) {
		checkSigned(t, r.Data, record)
	}
}

func TestDKIMOutbox(t *testing.T) {
	d, record := mustDKIM(t)
	dir := t.TempDir()
	o := mailer.NewOutbox(dir)
	o.DKIM = d
	if err := o.Send(context.Background(), listMessage("ann@example.net")); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) != 1 {
		t.Fatalf("%d files (%v), want 1", len(files), err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	checkSigned(t, raw, record)
}

func TestDKIMKeyFormats(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		key   crypto.Signer
		pkcs1 bool
	}{{"RSA PKCS#1", rsaKey, true}, {"RSA PKCS#8", rsaKey, false}, {"Ed25519 PKCS#8", edKey, false}} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := mailer.LoadDKIM("example.org", "news", writeKey(t, tc.key, tc.pkcs1))
			if err != nil {
				t.Fatalf("LoadDKIM: %v", err)
			}
			raw, err := mailer.Bytes(listMessage("ann@example.net"), mailer.WithDKIM(d))
			if err != nil {
				t.Fatal(err)
			}
			checkSigned(t, raw, txtRecord(t, tc.key.Public()))
		})
	}
}

func TestLoadDKIMErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(edPub)
	good := writeKey(t, ecKey, false) // a valid PEM file, but of a key DKIM cannot use
	for _, tc := range []struct {
		name, domain, selector, file, want string
	}{
		{"missing file", "example.org", "news", filepath.Join(dir, "nope.pem"), "no such file"},
		{"empty file", "example.org", "news", write("empty.pem", ""), "no valid PEM data"},
		{"not PEM", "example.org", "news", write("text.pem", "hello"), "no valid PEM data"},
		{"public key", "example.org", "news", write("pub.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))), `unsupported PEM block type "PUBLIC KEY"`},
		{"garbled key", "example.org", "news", write("bad.pem", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), "want a PEM RSA or Ed25519 private key"},
		{"ECDSA key", "example.org", "news", good, "unsupported key type"},
		{"empty domain", "", "news", good, "invalid domain"},
		{"selector with a space", "example.org", "news 2", good, "invalid selector"},
		{"domain with a semicolon", "example.org;x=1", "news", good, "invalid domain"},
	} {
		d, err := mailer.LoadDKIM(tc.domain, tc.selector, tc.file)
		if err == nil || d != nil || !strings.HasPrefix(err.Error(), "mailer: dkim") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadDKIM = %v, %v; want an error containing %q", tc.name, d, err, tc.want)
		}
	}
}
