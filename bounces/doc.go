// Package bounces owns what comes back after a message left: delivery
// status notifications (RFC 3464), complaint reports (ARF, RFC 5965) and
// mailto unsubscribes, received by an inbound SMTP listener at the bounce
// and unsubscribe addresses, and the signed per-recipient tags (VERP) in
// those addresses that tell whom a report is about. It turns each into a
// subscribers.Report or an unsubscribe; mail it cannot attribute is
// counted and logged, never acted on.
package bounces
