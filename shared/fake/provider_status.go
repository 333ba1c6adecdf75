package fake

import (
	"context"

	"github.com/pecplatform/pec/shared/app"
)

var (
	_ app.ProviderStatusReader = (*Provider)(nil)
	_ app.AddressChecker       = (*Provider)(nil)
)

// SetStatus makes Status report st for the mailbox with this address (pending until set).
func (p *Provider) SetStatus(address string, st app.ProviderStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.statuses == nil {
		p.statuses = map[string]app.ProviderStatus{}
	}
	p.statuses[address] = st
}

// Status implements app.ProviderStatusReader (fault point "Status").
func (p *Provider) Status(_ context.Context, mb app.ProviderMailbox) (app.ProviderStatus, error) {
	if err := p.check("Status"); err != nil {
		return app.ProviderStatus{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call("Status", mb.RequestID); err != nil {
		return app.ProviderStatus{}, err
	}
	return p.statuses[mb.Address], nil
}

// TakeOutside makes the address taken at the provider by someone outside the platform.
func (p *Provider) TakeOutside(address string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outside == nil {
		p.outside = map[string]bool{}
	}
	p.outside[address] = true
}

// AddressAvailable implements app.AddressChecker (fault point "AddressAvailable").
func (p *Provider) AddressAvailable(_ context.Context, address string, _ app.ProviderHolder) (bool, error) {
	if err := p.check("AddressAvailable"); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call("AddressAvailable", ""); err != nil {
		return false, err
	}
	return !p.outside[address], nil
}
