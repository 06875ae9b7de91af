package main

import (
	"errors"
	"net"

	"newsletter/bounces"
	"newsletter/subscribers"
)

// inboundListener is the running inbound SMTP listener.
type inboundListener struct {
	ln     net.Listener
	served chan error
}

// startInbound starts the inbound SMTP listener for bounces, complaints
// and mailto unsubscribes: always in mode inbound (which needs both
// variables), in mode run when NEWSLETTER_INBOUND_ADDR is set.
func (m *Main) startInbound(mode Mode, svc *subscribers.Service) error {
	if mode != ModeInbound && (mode != ModeAll || m.Config.InboundAddr == "") {
		return nil
	}
	if m.Config.InboundAddr == "" {
		return &ConfigError{"NEWSLETTER_INBOUND_ADDR", "required by newsletter inbound (the listen address, such as :2525)"}
	}
	if m.Config.BounceAddress == "" {
		return &ConfigError{"NEWSLETTER_BOUNCE_ADDRESS", "required with NEWSLETTER_INBOUND_ADDR: the listener takes mail for its domain"}
	}
	addrs, err := bounces.NewAddresses(m.Config.BounceAddress, m.Config.Secrets)
	if err != nil {
		return &ConfigError{"NEWSLETTER_BOUNCE_ADDRESS", err.Error()}
	}
	ln, err := net.Listen("tcp", m.Config.InboundAddr)
	if err != nil {
		return &ConfigError{"NEWSLETTER_INBOUND_ADDR", err.Error()}
	}
	li := &bounces.Listener{Addresses: addrs, Subscribers: svc, Metrics: m.metrics, Logger: m.Logger, Digests: m.parts.digests}
	m.inbound = &inboundListener{ln: ln, served: make(chan error, 1)}
	go func() { m.inbound.served <- li.Serve(ln) }()
	m.Logger.Info("Inbound SMTP listener listening", "addr", ln.Addr().String(), "domain", addrs.Domain())
	return nil
}

// close stops the listener and returns why it stopped, if not by close.
func (l *inboundListener) close() error {
	err := l.ln.Close()
	if serr := <-l.served; serr != nil {
		return serr
	}
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
