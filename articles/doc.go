// Package articles owns the stories that newsletters are made of: the
// Article, its ingest rules (normalization and validation of what editors
// post and what feeds carry), the Redis store that files each article under
// its newsletters by publication time, and the Poller that turns new feed
// items into articles.
package articles
