package main

import (
	"encoding/json"
	"strings"
)

// The writes each index partition key of the table takes, counted from the mailbox items the
// host writes: a mailbox is always written whole (a PutItem, or a Put in a transaction), so
// each write shows its index keys. GSI1 and GSI2 project ALL: every write of the item is a
// write of its index entry, and a changed index key is two (a delete under the old key, a put
// under the new one). GSI3 projects KEYS_ONLY: only a key that appears, changes or goes writes.

// Counter keys (hostCounter.n).
const (
	mailboxItemWrites = "items:mailbox"        // writes of mailbox items
	mailboxItemBytes  = "bytes:mailbox"        // their size, summed (itemBytes)
	mailboxWriteUnits = "wcu:mailbox"          // their write units (1 KB each, rounded up), summed
	gsiWritesPrefix   = "gsi:"                 // + index and key kind: "gsi:GSI1 STATE#ABILITATA"
	gsi2Mailboxes     = "gsi:GSI2 MAILBOXES"   // every mailbox of an Order: ORDER#<id>#MAILBOXES
	gsi1StatePrefix   = "gsi:GSI1 STATE#"      // an Order's mailboxes in one state
	gsi3Prefix        = "gsi:GSI3 "            // OPEN#<seq> or EXPIRY
	gsiChanges        = "gsi:GSI1 key changes" // of which deletes under an old key
)

// indexKeys are a mailbox item's index keys as last written.
type indexKeys struct{ gsi1, gsi3 string }

// indexWrites counts the index writes of the mailbox items a write request's body puts. c.mu
// must be held.
func (c *hostCounter) indexWrites(body []byte) {
	var in struct {
		Item          map[string]json.RawMessage
		TransactItems []struct {
			Put *struct{ Item map[string]json.RawMessage }
		}
	}
	if json.Unmarshal(body, &in) != nil {
		return
	}
	items := []map[string]json.RawMessage{in.Item}
	for _, t := range in.TransactItems {
		if t.Put != nil {
			items = append(items, t.Put.Item)
		}
	}
	for _, it := range items {
		pk := attrS(it["PK"])
		if !strings.HasPrefix(pk, "MAILBOX#") {
			continue
		}
		if c.keys == nil {
			c.keys = map[string]indexKeys{}
		}
		size := itemBytes(it)
		c.n[mailboxItemWrites]++
		c.n[mailboxItemBytes] += size
		c.n[mailboxWriteUnits] += (size + 1023) / 1024
		now := indexKeys{gsi1: stateKey(attrS(it["GSI1PK"])), gsi3: gsi3Kind(attrS(it["GSI3PK"])) + "|" + attrS(it["GSI3SK"])}
		old, seen := c.keys[pk]
		c.keys[pk] = now
		c.n[gsi2Mailboxes]++
		c.n[gsi1StatePrefix+now.gsi1]++
		if seen && old.gsi1 != now.gsi1 {
			c.n[gsi1StatePrefix+old.gsi1]++
			c.n[gsiChanges]++
		}
		if !seen || old.gsi3 != now.gsi3 {
			if seen && old.gsi3 != "|" {
				c.n[gsi3Prefix+strings.Split(old.gsi3, "|")[0]]++
			}
			if now.gsi3 != "|" {
				c.n[gsi3Prefix+strings.Split(now.gsi3, "|")[0]]++
			}
		}
	}
}

// stateKey is the state part of a GSI1 key, ORDER#<id>#STATE#<state>.
func stateKey(pk string) string {
	_, state, _ := strings.Cut(pk, "#STATE#")
	return state
}

// gsi3Kind is the kind of a GSI3 key, ORDER#<id>#OPEN#<seq> or ORDER#<id>#EXPIRY ("" if none).
func gsi3Kind(pk string) string {
	switch {
	case strings.Contains(pk, "#OPEN#"):
		return "OPEN"
	case strings.HasSuffix(pk, "#EXPIRY"):
		return "EXPIRY"
	}
	return ""
}

func attrS(raw json.RawMessage) string {
	var v struct{ S string }
	_ = json.Unmarshal(raw, &v)
	return v.S
}

// itemBytes is an item's size as DynamoDB counts it for capacity (itemSize), from its wire form.
func itemBytes(item map[string]json.RawMessage) int {
	n := 0
	for k, raw := range item {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			n += len(k) + wireValueSize(v)
		}
	}
	return n
}

// wireValueSize sizes one attribute value in DynamoDB's JSON ({"S": ...}, {"L": [...]}, ...).
func wireValueSize(v any) int {
	m, ok := v.(map[string]any)
	if !ok {
		return 0
	}
	for typ, x := range m {
		switch typ {
		case "S":
			s, _ := x.(string)
			return len(s)
		case "N":
			s, _ := x.(string)
			return (len(s)+1)/2 + 1
		case "BOOL", "NULL":
			return 1
		case "L":
			l, _ := x.([]any)
			n := 3
			for _, e := range l {
				n += 1 + wireValueSize(e)
			}
			return n
		case "M":
			mm, _ := x.(map[string]any)
			n := 3
			for k, e := range mm {
				n += 1 + len(k) + wireValueSize(e)
			}
			return n
		}
	}
	return 0
}
