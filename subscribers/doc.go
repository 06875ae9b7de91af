// Package subscribers owns newsletters' readers: newsletter definitions, the
// subscriber and its per-newsletter status (pending, confirmed,
// unsubscribed), consent records, address validation, confirmation tokens,
// their Redis store, the limits on confirmation emails, and the service
// methods Subscribe, Confirm, NotMe, Unsubscribe, PurgeUnconfirmed, Lookup
// and Erase.
package subscribers
