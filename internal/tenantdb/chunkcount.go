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
	count := func(ir tsdb.IndexReader, perChunk int64) error {
		defer ir.Close()
		p, err := tsdb.PostingsForMatchers(ctx, ir, matchers...)
		if err != nil {
			return err
		}
		var b labels.ScratchBuilder
		var metas []chunks.Meta
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
	}
	for _, b := range db.Blocks() {
		meta := b.Meta()
		if meta.MaxTime <= mint || meta.MinTime > maxt {
			continue
		}
		ir, err := b.Index()
		if err != nil {
			continue // closing: compaction or retention replaced it
		}
		avg := int64(headChunkBytes)
		if meta.Stats.NumChunks > 0 {
			avg = b.Size() / int64(meta.Stats.NumChunks)
		}
		if err := count(ir, avg); err != nil {
			return 0, 0, err
		}
	}
	h := db.Head()
	if h.MaxTime() >= mint && h.MinTime() <= maxt {
		ir, err := tsdb.NewRangeHead(h, mint, maxt).Index()
		if err != nil {
			return 0, 0, err
		}
		if err := count(ir, headChunkBytes); err != nil {
			return 0, 0, err
		}
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
	count := func(ir tsdb.IndexReader) error {
		defer ir.Close()
		p, err := tsdb.PostingsForMatchers(ctx, ir, matchers...)
		if err != nil {
			return err
		}
		for n < upTo && p.Next() {
			n++
		}
		return p.Err()
	}
	h := db.Head()
	if h.MaxTime() >= mint && h.MinTime() <= maxt {
		ir, err := tsdb.NewRangeHead(h, mint, maxt).Index()
		if err != nil {
			return 0, err
		}
		if err := count(ir); err != nil {
			return 0, err
		}
	}
	for _, b := range db.Blocks() {
		if n >= upTo {
			break
		}
		meta := b.Meta()
		if meta.MaxTime <= mint || meta.MinTime > maxt {
			continue
		}
		ir, err := b.Index()
		if err != nil {
			continue // closing: compaction or retention replaced it
		}
		if err := count(ir); err != nil {
			return 0, err
		}
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
	count := func(ir tsdb.IndexReader) error {
		defer ir.Close()
		vals, err := ir.LabelValues(ctx, name, hints)
		most = max(most, min(len(vals), upTo))
		return err
	}
	h := db.Head()
	if h.MaxTime() >= mint && h.MinTime() <= maxt {
		ir, err := tsdb.NewRangeHead(h, mint, maxt).Index()
		if err != nil {
			return 0, err
		}
		if err := count(ir); err != nil {
			return 0, err
		}
	}
	for _, b := range db.Blocks() {
		if most >= upTo {
			break
		}
		meta := b.Meta()
		if meta.MaxTime <= mint || meta.MinTime > maxt {
			continue
		}
		ir, err := b.Index()
		if err != nil {
			continue // closing: compaction or retention replaced it
		}
		if err := count(ir); err != nil {
			return 0, err
		}
	}
	return most, nil
}
