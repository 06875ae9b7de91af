package newsletter

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the HTTP request that started
// the work, so that tasks it queues log the same id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
