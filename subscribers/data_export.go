package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// DataExport is everything the service holds about one address, for a
// reader's data-access request.
type DataExport struct {
	Subscriber  *Subscriber  `json:"subscriber,omitempty"`
	Suppression *Suppression `json:"suppression,omitempty"`
}

// ExportAddress returns everything held about the address email: the
// subscriber with its subscriptions and consent records, and its
// suppression record. An address the service holds nothing about is
// not_found.
func (s *Service) ExportAddress(ctx context.Context, email string) (*DataExport, error) {
	addr, err := NormalizeAddress(email)
	if err != nil {
		return nil, errNotFound
	}
	var out DataExport
	if out.Subscriber, err = s.Lookup(ctx, addr); err != nil && !errors.Is(err, errNotFound) {
		return nil, err
	}
	if out.Suppression, err = s.Store.suppression(ctx, addr); err != nil {
		return nil, fmt.Errorf("subscribers: export address: %w", err)
	}
	if out.Subscriber == nil && out.Suppression == nil {
		return nil, errNotFound
	}
	return &out, nil
}

// suppression returns the suppression record of addr, or nil.
func (s *Store) suppression(ctx context.Context, addr string) (*Suppression, error) {
	raw, err := s.rdb.HGet(ctx, keySuppressed(PartitionOf(addr)), MailboxKey(addr)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var rec Suppression
	return &rec, json.Unmarshal(raw, &rec)
}
