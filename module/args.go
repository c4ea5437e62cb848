package module

import "time"

// Args are a task's arguments after validation and templating. Values have the Go
// type of their declared ArgType: string, int, float64, bool, time.Duration,
// []string or map[string]any. Defaults are filled in before Run is called.
type Args map[string]any

// Has reports whether the argument was given or has a default.
func (a Args) Has(name string) bool {
	_, ok := a[name]
	return ok
}

// String returns a string argument, or "" when absent.
func (a Args) String(name string) string {
	s, _ := a[name].(string)
	return s
}

// Int returns an int argument, or 0 when absent.
func (a Args) Int(name string) int {
	n, _ := a[name].(int)
	return n
}

// Float returns a float argument, or 0 when absent.
func (a Args) Float(name string) float64 {
	switch v := a[name].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	}
	return 0
}

// Bool returns a bool argument, or false when absent.
func (a Args) Bool(name string) bool {
	b, _ := a[name].(bool)
	return b
}

// Duration returns a duration argument, or 0 when absent.
func (a Args) Duration(name string) time.Duration {
	d, _ := a[name].(time.Duration)
	return d
}

// Strings returns a list argument, or nil when absent.
func (a Args) Strings(name string) []string {
	l, _ := a[name].([]string)
	return l
}

// Map returns a map argument, or nil when absent.
func (a Args) Map(name string) map[string]any {
	m, _ := a[name].(map[string]any)
	return m
}
