package metastore

import (
	"context"
	"sort"
)

// Tags returns the tags of a resource (an empty map when it has none).
func (q *Queries) Tags(ctx context.Context, arn string) (map[string]string, error) {
	rows, err := q.query(ctx, `SELECT tag_key, tag_value FROM tags WHERE resource_arn = ?`, arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// SetTags adds or overwrites tags on a resource.
func (q *Queries) SetTags(ctx context.Context, arn string, tags map[string]string) error {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := q.exec(ctx, `INSERT INTO tags (resource_arn, tag_key, tag_value) VALUES (?, ?, ?)
			ON CONFLICT (resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, arn, k, tags[k]); err != nil {
			return err
		}
	}
	return nil
}

// RemoveTags deletes the given keys from a resource; missing keys are ignored.
func (q *Queries) RemoveTags(ctx context.Context, arn string, keys []string) error {
	for _, k := range keys {
		if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_arn = ? AND tag_key = ?`, arn, k); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTags removes every tag of the resource arn.
func (q *Queries) DeleteTags(ctx context.Context, arn string) error {
	_, err := q.exec(ctx, `DELETE FROM tags WHERE resource_arn = ?`, arn)
	return err
}

// DeleteTagsByPrefix removes the tags of every resource whose ARN starts
// with prefix (for example all rule-groups namespaces of a workspace).
func (q *Queries) DeleteTagsByPrefix(ctx context.Context, prefix string) error {
	_, err := q.exec(ctx, `DELETE FROM tags WHERE substr(resource_arn, 1, ?) = ?`, len(prefix), prefix)
	return err
}
