package metastore

import (
	"context"
	"math"
	"time"
)

// TakeRateToken takes one token from the named token bucket, which holds
// at most burst tokens and gains rate tokens a second, shared by every
// node of the database. ok says whether a token was taken; when not,
// wait is how long until one is there. Each step is one statement, so
// nodes taking at once never take more than the bucket holds.
func (q *Queries) TakeRateToken(ctx context.Context, name string, rate float64, burst int, now time.Time) (ok bool, wait time.Duration, err error) {
	at := millis(now)
	if _, err := q.exec(ctx, `INSERT INTO rate_buckets (name, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, float64(burst), at); err != nil {
		return false, 0, err
	}
	least, greatest := "MIN", "MAX"
	if q.dialect == Postgres {
		least, greatest = "LEAST", "GREATEST"
	}
	// The tokens now: what was left plus the refill since the last take
	// (none for a clock behind the last taker's), at most burst.
	refilled := least + `(CAST(? AS DOUBLE PRECISION), tokens + ` + greatest + `(0, CAST(? AS BIGINT) - updated_at) * CAST(? AS DOUBLE PRECISION) / 1000.0)`
	res, err := q.exec(ctx, `UPDATE rate_buckets SET tokens = `+refilled+` - 1, updated_at = `+greatest+`(updated_at, CAST(? AS BIGINT))
		WHERE name = ? AND `+refilled+` >= 1`,
		float64(burst), at, rate, at, name, float64(burst), at, rate)
	if err != nil {
		return false, 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, 0, err
	} else if n == 1 {
		return true, 0, nil
	}
	var tokens float64
	var updated int64
	if err := q.queryRow(ctx, `SELECT tokens, updated_at FROM rate_buckets WHERE name = ?`, name).Scan(&tokens, &updated); err != nil {
		return false, 0, mapErr(err)
	}
	if rate <= 0 {
		return false, time.Hour, nil
	}
	have := math.Min(float64(burst), tokens+math.Max(0, float64(at-updated))*rate/1000)
	return false, time.Duration((1 - have) / rate * float64(time.Second)), nil
}
