package metrics

// ObserveClick counts one click on a digest link of newsletter nl with
// its outcome: "counted", or why it was not ("test", "agent", "burst",
// "scanner", "limited", "folded", "invalid" with nl ""). Per-article numbers are in the API,
// not here, so that the labels stay few.
func (m *Metrics) ObserveClick(nl, outcome string) {
	if m == nil {
		return
	}
	m.Clicks.WithLabelValues(nl, outcome).Inc()
}

// ObserveOpen counts one load of a digest's open pixel, as ObserveClick.
func (m *Metrics) ObserveOpen(nl, outcome string) {
	if m == nil {
		return
	}
	m.Opens.WithLabelValues(nl, outcome).Inc()
}
