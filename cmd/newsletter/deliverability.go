package main

import "strings"

// maxPostalAddress is the longest NEWSLETTER_POSTAL_ADDRESS, as long as a
// newsletter's own postal_address may be.
const maxPostalAddress = 500

// warnDeliverability logs, outside dev mode, what makes inboxes distrust
// the service's email: no postal address for the footer of digests and
// welcome emails (CAN-SPAM and the bulk senders' rules of Gmail and Yahoo
// ask for one), and a base URL without TLS, whose one-click unsubscribe
// links (RFC 8058) mailbox providers do not follow.
func (m *Main) warnDeliverability() {
	if m.Config.DevMode() {
		return
	}
	if m.Config.PostalAddress == "" {
		m.Logger.Warn("NEWSLETTER_POSTAL_ADDRESS is unset: digests and welcome emails carry no postal address, which bulk mail must show; set it, or postal_address on each newsletter")
	}
	if strings.HasPrefix(strings.ToLower(m.Config.BaseURL), "http://") {
		m.Logger.Warn("NEWSLETTER_BASE_URL is http://: one-click unsubscribe (RFC 8058) needs an https:// link, so inboxes may not offer it", "base_url", m.Config.BaseURL)
	}
}
