package registration

// SetClientLimit lowers the registration limit for a test; the returned function restores it.
func SetClientLimit(n int) (restore func()) {
	old := clientLimit
	clientLimit = n
	return func() { clientLimit = old }
}
