package journal

import (
	"reflect"
	"sort"
	"strings"
)

// Mask replaces every secret found in a journal string.
const Mask = "********"

// redactor masks known secret strings in every string a record holds, including
// map keys and strings inside slices and nested structs. The runner should never
// hand secrets to the journal; this is the second line of defence.
type redactor struct {
	replacer *strings.Replacer
}

func newRedactor(secrets []string) *redactor {
	// Longer secrets first, so that a secret containing another is masked whole.
	list := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			list = append(list, s)
		}
	}
	if len(list) == 0 {
		return &redactor{}
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })

	pairs := make([]string, 0, 2*len(list))
	for _, s := range list {
		pairs = append(pairs, s, Mask)
	}
	return &redactor{replacer: strings.NewReplacer(pairs...)}
}

// redact returns a copy of v with secrets masked; v itself is left untouched
// because callers may still hold the findings they appended.
func redact[T any](r *redactor, v T) T {
	if r.replacer == nil {
		return v
	}
	out := r.value(reflect.ValueOf(v))
	return out.Interface().(T)
}

func (r *redactor) value(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(r.replacer.Replace(v.String()))
		return out

	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if out.Field(i).CanSet() {
				out.Field(i).Set(r.value(v.Field(i)))
			}
		}
		return out

	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(r.value(v.Index(i)))
		}
		return out

	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(r.value(v.Index(i)))
		}
		return out

	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(r.value(iter.Key()), r.value(iter.Value()))
		}
		return out

	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(r.value(v.Elem()))
		return out

	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(r.value(v.Elem()))
		return out
	}
	return v
}
