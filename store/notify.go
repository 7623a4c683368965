package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// deliveriesChannel is the PostgreSQL notification channel that tells
// delivery workers that deliveries were enqueued.
const deliveriesChannel = "feedbackbot_deliveries"

// notifyEnqueued, on PostgreSQL, notifies deliveriesChannel when tx
// commits (NOTIFY is transactional), so that workers in other processes
// claim the new deliveries at once instead of at their next poll. SQLite
// has no such thing: workers there poll.
func notifyEnqueued(ctx context.Context, tx *sqlx.Tx) error {
	if tx.DriverName() != "postgres" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, '')`, deliveriesChannel); err != nil {
		return fmt.Errorf("notify deliveries: %w", err)
	}
	return nil
}

// DeliveriesEnqueued (bot.DeliveryWaker) returns a channel that receives a
// value soon after any process enqueues deliveries in this database, until
// ctx ends: PostgreSQL LISTEN on its own connection, which reconnects by
// itself; a value is also sent after a reconnection, as notifications may
// have been missed meanwhile. It is a hint: the worker still polls, so a
// listener that is down (the database unreachable) only delays claims to
// the next poll. nil on SQLite.
func (s *DB) DeliveriesEnqueued(ctx context.Context) <-chan struct{} {
	if s.dialect != DialectPostgres || s.dsn == "" {
		return nil
	}
	l := pq.NewDialListener(&pgDialer{}, s.dsn, 100*time.Millisecond, 10*time.Second, nil)
	out := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		_ = l.Close() // also ends a Listen still waiting for a connection
	}()
	go func() {
		// Listen waits for the first connection; the listener keeps
		// reconnecting, and listening again, by itself.
		if err := l.Listen(deliveriesChannel); err != nil && ctx.Err() == nil {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-l.Notify: // a notification, or nil after a reconnection
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}
