package app

import (
	"context"
	"errors"
	"time"

	"github.com/pecplatform/pec/shared/domain"
)

// The provider's links to a self-service request's documents. A pre-signed S3 link lives no
// longer than the credentials that signed it (a Lambda role's session: hours), so the provider
// gets instead a link to the platform's own route, an unguessable token valid for TTL (30 days
// by default), which answers each time with a fresh S3 link of a few minutes.

// DocumentLink is what an issued link opens.
type DocumentLink struct {
	RequestID string
	Kind      domain.DocumentKind
	Key       string // the stored object
	ExpiresAt time.Time
}

// DocumentLinkStore keeps the issued links by the hash of their token.
type DocumentLinkStore interface {
	PutDocumentLink(ctx context.Context, hash string, l DocumentLink) error
	// GetDocumentLink fails with domain.ErrNotFound for a hash never issued (or long expired).
	GetDocumentLink(ctx context.Context, hash string) (*DocumentLink, error)
}

// DefaultDocumentLinkTTL is how long the provider's links work unless configured.
const DefaultDocumentLinkTTL = 30 * 24 * time.Hour

// freshLinkTTL is the life of the S3 link a document link answers with.
const freshLinkTTL = 5 * time.Minute

// ProviderDocumentLinks issues the provider's links.
type ProviderDocumentLinks struct {
	Store   DocumentLinkStore
	BaseURL string        // the API's public URL, e.g. https://pec.example.it
	TTL     time.Duration // DefaultDocumentLinkTTL when zero
	Now     func() time.Time
}

// Issue returns a new link to the document and when it stops working.
func (l *ProviderDocumentLinks) Issue(ctx context.Context, requestID string, kind domain.DocumentKind, key string) (string, time.Time, error) {
	ttl := l.TTL
	if ttl <= 0 {
		ttl = DefaultDocumentLinkTTL
	}
	raw, hash := newLinkToken()
	expires := utcNow(l.Now).Add(ttl)
	if err := l.Store.PutDocumentLink(ctx, hash, DocumentLink{RequestID: requestID, Kind: kind, Key: key, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, err
	}
	return l.BaseURL + "/v1/provider/documents/" + raw, expires, nil
}

// Errors of a document link: unknown (never issued, or malformed) and expired.
var (
	ErrDocumentLinkUnknown = &domain.Error{Kind: domain.KindNotFound, Code: "document_link_unknown", Message: "no such document link"}
	ErrDocumentLinkGone    = &domain.Error{Kind: domain.KindGone, Code: "document_link_expired", Message: "the document link has expired"}
)

// DocumentOpener answers a document link with a fresh, short-lived link to the object.
type DocumentOpener struct {
	Store DocumentLinkStore
	Files DocumentLinks
	Now   func() time.Time
}

// Open returns where the link's document can be downloaded now, for a few minutes.
func (o *DocumentOpener) Open(ctx context.Context, raw string) (string, error) {
	if !plausibleToken(raw) {
		return "", ErrDocumentLinkUnknown
	}
	l, err := o.Store.GetDocumentLink(ctx, HashLinkToken(raw))
	if errors.Is(err, domain.ErrNotFound) {
		return "", ErrDocumentLinkUnknown
	}
	if err != nil {
		return "", err
	}
	if !utcNow(o.Now).Before(l.ExpiresAt) {
		return "", ErrDocumentLinkGone
	}
	return o.Files.PresignGet(ctx, l.Key, freshLinkTTL)
}

// plausibleToken reports whether raw can be a token newLinkToken made (43 base64url
// characters), so that nothing else reaches the store.
func plausibleToken(raw string) bool {
	if len(raw) != 43 {
		return false
	}
	for _, r := range raw {
		if !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
