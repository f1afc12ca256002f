package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// member is one key/value pair of a JSON object, in document order.
type member struct {
	key string
	val json.RawMessage
}

// decodeDocument checks that doc is exactly one JSON object and returns its
// members. Syntax errors are reported with a line and column.
func decodeDocument(doc []byte) ([]member, error) {
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf")) // tolerate a UTF-8 BOM
	dec := json.NewDecoder(bytes.NewReader(doc))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, jsonError(doc, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf("", "invalid JSON: unexpected data after the policy document")
	}
	if k := kindOf(raw); k != "object" {
		return nil, errorf("", "a policy document must be a JSON object, got %s", k)
	}
	return decodeObject(raw, "")
}

func jsonError(doc []byte, err error) error {
	if errors.Is(err, io.EOF) {
		return errorf("", "empty policy document")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf("", "invalid JSON: unexpected end of the document")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		// Offset counts the offending byte itself.
		for _, c := range doc[:max(0, min(int(se.Offset)-1, len(doc)))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return errorf("", "invalid JSON at line %d, column %d: %v", line, col, se)
	}
	return errorf("", "invalid JSON: %v", err)
}

// decodeObject returns the members of a JSON object (raw must be one), and
// rejects duplicate keys, which encoding/json would silently merge.
func decodeObject(raw []byte, path string) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, errorf(path, "invalid JSON: %v", err)
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errorf(path, "invalid JSON: %v", err)
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, errorf(path, "invalid JSON: %v", err)
		}
		if seen[key] {
			return nil, errorf(path, "duplicate key %q", key)
		}
		seen[key] = true
		out = append(out, member{key: key, val: val})
	}
	return out, nil
}

// decodeArray returns the elements of a JSON array (raw must be one).
func decodeArray(raw []byte, path string) ([][]byte, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, errorf(path, "invalid JSON: %v", err)
	}
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out, nil
}

// kindOf names the JSON type of a raw value, for messages and dispatch.
func kindOf(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// stringValue decodes a JSON string; what names the element for messages.
func stringValue(raw []byte, path, what string) (string, error) {
	var s string
	if kindOf(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		return "", errorf(path, "%s must be a string, got %s", what, kindOf(raw))
	}
	return s, nil
}

// stringList decodes a string or a non-empty array of strings, the form of
// Action, NotAction, Resource and NotResource.
func stringList(raw []byte, path, name string) ([]string, error) {
	switch kindOf(raw) {
	case "string":
		s, err := stringValue(raw, path, fmt.Sprintf("%q", name))
		return []string{s}, err
	case "array":
		elems, err := decodeArray(raw, path+"."+name)
		if err != nil {
			return nil, err
		}
		if len(elems) == 0 {
			return nil, errorf(path, "%q must not be empty", name)
		}
		out := make([]string, len(elems))
		for i, e := range elems {
			if out[i], err = stringValue(e, fmt.Sprintf("%s.%s[%d]", path, name, i), "each element"); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		return nil, errorf(path, "%q must be a string or an array of strings, got %s", name, kindOf(raw))
	}
}

// MarshalJSON encodes the normalized document. Parsing the result gives an
// equivalent policy.
func (p *Policy) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"Version":`)
	writeJSON(&b, p.Version)
	if p.ID != "" {
		b.WriteString(`,"Id":`)
		writeJSON(&b, p.ID)
	}
	b.WriteString(`,"Statement":[`)
	for i := range p.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		p.Statements[i].marshal(&b)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func (s *Statement) marshal(b *bytes.Buffer) {
	b.WriteByte('{')
	if s.Sid != "" {
		b.WriteString(`"Sid":`)
		writeJSON(b, s.Sid)
		b.WriteByte(',')
	}
	b.WriteString(`"Effect":`)
	writeJSON(b, s.Effect)
	if s.principal != nil {
		b.WriteString(`,"Principal":`)
		writeJSON(b, s.principal.marshal())
	}
	if s.notPrincipal != nil {
		b.WriteString(`,"NotPrincipal":`)
		writeJSON(b, s.notPrincipal.marshal())
	}
	list := func(name string, l []string) {
		if len(l) == 0 {
			return
		}
		b.WriteString(`,"` + name + `":`)
		if len(l) == 1 {
			writeJSON(b, l[0])
		} else {
			writeJSON(b, l)
		}
	}
	list("Action", s.Action)
	list("NotAction", s.NotAction)
	list("Resource", s.Resource)
	list("NotResource", s.NotResource)
	if len(s.Conditions) > 0 {
		block := map[string]map[string][]string{}
		for _, c := range s.Conditions {
			if block[c.Operator] == nil {
				block[c.Operator] = map[string][]string{}
			}
			block[c.Operator][c.Key] = c.Values
		}
		b.WriteString(`,"Condition":`)
		writeJSON(b, block) // maps are written with sorted keys
	}
	b.WriteByte('}')
}

func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false) // keep "<account>" readable
	_ = enc.Encode(v)        // strings, slices and maps of strings cannot fail
	b.Truncate(b.Len() - 1)  // Encode appends a newline
}

// String returns the normalized document as indented JSON.
func (p *Policy) String() string {
	compact, _ := p.MarshalJSON()
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return string(compact)
	}
	return b.String()
}
