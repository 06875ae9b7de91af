package api

import "testing"

// TestSNSHost: the default certificate host check passes SNS's regional
// endpoints only, on the default port.
func TestSNSHost(t *testing.T) {
	for host, want := range map[string]bool{
		"sns.us-east-1.amazonaws.com":          true,
		"sns.eu-west-1.amazonaws.com":          true,
		"sns.cn-north-1.amazonaws.com.cn":      true,
		"sns.us-gov-west-1.amazonaws.com":      true,
		"sns.us-east-1.amazonaws.com:8443":     false,
		"sns.amazonaws.com":                    false,
		"sns..amazonaws.com":                   false,
		"sns.evil.com":                         false,
		"sns.us-east-1.amazonaws.com.evil.io":  false,
		"evil.sns.us-east-1.amazonaws.com":     false,
		"sns.us-east-1.evil.com/amazonaws.com": false,
		"sns.x.y.amazonaws.com":                false,
		"SNS.US-EAST-1.AMAZONAWS.COM":          false,
		"127.0.0.1":                            false,
	} {
		if got := snsHost(host); got != want {
			t.Errorf("snsHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestNewsletterFromListID: the newsletter id is the first label of the
// List-Id, when it is a valid id.
func TestNewsletterFromListID(t *testing.T) {
	for v, want := range map[string]string{
		`"Daily Brief" <daily.example.org>`: "daily",
		`<weekly-review.news.example.org>`:  "weekly-review",
		`daily.example.org`:                 "daily",
		`"A <b> c" <morning.example.org>`:   "morning",
		`<Daily.example.org>`:               "",
		`<>`:                                "",
		``:                                  "",
	} {
		if got := newsletterFromListID(v); got != want {
			t.Errorf("newsletterFromListID(%q) = %q, want %q", v, got, want)
		}
	}
}
