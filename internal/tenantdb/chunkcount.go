package tenantdb

import (
	"context"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// headChunkBytes is what a head chunk counts towards a query's bytes: the
// size of a full 120-sample XOR chunk of typical data. The head's chunk
// sizes are not in its index, and reading them would cost what the query
// limit is there to bound.
const headChunkBytes = 192

// CountChunks counts the chunks a selection of ws over [mint, maxt] would
// read, and their bytes, from the index alone: postings and chunk metadata,
// no chunk data. A block's chunks count the block's average chunk size;
// the head's, headChunkBytes. This is what query limits on chunks and
// bytes are checked against before the selection is read, without reading
// it twice.
func (m *Manager) CountChunks(ctx context.Context, ws string, mint, maxt int64, matchers ...*labels.Matcher) (int64, int64, error) {
	db, err := m.DB(ws)
	if err != nil {
		return 0, 0, err
	}
	var n, bytes int64
	var b labels.ScratchBuilder
	var metas []chunks.Meta
	err = eachIndex(db, mint, maxt, nil, func(ir tsdb.IndexReader, block *tsdb.Block) error {
		perChunk := int64(headChunkBytes)
		if block != nil {
			if c := block.Meta().Stats.NumChunks; c > 0 {
				perChunk = block.Size() / int64(c)
			}
		}
		p, err := tsdb.PostingsForMatchers(ctx, ir, matchers...)
		if err != nil {
			return err
		}
		for p.Next() {
			metas = metas[:0]
			if err := ir.Series(p.At(), &b, &metas); err != nil {
				return err
			}
			for _, c := range metas {
				if c.MaxTime >= mint && c.MinTime <= maxt {
					n++
					bytes += perChunk
				}
			}
		}
		return p.Err()
	})
	if err != nil {
		return 0, 0, err
	}
	return n, bytes, nil
}

// CountSeries counts the series a selection of ws over [mint, maxt]
// matches, from the postings alone, stopping at upTo: what decides
// whether a query is big enough to shard. A series in several blocks
// counts once per block.
func (m *Manager) CountSeries(ctx context.Context, ws string, mint, maxt int64, upTo int, matchers ...*labels.Matcher) (int, error) {
	db, err := m.DB(ws)
	if err != nil {
		return 0, err
	}
	n := 0
	err = eachIndex(db, mint, maxt, func() bool { return n >= upTo }, func(ir tsdb.IndexReader, _ *tsdb.Block) error {
		p, err := tsdb.PostingsForMatchers(ctx, ir, matchers...)
		if err != nil {
			return err
		}
		for n < upTo && p.Next() {
			n++
		}
		return p.Err()
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// CountLabelValues estimates how many values label name has in ws over
// [mint, maxt], stopping at upTo: how many groups an aggregation by that
// label makes. It is the most values the head or any one block holds,
// each read unsorted from its own index: a value in several blocks counts
// once, and values that churn from block to block are undercounted (the
// estimate decides whether a query is sharded, never what it answers).
func (m *Manager) CountLabelValues(ctx context.Context, ws string, mint, maxt int64, name string, upTo int) (int, error) {
	db, err := m.DB(ws)
	if err != nil {
		return 0, err
	}
	hints := &storage.LabelHints{Limit: upTo}
	most := 0
	err = eachIndex(db, mint, maxt, func() bool { return most >= upTo }, func(ir tsdb.IndexReader, _ *tsdb.Block) error {
		vals, err := ir.LabelValues(ctx, name, hints)
		most = max(most, min(len(vals), upTo))
		return err
	})
	if err != nil {
		return 0, err
	}
	return most, nil
}

// eachIndex calls f with the index of db's head (block nil) and of each
// of its blocks that overlaps [mint, maxt], until f fails or done (when
// set) is true. A block closing meanwhile (compaction, retention) is
// skipped.
func eachIndex(db *tsdb.DB, mint, maxt int64, done func() bool, f func(ir tsdb.IndexReader, block *tsdb.Block) error) error {
	call := func(ir tsdb.IndexReader, block *tsdb.Block) error {
		defer ir.Close()
		return f(ir, block)
	}
	if h := db.Head(); h.MaxTime() >= mint && h.MinTime() <= maxt {
		ir, err := tsdb.NewRangeHead(h, mint, maxt).Index()
		if err != nil {
			return err
		}
		if err := call(ir, nil); err != nil {
			return err
		}
	}
	for _, b := range db.Blocks() {
		if done != nil && done() {
			return nil
		}
		if meta := b.Meta(); meta.MaxTime <= mint || meta.MinTime > maxt {
			continue
		}
		ir, err := b.Index()
		if err != nil {
			continue
		}
		if err := call(ir, b); err != nil {
			return err
		}
	}
	return nil
}
