package digests

import "strings"

// scannerAgents are parts of the user agents of programs that follow the
// links of a message without a reader: crawlers, link previews of chat
// apps and mail security scanners, and plain HTTP libraries. A user agent
// that holds one (in any case), or none at all, is never counted. "bot"
// alone is matched as a name's end (botAgent), not anywhere: phones
// such as the CUBOT carry it in their model.
var scannerAgents = []string{
	"crawl", "spider", "slurp", "preview", "scan", "fetcher", "monitor",
	"facebookexternalhit", "slackbot", "discordbot", "telegrambot", "twitterbot", "linkedinbot", "whatsapp", "linkexpanding",
	"barracuda", "proofpoint", "mimecast", "safelinks", "trendmicro", "symantec", "forcepoint", "sophos",
	"curl/", "wget/", "python-", "go-http-client", "java/", "okhttp", "libwww", "httpclient", "headless",
}

// ScannerAgent reports whether user agent ua is one of a program that
// follows links by itself (scannerAgents, botAgent), or is empty. Only
// its first maxAgentBytes bytes are looked at.
func ScannerAgent(ua string) bool {
	ua = strings.ToLower(strings.TrimSpace(agent(ua)))
	if ua == "" {
		return true
	}
	for _, s := range scannerAgents {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return botAgent(ua)
}

// botAgent reports whether lower-case user agent ua names a bot: "bot"
// at the end of a name and followed by '/', '-' or the end
// ("Googlebot/2.1", "Slackbot-LinkExpanding"), or as a word of its own
// ("(compatible; bot)"); not a phone model such as "CUBOT P40" or "CUBOT;".
func botAgent(ua string) bool {
	for at := 0; ; {
		i := strings.Index(ua[at:], "bot")
		if i < 0 {
			return false
		}
		i += at
		end := i + len("bot")
		if end == len(ua) || ua[end] == '/' || ua[end] == '-' || ((i == 0 || !isLetter(ua[i-1])) && !isLetter(ua[end])) {
			return true
		}
		at = end
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' }
