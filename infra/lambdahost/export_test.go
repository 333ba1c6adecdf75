package lambdahost

// Decide reports whether the next call of service gets a fault (tests of the draw).
func (f *Faults) Decide(service string) bool {
	_, ok := f.decide(service)
	return ok
}
