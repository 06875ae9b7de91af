package digests

import "strings"

// scannerAgents are parts of the user agents of programs that follow the
// links of a message without a reader: crawlers, link previews of chat
// apps and mail security scanners, and plain HTTP libraries. A user agent
// that holds one (in any case), or none at all, is never counted.
var scannerAgents = []string{
	"bot", "crawl", "spider", "slurp", "preview", "scan", "fetcher", "monitor",
	"barracuda", "proofpoint", "mimecast", "safelinks", "trendmicro", "symantec", "forcepoint", "sophos",
	"curl/", "wget/", "python-", "go-http-client", "java/", "okhttp", "libwww", "httpclient", "headless",
}

// ScannerAgent reports whether user agent ua is one of a program that
// follows links by itself (scannerAgents), or is empty.
func ScannerAgent(ua string) bool {
	ua = strings.ToLower(strings.TrimSpace(ua))
	if ua == "" {
		return true
	}
	for _, s := range scannerAgents {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}
